"""How decimal figures leave the API: exact strings, no float on the way."""

from decimal import Decimal
from typing import overload

_CENTS = Decimal("0.01")


@overload
def amount(value: Decimal) -> Decimal: ...
@overload
def amount(value: None) -> None: ...
@overload
def amount(value: Decimal | None) -> Decimal | None: ...
def amount(value: Decimal | None) -> Decimal | None:
    """Two places unless the figure needs more (stored with four)."""
    if value is None:
        return None
    return value.quantize(_CENTS) if value == value.quantize(_CENTS) else value.normalize()


@overload
def quantity(value: Decimal) -> Decimal: ...
@overload
def quantity(value: None) -> None: ...
@overload
def quantity(value: Decimal | None) -> Decimal | None: ...
def quantity(value: Decimal | None) -> Decimal | None:
    """A count, measure or rate without trailing zeros: 5000, 2.5, 0.000039."""
    if value is None:
        return None
    # quantize(1), not to_integral_value(): "1E3" must read back as "1000", not "1E+3".
    integral = value.quantize(Decimal(1))
    return integral if value == integral else value.normalize()


def share_percent(basis_points: int | None) -> Decimal:
    """A share kept in basis points, as a percent: 10000 (or none) is 100, 3333 is 33.33."""
    if basis_points is None:
        return Decimal(100)
    return quantity(Decimal(basis_points).scaleb(-2))
