"""Collects every problem with an input before refusing it, naming each field."""

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from backend import codes
from backend.errors import (
    BAD_FORMAT,
    BAD_RANGE,
    NOT_POSITIVE,
    REQUIRED,
    TOO_LONG,
    TOO_PRECISE,
    UNKNOWN_CODE,
    FieldIssue,
    InvalidInput,
)
from backend.models.base import MONEY_SCALE

SHORT_TEXT = 200
LONG_TEXT = 10_000
# SQLite keeps decimals as 64-bit counts of 10^-places units (at most about 9.2e18).
# Values stay below 10^18 units, so an amount converted to US dollars at a rate of up to 9
# still fits.
_STORED_DIGITS = 18


class Checks:
    """One input's checks; `done()` raises InvalidInput with every issue found."""

    def __init__(self) -> None:
        self.issues: list[FieldIssue] = []

    def fail(self, field: str, code: str, message: str) -> None:
        self.issues.append(FieldIssue(field=field, code=code, message=message))

    def text(
        self, field: str, value: str | None, *, required: bool = False, limit: int = SHORT_TEXT
    ) -> None:
        if value is None or not value.strip():
            if required:
                self.fail(field, REQUIRED, "This field is required.")
            return
        if len(value) > limit:
            self.fail(field, TOO_LONG, f"At most {limit} characters.")

    def required(self, field: str, value: object) -> None:
        if value is None:
            self.fail(field, REQUIRED, "This field is required.")

    def positive(self, field: str, value: Decimal | None, *, places: int = MONEY_SCALE) -> None:
        if value is None:
            return
        if not value.is_finite() or value <= 0:
            self.fail(field, NOT_POSITIVE, "Must be greater than zero.")
        else:
            self._storable(field, value, places)

    def not_negative_amount(
        self, field: str, value: Decimal | None, *, places: int = MONEY_SCALE
    ) -> None:
        if value is None:
            return
        if not value.is_finite() or value < 0:
            self.fail(field, BAD_RANGE, "Must not be negative.")
        else:
            self._storable(field, value, places)

    def _storable(self, field: str, value: Decimal, places: int) -> None:
        if _places(value) > places:
            self.fail(field, TOO_PRECISE, f"At most {places} decimal places.")
        elif value >= Decimal(10) ** (_STORED_DIGITS - places):
            self.fail(field, BAD_RANGE, "Too large.")

    def non_negative(self, field: str, value: int | None) -> None:
        if value is not None and value < 0:
            self.fail(field, BAD_RANGE, "Must not be negative.")

    def currency(self, field: str, value: str | None) -> None:
        if value is not None and not codes.is_currency(value):
            self.fail(field, UNKNOWN_CODE, f"'{value}' is not an ISO 4217 currency code.")

    def country(self, field: str, value: str | None) -> None:
        if value is not None and not codes.is_country(value):
            self.fail(field, UNKNOWN_CODE, f"'{value}' is not an ISO 3166-1 alpha-2 country.")

    def countries(self, field: str, values: Sequence[str]) -> None:
        for index, value in enumerate(values):
            self.country(f"{field}.{index}", value)

    def languages(self, field: str, values: Sequence[str]) -> None:
        """ISO 639-1 codes ("en", "pt"), in either case."""
        for index, value in enumerate(values):
            if len(value) != 2 or not value.isascii() or not value.isalpha():
                self.fail(
                    f"{field}.{index}", BAD_FORMAT, f"'{value}' is not an ISO 639-1 language code."
                )

    def sdg_targets(self, field: str, values: Sequence[str]) -> None:
        for index, value in enumerate(values):
            if not codes.is_sdg_target(value):
                self.fail(f"{field}.{index}", UNKNOWN_CODE, f"'{value}' is not an SDG target.")

    def sectors(self, field: str, values: Sequence[str]) -> None:
        for index, value in enumerate(values):
            if not codes.is_sector(value):
                self.fail(
                    f"{field}.{index}", UNKNOWN_CODE, f"'{value}' is not an OECD DAC sector code."
                )

    def sdg_goals(self, field: str, values: Sequence[str]) -> None:
        for index, value in enumerate(values):
            if not codes.is_sdg_goal(value):
                self.fail(f"{field}.{index}", UNKNOWN_CODE, f"'{value}' is not an SDG goal.")

    def organisation_type(self, field: str, value: str | None) -> None:
        if value is not None and not codes.is_organisation_type(value):
            self.fail(field, UNKNOWN_CODE, f"'{value}' is not an IATI organisation type.")

    def earmarking(self, field: str, value: str | None) -> None:
        if value is not None and not codes.is_earmarking_category(value):
            self.fail(field, UNKNOWN_CODE, f"'{value}' is not an IATI earmarking category.")

    def url(self, field: str, value: str | None) -> None:
        if value is None:
            return
        self.text(field, value, limit=500)
        if not value.startswith(("https://", "http://")):
            self.fail(field, BAD_FORMAT, "Must be an http(s) address.")

    def date_order(
        self, field: str, start: dt.date | None, end: dt.date | None, *, start_name: str
    ) -> None:
        if start is not None and end is not None and end < start:
            self.fail(field, BAD_RANGE, f"Must not be before {start_name}.")

    def done(self) -> None:
        if self.issues:
            raise InvalidInput(self.issues)


def _places(value: Decimal) -> int:
    """The decimal places a finite value needs (trailing zeros need none), found without
    arithmetic: normalize() rounds to the context's 28 digits, so 1E-999999999 passed as 0
    and 1E+999999999 raised Overflow."""
    _, digits, exponent = value.as_tuple()
    trailing_zeros = len(digits) - len(bytes(digits).rstrip(b"\0"))
    return max(0, -(int(exponent) + trailing_zeros))
