"""How well a listed offer answers a country's need: a score out of 100 and its reasons.

Pure: it reads the terms of one need and of each offer and touches no database, so the
ranking can be written down in a test. Some terms exclude an offer outright (another
category or unit, a country it does not serve, offline required but not offline capable,
nothing left to give); the others add points:

| part        | points | full marks when                                            |
|-------------|--------|------------------------------------------------------------|
| country     | 25     | the offer names the country (15 if it is only worldwide)   |
| capacity    | 25     | what is left covers the whole need (else in proportion)    |
| languages   | 20     | it speaks every language asked (else in proportion)        |
| bandwidth   | 15     | low bandwidth asked and the offer works on it, or not asked |
| timing      | 15     | free of charge at least until the need's date              |

Equal scores keep the offers' order by key, so the same data always ranks the same way.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from backend import models

COUNTRY_NAMED = 25
COUNTRY_WORLDWIDE = 15
CAPACITY = 25
LANGUAGES = 20
BANDWIDTH = 15
TIMING = 15


@dataclass(frozen=True)
class NeedTerms:
    category: models.InKindCategory
    country: str
    quantity: Decimal
    unit: str
    languages: frozenset[str] = frozenset()
    offline_required: bool = False
    low_bandwidth: bool = False
    needed_by: dt.date | None = None


@dataclass(frozen=True)
class OfferTerms:
    key: int
    category: models.InKindCategory
    unit: str
    remaining: Decimal
    countries: frozenset[str] = frozenset()
    worldwide: bool = False
    languages: frozenset[str] = frozenset()
    offline_capable: bool = False
    low_bandwidth_friendly: bool = False
    free_of_charge: bool = True
    free_until: dt.date | None = None


@dataclass(frozen=True)
class Suggestion:
    key: int
    score: int
    reasons: tuple[str, ...]


def rank(need: NeedTerms, offers: Iterable[OfferTerms], first: int) -> list[Suggestion]:
    """The best `first` offers for the need, best first; excluded offers are left out.

    Every offer is scored; only the best `first` get their reasons written."""
    scored = [
        (_score(need, offer), offer.key, offer)
        for offer in offers
        if exclusion(need, offer) is None
    ]
    scored.sort(key=_best_first)
    return [_suggestion(need, offer) for _, _, offer in scored[:first]]


def suggest(need: NeedTerms, offer: OfferTerms) -> Suggestion | None:
    """The offer's score and reasons for this need, or None when it cannot answer it."""
    if exclusion(need, offer) is not None:
        return None
    return _suggestion(need, offer)


# A part of the score: its points, and its reason when asked to explain (else "").
Part = tuple[int, str]


def _parts(need: NeedTerms, offer: OfferTerms, *, explain: bool) -> tuple[Part, ...]:
    return (
        _country(need, offer, explain),
        _capacity(need, offer, explain),
        _languages(need, offer, explain),
        _bandwidth(need, offer, explain),
        _timing(need, offer, explain),
    )


def _score(need: NeedTerms, offer: OfferTerms) -> int:
    return sum(points for points, _ in _parts(need, offer, explain=False))


def _best_first(entry: tuple[int, int, OfferTerms]) -> tuple[int, int]:
    return -entry[0], entry[1]


def _suggestion(need: NeedTerms, offer: OfferTerms) -> Suggestion:
    parts = _parts(need, offer, explain=True)
    return Suggestion(
        key=offer.key,
        score=sum(points for points, _ in parts),
        reasons=(
            f"{need.category.value.lower()} offered in {need.unit}",
            *(reason for _, reason in parts),
        ),
    )


def exclusion(need: NeedTerms, offer: OfferTerms) -> str | None:
    """Why the offer cannot answer the need at all, or None when it can."""
    if offer.category != need.category:
        return f"offers {offer.category.value}, the need is {need.category.value}"
    if offer.unit != need.unit:
        return f"counted in {offer.unit}, the need in {need.unit}"
    if not offer.worldwide and need.country not in offer.countries:
        return f"not available in {need.country}"
    if need.offline_required and not offer.offline_capable:
        return "the need requires offline use and the offer is not offline capable"
    if offer.remaining <= 0:
        return "no capacity left"
    return None


def _country(need: NeedTerms, offer: OfferTerms, explain: bool) -> Part:
    if need.country in offer.countries:
        return COUNTRY_NAMED, (f"available in {need.country}" if explain else "")
    return COUNTRY_WORLDWIDE, (f"available worldwide, {need.country} not named" if explain else "")


def _capacity(need: NeedTerms, offer: OfferTerms, explain: bool) -> Part:
    if offer.remaining >= need.quantity:
        return CAPACITY, (
            f"capacity left covers all {_figure(need.quantity)} {need.unit}" if explain else ""
        )
    share = offer.remaining / need.quantity
    return (
        _points(CAPACITY, share),
        (
            f"capacity left covers {_figure(offer.remaining)} of "
            f"{_figure(need.quantity)} {need.unit}"
            if explain
            else ""
        ),
    )


def _languages(need: NeedTerms, offer: OfferTerms, explain: bool) -> Part:
    if not need.languages:
        return LANGUAGES, "no language asked"
    spoken = need.languages & offer.languages
    missing = sorted(need.languages - offer.languages)
    if not missing:
        return LANGUAGES, (f"in {_listed(spoken)}" if explain else "")
    share = Decimal(len(spoken)) / len(need.languages)
    if not spoken:
        return 0, (f"not in {_listed(missing)}" if explain else "")
    return _points(LANGUAGES, share), (
        f"in {_listed(spoken)}, not in {_listed(missing)}" if explain else ""
    )


def _bandwidth(need: NeedTerms, offer: OfferTerms, explain: bool) -> Part:
    if not need.low_bandwidth:
        return BANDWIDTH, "no bandwidth constraint"
    if offer.low_bandwidth_friendly or offer.offline_capable:
        return BANDWIDTH, "works on low bandwidth"
    return 0, "low bandwidth needed, the offer is not made for it"


def _timing(need: NeedTerms, offer: OfferTerms, explain: bool) -> Part:
    if not offer.free_of_charge:
        return 0, "not free of charge"
    if offer.free_until is None:
        return TIMING, "free of charge with no end date"
    if need.needed_by is None or offer.free_until >= need.needed_by:
        return TIMING, (f"free of charge until {offer.free_until.isoformat()}" if explain else "")
    return (
        0,
        (
            f"free of charge only until {offer.free_until.isoformat()}, "
            f"needed by {need.needed_by.isoformat()}"
            if explain
            else ""
        ),
    )


def _points(full: int, share: Decimal) -> int:
    return int((full * share).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _figure(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _listed(languages: Iterable[str]) -> str:
    return ", ".join(sorted(languages))
