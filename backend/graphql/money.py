"""How decimal figures leave the API: exact strings, no float on the way."""

from decimal import Decimal

_CENTS = Decimal("0.01")


def amount(value: Decimal | None) -> Decimal | None:
    """Two places unless the figure needs more (stored with four)."""
    if value is None:
        return None
    return value.quantize(_CENTS) if value == value.quantize(_CENTS) else value.normalize()


def quantity(value: Decimal | None) -> Decimal | None:
    """A count or measure without trailing zeros: 5000, 2.5."""
    if value is None:
        return None
    integral = value.to_integral_value()
    return integral if value == integral else value.normalize()
