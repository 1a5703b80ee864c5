"""Scalars the hub reads more strictly than Strawberry's defaults."""

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

import strawberry
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DecimalDefinition
from strawberry.types.scalar import ScalarDefinition


def _instant(value: object) -> dt.datetime:
    # A time without a UTC offset names no instant; guessing the zone would move embargoes
    # and expiries by hours, so it is refused as input, like any malformed value.
    try:
        if not isinstance(value, str):
            raise ValueError("expected a string")
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        message = f'Value cannot represent a DateTime: "{value}".'
        raise StrawberryInputCoercionError(message) from None
    if parsed.tzinfo is None:
        message = f'DateTime "{value}" needs a UTC offset, e.g. 2026-03-01T09:00:00Z.'
        raise StrawberryInputCoercionError(message)
    # Stored and answered in UTC, so a write's result reads the same as a later query.
    return parsed.astimezone(dt.UTC)


DateTime = strawberry.scalar(
    name="DateTime",
    description="An instant: ISO 8601 date and time with a UTC offset, "
    "e.g. 2026-03-01T09:00:00Z or 2026-03-01T10:00:00+01:00.",
    serialize=dt.datetime.isoformat,
    parse_value=_instant,
)


def plain_decimal(value: Decimal) -> str:
    """Positional notation, never exponents: 0.000000039, not 3.9E-8 (str() would)."""
    return format(value, "f")


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description="An exact decimal number, as a string in positional notation: amounts "
    "with two places unless they need more (1250000.00), quantities and rates without "
    "trailing zeros (5000, 0.000039).",
    serialize=plain_decimal,
    parse_value=DecimalDefinition.parse_value,
)
SCALARS: Mapping[object, ScalarDefinition] = {dt.datetime: DateTime, Decimal: DecimalScalar}
