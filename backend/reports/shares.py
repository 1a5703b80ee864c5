"""Splitting figures over lists (countries, sectors) and turning them into percentages."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

SHARE_UNIT = Decimal("0.0001")


def split(amount: Decimal, entries: Sequence[str]) -> dict[str, Decimal]:
    """`amount` split evenly over `entries`: floor(amount x 10^4 / n) / 10^4 each, as the
    dashboard's breakdowns split it (a duplicate entry takes two shares)."""
    if not entries:
        return {}
    share = (amount / len(entries)).quantize(SHARE_UNIT, rounding=ROUND_FLOOR)
    shares: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        shares[entry] += share
    return dict(shares)


def totals(weighted: Iterable[tuple[Decimal, Sequence[str]]]) -> dict[str, Decimal]:
    """Each entry's sum of shares over every (amount, entries) pair."""
    summed: dict[str, Decimal] = defaultdict(Decimal)
    for amount, entries in weighted:
        for entry, share in split(amount, entries).items():
            summed[entry] += share
    return dict(summed)


def percentages(weights: dict[str, Decimal], *, places: int = 2) -> dict[str, Decimal]:
    """Each key's percentage of the whole, rounded to `places` by the largest-remainder
    method so that they sum to exactly 100; keys that round to nothing are left out.

    Exact fractions throughout, so the result does not depend on float rounding. Ties in the
    remainders go to the larger weight, then to the smaller key, so the result is stable."""
    whole = sum(weights.values(), Decimal(0))
    if whole <= 0:
        return {}
    units = 100 * 10**places
    exact = {key: Fraction(weight) * units / Fraction(whole) for key, weight in weights.items()}
    floors = {key: value.numerator // value.denominator for key, value in exact.items()}
    missing = units - sum(floors.values())
    by_remainder = sorted(exact, key=lambda key: (-(exact[key] - floors[key]), -weights[key], key))
    for key in by_remainder[:missing]:
        floors[key] += 1
    unit = Decimal(1).scaleb(-places)
    return {
        key: (Decimal(count) * unit).quantize(unit)
        for key, count in sorted(floors.items())
        if count > 0
    }
