"""Compares what a row says with the record the hub has (or has just made from it), column
by column: the same row imported twice changes nothing, and a row whose record differs is
reported rather than silently overwritten."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from backend.errors import DIFFERS, FieldIssue

View = dict[str, Any]


@dataclass(frozen=True, eq=False)
class Ref:
    """Another record a cell names: equal when it is the same record, however the cell
    named it (an organisation by its IATI identifier or by its name)."""

    id: int | None
    shown: str

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ref) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


def differences(
    file: Mapping[str, Any], hub: Mapping[str, Any], *, existing: bool
) -> list[FieldIssue]:
    """An issue for every column of `file` (the columns the row gives) that `hub` holds
    otherwise; lists of objects (in-kind lines) are compared item by item, key by key."""
    issues: list[FieldIssue] = []
    for column, given in file.items():
        _compare(issues, column, given, hub.get(column), existing)
    return issues


def _compare(issues: list[FieldIssue], path: str, given: Any, held: Any, existing: bool) -> None:
    if _objects(given) and _objects(held):
        if len(given) != len(held):
            issues.append(_issue(path, f"{len(given)} items", f"{len(held)}", existing))
            return
        for index, (one, other) in enumerate(zip(given, held, strict=True)):
            for key, value in one.items():
                _compare(issues, f"{path}.{index}.{key}", value, other.get(key), existing)
        return
    if given != held:
        issues.append(_issue(path, shown(given), shown(held), existing))


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _issue(path: str, given: str, held: str, existing: bool) -> FieldIssue:
    if existing:
        message = f"Differs from the existing record: the file says {given}, the hub has {held}."
    else:
        message = f"The hub records {held} where the file says {given}."
    return FieldIssue(path, DIFFERS, message)


def shown(value: Any) -> str:
    if value is None or value == []:
        return "nothing"
    if isinstance(value, Ref):
        return f"'{value.shown}'"
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 60 else f"'{value[:57]}...'"
    return str(value)


def plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 1250.5, 100."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
