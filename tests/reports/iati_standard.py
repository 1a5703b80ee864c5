"""The IATI 2.03 standard as tests check files against it: the official schema and code
lists in ../shared/standards/iati-2.03 (next to the repository)."""

from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

STANDARD = Path(__file__).parents[2].parent / "shared" / "standards" / "iati-2.03"

requires_standard = pytest.mark.skipif(
    not STANDARD.is_dir(), reason=f"no IATI 2.03 standard at {STANDARD}"
)


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(STANDARD / "iati-activities-schema.xsd")))


@cache
def codelist(name: str) -> frozenset[str]:
    root = etree.parse(str(STANDARD / "codelists" / f"{name}.xml"))
    return frozenset(root.xpath("//codelist-item/code/text()"))


# (XPath of attributes, code list its values come from) for every coded attribute written.
CODED = [
    ("//reporting-org/@type", "OrganisationType"),
    ("//participating-org/@type", "OrganisationType"),
    ("//provider-org/@type", "OrganisationType"),
    ("//receiver-org/@type", "OrganisationType"),
    ("//participating-org/@role", "OrganisationRole"),
    ("//activity-status/@code", "ActivityStatus"),
    ("//activity-date/@type", "ActivityDateType"),
    ("//transaction-type/@code", "TransactionType"),
    ("//value/@currency", "Currency"),
    ("//iati-activity/@default-currency", "Currency"),
    ("//recipient-country/@code", "Country"),
    ("//sector/@vocabulary", "SectorVocabulary"),
    ("//sector[@vocabulary='1']/@code", "Sector"),
    ("//tag/@vocabulary", "TagVocabulary"),
    ("//tag[@vocabulary='2']/@code", "UNSDG-Goals"),
    ("//tag[@vocabulary='3']/@code", "UNSDG-Targets"),
    ("//aid-type[@vocabulary='2']/@code", "EarmarkingCategory"),
]


def checked(body: bytes) -> etree._Element:
    """The parsed file, once it has passed the schema, every code list and the percentage
    rules (recipient countries, and sectors, sum to exactly 100 in each activity)."""
    document = etree.fromstring(body)
    valid = schema().validate(document)
    assert valid, schema().error_log
    for path, name in CODED:
        unknown = set(document.xpath(path)) - codelist(name)
        assert not unknown, f"{path}: {sorted(unknown)} are not in {name}"
    for activity in document.iter("iati-activity"):
        for element in ("recipient-country", "sector"):
            found = [Decimal(value) for value in activity.xpath(f"{element}/@percentage")]
            assert not found or sum(found) == Decimal(100), (element, found)
            assert all(value.as_tuple().exponent >= -2 for value in found), found
    return document
