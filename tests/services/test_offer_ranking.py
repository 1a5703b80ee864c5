"""The offer ranking: hand-built needs and offers, their expected order written down."""

import datetime as dt
from decimal import Decimal

from backend.models import InKindCategory
from backend.services.offer_ranking import NeedTerms, OfferTerms, exclusion, rank, suggest

CONNECTIVITY = InKindCategory.CONNECTIVITY

# Offline content for 50,000 learners in Mozambique, in Portuguese, on low bandwidth, by June.
NEED = NeedTerms(
    category=InKindCategory.CONTENT,
    country="MZ",
    quantity=Decimal(50_000),
    unit="learner",
    languages=frozenset({"pt"}),
    offline_required=True,
    low_bandwidth=True,
    needed_by=dt.date(2027, 6, 30),
)


def offer(key: int, **terms: object) -> OfferTerms:
    base: dict[str, object] = {
        "category": InKindCategory.CONTENT,
        "unit": "learner",
        "remaining": Decimal(50_000),
        "countries": frozenset({"MZ"}),
        "languages": frozenset({"pt"}),
        "offline_capable": True,
        "low_bandwidth_friendly": True,
        "free_until": None,
    }
    base.update(terms)
    return OfferTerms(key=key, **base)  # type: ignore[arg-type]


def test_offers_rank_in_the_order_written_here() -> None:
    offers = [
        offer(1, countries=frozenset(), worldwide=True),  # 15+25+20+15+15 = 90
        offer(2),  # everything: 100
        offer(3, remaining=Decimal(20_000)),  # capacity 25 * 0.4 = 10: 85
        offer(4, languages=frozenset({"en"})),  # no Portuguese: 80
        offer(5, free_until=dt.date(2027, 3, 31)),  # free ends before June: 85
        offer(6, languages=frozenset({"en", "pt"}), free_of_charge=False),  # 85
        offer(7, category=CONNECTIVITY),  # excluded
    ]

    ranking = rank(NEED, offers, first=10)

    assert [(s.key, s.score) for s in ranking] == [
        (2, 100),
        (1, 90),
        (3, 85),
        (5, 85),
        (6, 85),
        (4, 80),
    ]
    assert [s.key for s in rank(NEED, offers, first=2)] == [2, 1]


def test_every_score_part_is_explained() -> None:
    partial = suggest(
        NEED,
        offer(
            8,
            remaining=Decimal(20_000),
            languages=frozenset({"en"}),
            low_bandwidth_friendly=False,
            offline_capable=True,
            free_until=dt.date(2027, 3, 31),
        ),
    )

    assert partial is not None
    assert partial.score == 25 + 10 + 0 + 15 + 0
    assert partial.reasons == (
        "content offered in learner",
        "available in MZ",
        "capacity left covers 20000 of 50000 learner",
        "not in pt",
        "works on low bandwidth",
        "free of charge only until 2027-03-31, needed by 2027-06-30",
    )


def test_a_need_without_languages_dates_or_constraints_is_not_held_against_an_offer() -> None:
    open_need = NeedTerms(category=CONNECTIVITY, country="KE", quantity=Decimal(500), unit="GB")
    plain = OfferTerms(
        key=1,
        category=CONNECTIVITY,
        unit="GB",
        remaining=Decimal(10_000),
        countries=frozenset({"KE"}),
        free_until=dt.date(2027, 1, 1),
    )

    suggestion = suggest(open_need, plain)

    assert suggestion is not None
    assert suggestion.score == 100
    assert suggestion.reasons[1:] == (
        "available in KE",
        "capacity left covers all 500 GB",
        "no language asked",
        "no bandwidth constraint",
        "free of charge until 2027-01-01",
    )


def test_languages_partly_spoken_score_in_proportion() -> None:
    bilingual = NeedTerms(
        category=InKindCategory.TRAINING,
        country="AO",
        quantity=Decimal(100),
        unit="seat",
        languages=frozenset({"pt", "fr"}),
    )
    half = OfferTerms(
        key=1,
        category=InKindCategory.TRAINING,
        unit="seat",
        remaining=Decimal(100),
        worldwide=True,
        languages=frozenset({"pt", "es"}),
    )

    suggestion = suggest(bilingual, half)

    assert suggestion is not None
    assert suggestion.score == 15 + 25 + 10 + 15 + 15
    assert "in pt, not in fr" in suggestion.reasons


def test_offers_that_cannot_answer_the_need_are_excluded_with_their_reason() -> None:
    cases = {
        "offers CONNECTIVITY, the need is CONTENT": offer(1, category=CONNECTIVITY),
        "counted in device, the need in learner": offer(2, unit="device"),
        "not available in MZ": offer(3, countries=frozenset({"AO"})),
        "the need requires offline use and the offer is not offline capable": offer(
            4, offline_capable=False
        ),
        "no capacity left": offer(5, remaining=Decimal(0)),
    }

    for reason, excluded in cases.items():
        assert exclusion(NEED, excluded) == reason
        assert suggest(NEED, excluded) is None
    assert rank(NEED, cases.values(), first=10) == []
