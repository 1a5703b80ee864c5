"""IATI 2.03 activities as XML, elements in the order iati-activities-schema.xsd's
xs:sequence demands (a schema-valid file depends on it)."""

import datetime as dt
import re
from collections.abc import Sequence
from xml.etree import ElementTree as ET

from backend.reports.iati_activity import (
    AID_TYPE_EARMARKING,
    SECTOR_DAC_5,
    Activity,
    Transaction,
    plain,
)
from backend.reports.iati_source import Organisation

VERSION = "2.03"
LANGUAGE = "en"
# Every value names its own currency; the default only serves readers that ignore it.
DEFAULT_CURRENCY = "USD"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Characters XML 1.0 cannot carry at all (control characters other than tab and newlines).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def document(activities: Sequence[Activity], *, generated_at: dt.datetime) -> bytes:
    """The `iati-activities` file, UTF-8, with an XML declaration."""
    root = ET.Element(
        "iati-activities", {"version": VERSION, "generated-datetime": _instant(generated_at)}
    )
    for activity in activities:
        root.append(_activity(activity))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()


def _activity(activity: Activity) -> ET.Element:
    element = ET.Element(
        "iati-activity",
        {
            "last-updated-datetime": _instant(activity.last_updated),
            _XML_LANG: LANGUAGE,
            "default-currency": DEFAULT_CURRENCY,
        },
    )
    ET.SubElement(element, "iati-identifier").text = activity.identifier
    _organisation(element, "reporting-org", activity.reporter)
    _narratives(ET.SubElement(element, "title"), activity.title)
    for kind, text in activity.descriptions:
        _narratives(ET.SubElement(element, "description", type=kind), text)
    for participant in activity.participants:
        _organisation(element, "participating-org", participant.organisation, role=participant.role)
    ET.SubElement(element, "activity-status", code=activity.status)
    for kind, day in activity.dates:
        ET.SubElement(element, "activity-date", {"type": kind, "iso-date": day.isoformat()})
    for code, percentage in activity.countries.items():
        ET.SubElement(element, "recipient-country", code=code, percentage=str(percentage))
    for code, percentage in activity.sectors.items():
        ET.SubElement(
            element, "sector", vocabulary=SECTOR_DAC_5, code=code, percentage=str(percentage)
        )
    for vocabulary, code in activity.tags:
        ET.SubElement(element, "tag", vocabulary=vocabulary, code=code)
    for transaction in activity.transactions:
        element.append(_transaction(transaction))
    return element


def _transaction(transaction: Transaction) -> ET.Element:
    element = ET.Element("transaction", ref=transaction.ref)
    ET.SubElement(element, "transaction-type", code=transaction.type)
    ET.SubElement(element, "transaction-date", {"iso-date": transaction.day.isoformat()})
    value = ET.SubElement(
        element,
        "value",
        {"currency": transaction.currency, "value-date": transaction.value_date.isoformat()},
    )
    value.text = plain(transaction.amount)
    _narratives(ET.SubElement(element, "description"), transaction.description)
    _organisation(element, "provider-org", transaction.provider)
    if transaction.receiver is not None:
        _organisation(element, "receiver-org", transaction.receiver)
    if transaction.earmarking is not None:
        ET.SubElement(
            element, "aid-type", vocabulary=AID_TYPE_EARMARKING, code=transaction.earmarking
        )
    return element


def _organisation(
    parent: ET.Element,
    tag: str,
    organisation: Organisation,
    *,
    role: str | None = None,
) -> None:
    attributes = {}
    if organisation.iati_identifier:
        attributes["ref"] = organisation.iati_identifier
    if role is not None:
        attributes["role"] = role
    attributes["type"] = organisation.organisation_type
    _narratives(ET.SubElement(parent, tag, attributes), organisation.name)


def _narratives(parent: ET.Element, text: str) -> None:
    ET.SubElement(parent, "narrative").text = _NOT_XML.sub("", text)


def _instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")
