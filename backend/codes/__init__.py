"""The official code lists the hub validates against (IATI 2.03 and UNSDG).

The JSON files are copied from the IATI code lists (see `importer.py`); only codes that
are not withdrawn are kept, so a withdrawn currency or country is refused on input.
"""

import json
from functools import cache
from importlib import resources

LISTS = {
    "organisation_types": "OrganisationType",
    "earmarking_categories": "EarmarkingCategory",
    "countries": "Country",
    "currencies": "Currency",
    "sdg_goals": "UNSDG-Goals",
    "sdg_targets": "UNSDG-Targets",
    "sectors": "Sector",
}


@cache
def names(list_name: str) -> dict[str, str]:
    """Code -> English name for one of LISTS."""
    text = resources.files(__package__).joinpath(f"{list_name}.json").read_text("utf-8")
    loaded: dict[str, str] = json.loads(text)
    return loaded


def is_organisation_type(code: str) -> bool:
    return code in names("organisation_types")


def is_earmarking_category(code: str) -> bool:
    return code in names("earmarking_categories")


def is_country(code: str) -> bool:
    return code in names("countries")


def is_currency(code: str) -> bool:
    return code in names("currencies")


def is_sdg_goal(code: str) -> bool:
    return code in names("sdg_goals")


def is_sdg_target(code: str) -> bool:
    return code in names("sdg_targets")


def is_sector(code: str) -> bool:
    """An OECD DAC 5-digit purpose code, e.g. 11220 Primary education."""
    return code in names("sectors")
