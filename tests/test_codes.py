from pathlib import Path

import pytest

from backend import codes
from backend.codes import importer

CODELISTS = Path(__file__).parents[1].parent / "shared" / "standards" / "iati-2.03" / "codelists"


@pytest.mark.skipif(not CODELISTS.is_dir(), reason=f"no IATI code lists at {CODELISTS}")
@pytest.mark.parametrize("list_name", sorted(codes.LISTS))
def test_packaged_code_list_matches_the_standard(list_name: str) -> None:
    standard = importer.read_codelist(CODELISTS / f"{codes.LISTS[list_name]}.xml")

    packaged = codes.names(list_name)

    assert list(packaged.items()) == list(standard.items())


def test_currencies() -> None:
    assert codes.is_currency("USD")
    assert not codes.is_currency("XYZ")


def test_sdg_targets() -> None:
    assert codes.is_sdg_target("4.1")
    assert not codes.is_sdg_target("4.99")


def test_organisation_types() -> None:
    assert codes.is_organisation_type("70")


def test_earmarking_categories_are_one_to_four() -> None:
    assert sorted(codes.names("earmarking_categories")) == ["1", "2", "3", "4"]
    assert codes.is_earmarking_category("4")
    assert not codes.is_earmarking_category("5")
