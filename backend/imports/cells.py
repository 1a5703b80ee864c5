"""The cells of one line read as the values the services take: decimals as plain strings,
ISO 8601 dates and UTC instants, `;`-separated lists, enum members by name. A cell that
cannot be read is an issue of its column, never a guess."""

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from typing import TypeVar

from backend.errors import BAD_FORMAT, FieldIssue
from backend.imports.csvfile import Line

E = TypeVar("E", bound=Enum)
T = TypeVar("T")

# No exponent, no thousands separators, no sign but a minus (which the rules refuse).
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
_INTEGER = re.compile(r"^-?\d+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Unreadable(ValueError):
    """A value not in the format's notation; the message says what was expected."""


def decimal(text: str) -> Decimal:
    if not _DECIMAL.match(text):
        raise Unreadable(f"'{text}' is not a plain decimal such as 1250.50.")
    return Decimal(text)


def integer(text: str) -> int:
    if not _INTEGER.match(text) or len(text) > 19:
        raise Unreadable(f"'{text}' is not a whole number.")
    return int(text)


def date(text: str) -> dt.date:
    try:
        if not _DATE.match(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise Unreadable(f"'{text}' is not an ISO 8601 date such as 2024-03-31.") from error


def instant(text: str) -> dt.datetime:
    expected = f"'{text}' is not an ISO 8601 instant such as 2024-03-31T09:30:00Z."
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as error:
        raise Unreadable(expected) from error
    if value.tzinfo is None:
        raise Unreadable(f"'{text}' has no offset; give the time in UTC, ending in Z.")
    return value.astimezone(dt.UTC)


def member(text: str, enum: type[E]) -> E:
    for candidate in enum:
        if candidate.value == text:
            return candidate
    names = ", ".join(str(candidate.value) for candidate in enum)
    raise Unreadable(f"'{text}' is not one of {names}.")


class Cells:
    """Reads one line; `issues` (the row's, when given) gets a BAD_FORMAT issue for each
    cell it could not read, whose value then reads as None."""

    def __init__(self, line: Line, issues: list[FieldIssue] | None = None) -> None:
        self.line = line
        self.issues: list[FieldIssue] = [] if issues is None else issues
        # Fields whose value could not be read (and reads as None).
        self.unreadable: list[str] = []

    def fail(self, column: str, message: str, code: str = BAD_FORMAT) -> None:
        self.issues.append(FieldIssue(column, code, message))
        self.unreadable.append(column)

    def text(self, column: str) -> str | None:
        return self.line.value(column)

    def decimal(self, column: str) -> Decimal | None:
        return self._read(column, decimal)

    def integer(self, column: str) -> int | None:
        return self._read(column, integer)

    def date(self, column: str) -> dt.date | None:
        return self._read(column, date)

    def instant(self, column: str) -> dt.datetime | None:
        return self._read(column, instant)

    def member(self, column: str, enum: type[E]) -> E | None:
        text = self.line.value(column)
        if text is None:
            return None
        try:
            return member(text, enum)
        except Unreadable as error:
            self.fail(column, str(error))
            return None

    def items(self, column: str) -> list[str]:
        """A `;`-separated list; an empty cell is an empty list."""
        text = self.line.value(column)
        if text is None:
            return []
        return [item.strip() for item in text.split(";") if item.strip()]

    def _read(self, column: str, parse: Callable[[str], T]) -> T | None:
        text = self.line.value(column)
        if text is None:
            return None
        try:
            return parse(text)
        except Unreadable as error:
            self.fail(column, str(error))
            return None
