"""The commitments of the demo plan: who pledges what, how far each gets, what is delivered."""

import datetime as dt
import random
from dataclasses import replace
from decimal import Decimal
from typing import Any

from backend import models
from backend.demo import catalogue
from backend.demo.catalogue import LEARNING
from backend.demo.records import (
    PlannedCommitment,
    PlannedDelivery,
    PlannedMembership,
    PlannedOrganisation,
)
from backend.services.commitment_rules import InKindDraft

Stage = models.Stage
_CENT = Decimal("0.01")


_INKIND_HEAVY = {"30", "70", "71", "72", "73"}
_FINANCIAL_HEAVY = {"10", "40", "60"}
_WEIGHTS = {"10": 2, "21": 2, "30": 3, "40": 3, "60": 3, "70": 3, "71": 3, "72": 3, "73": 3}


def plan(
    rng: random.Random,
    scale: int,
    today: dt.date,
    planned: list[tuple[PlannedOrganisation, catalogue.OrganisationFact]],
    memberships: list[PlannedMembership],
) -> list[PlannedCommitment]:
    facts = {organisation.key: fact for organisation, fact in planned}
    commitments = []
    for coalition, mix in catalogue.STAGE_MIX.items():
        # Applicants never pledge; suspended and withdrawn members did while they were active.
        pledgers = [
            membership.organisation
            for membership in memberships
            if membership.coalition == coalition
            and membership.status is not models.MembershipStatus.APPLIED
        ]
        weights = [
            2 if facts[key].hub_category else _WEIGHTS.get(facts[key].organisation_type, 1)
            for key in pledgers
        ]
        receivers = [
            key for key in pledgers if facts[key].organisation_type in {"10", "11", "22", "24"}
        ]
        workstreams = [w.name for w in catalogue.WORKSTREAMS if w.coalition == coalition]
        stages = [stage for stage, count in mix.items() for _ in range(count * scale)]
        rng.shuffle(stages)
        embargoes = 3 * scale if coalition == LEARNING else 0
        for stage in stages:
            key = rng.choices(pledgers, weights)[0]
            workstream = rng.choice([*workstreams, None]) if rng.random() < 0.9 else None
            embargoed = stage is Stage.PLEDGED and embargoes > 0 and rng.random() < 0.3
            embargoes -= embargoed
            terms = _terms(rng, today, facts[key], workstream, embargoed)
            commitments.append(
                _lifecycle(rng, today, coalition, key, workstream, terms, stage, receivers)
            )
    return commitments


def _terms(
    rng: random.Random,
    today: dt.date,
    fact: catalogue.OrganisationFact,
    workstream: str | None,
    embargoed: bool,
) -> dict[str, Any]:
    kinds = models.ResourceKind
    if fact.organisation_type in _INKIND_HEAVY or fact.hub_category is models.HubCategory.MEDIA:
        weights = [0.2, 0.6, 0.2]
    elif fact.organisation_type in _FINANCIAL_HEAVY:
        weights = [0.8, 0.1, 0.1]
    else:
        weights = [0.4, 0.5, 0.1]
    kind = rng.choices([kinds.FINANCIAL, kinds.IN_KIND, kinds.MIXED], weights)[0]
    countries = rng.sample(sorted(catalogue.RECIPIENTS), rng.randint(1, 3))
    country_name = catalogue.RECIPIENTS[countries[0]][0]
    currency = catalogue.CURRENCY_OF_COUNTRY.get(fact.country, "USD")
    # Multilaterals mostly count in dollars; anyone but the unconverted currency's users
    # sometimes does.
    dollars = 0.7 if fact.organisation_type == "40" else 0.2
    if currency != catalogue.UNCONVERTED and rng.random() < dollars:
        currency = "USD"
    start = today - dt.timedelta(days=rng.randint(0, 420))
    visibility = rng.choices(
        list(models.Visibility), [0.78, 0.10, 0.12] if not embargoed else [1, 0, 0]
    )[0]
    terms: dict[str, Any] = {
        "countries": countries,
        "sdg_targets": rng.sample(catalogue.SDG_TARGETS[workstream], 1 + (rng.random() < 0.4)),
        "start_date": start,
        "end_date": start + dt.timedelta(days=rng.randint(180, 900)),
        "visibility": visibility,
        "resource_kind": kind,
    }
    if embargoed:
        at = today + dt.timedelta(days=rng.randint(15, 90))
        terms["embargo_until"] = dt.datetime.combine(at, dt.time(9), tzinfo=dt.UTC)
    if kind is not kinds.IN_KIND:
        usd = rng.choice([25, 50, 100, 250, 500, 750, 1_000, 2_500, 5_000]) * 1_000
        amount = Decimal(usd * rng.uniform(0.8, 1.2)) / catalogue.APPROXIMATE_RATES[currency]
        terms["amount"] = _round(amount, 3)
        terms["currency"] = currency
        terms["value_date"] = today - dt.timedelta(days=rng.randint(0, 480))
        terms["earmarking"] = rng.choice([None, "1", "2", "3", "4"])
    if kind is not kinds.FINANCIAL:
        categories = catalogue.CATEGORIES[workstream]
        if fact.hub_category is models.HubCategory.MEDIA:
            categories = [models.InKindCategory.MEDIA_AIRTIME]
        chosen = rng.sample(categories, min(len(categories), 2 if rng.random() < 0.25 else 1))
        terms["in_kind"] = [_line(rng, today, category, currency) for category in chosen]
        description = terms["in_kind"][0].description
    if kind is kinds.FINANCIAL:
        template = rng.choice(catalogue.FINANCIAL_TITLES)
        title = template.format(theme=catalogue.THEMES[workstream], country=country_name)
    elif kind is kinds.IN_KIND:
        title = f"{description} in {country_name}"
    else:
        title = f"Funding and {description[0].lower()}{description[1:]} in {country_name}"
    terms["title"] = title
    terms["description"] = f"Fictional commitment to {catalogue.THEMES[workstream]}."
    return terms


def _line(
    rng: random.Random, today: dt.date, category: models.InKindCategory, currency: str
) -> InKindDraft:
    fact = catalogue.IN_KIND[category]
    quantity = Decimal(_round(Decimal(rng.randint(*fact.quantity)), 2))
    if rng.random() < 0.2:
        # Not every partner values its help; the hub then counts it as unvalued.
        return InKindDraft(category, fact.description, quantity, fact.unit)
    value_currency = currency if rng.random() < 0.5 else "USD"
    usd = quantity * Decimal(str(round(rng.uniform(*fact.unit_value), 2)))
    value = _round(usd / catalogue.APPROXIMATE_RATES[value_currency], 4)
    free_until = None
    if category is models.InKindCategory.PLATFORM:
        free_until = today + dt.timedelta(days=rng.randint(200, 700))
    return InKindDraft(
        category,
        fact.description,
        quantity,
        fact.unit,
        fair_value=value,
        fair_value_currency=value_currency,
        valuation_method=fact.valuation_method,
        free_until=free_until,
    )


def _lifecycle(
    rng: random.Random,
    today: dt.date,
    coalition: str,
    key: str,
    workstream: str | None,
    terms: dict[str, Any],
    stage: models.Stage,
    receivers: list[str],
) -> PlannedCommitment:
    reached, reason = stage, None
    if stage is Stage.WITHDRAWN:
        reached = rng.choice([Stage.PLEDGED, Stage.PLEDGED, Stage.COMMITTED])
        reason = rng.choice(catalogue.WITHDRAWAL_REASONS)
    elif stage is Stage.CANCELLED:
        reached = rng.choice([Stage.PLEDGED, Stage.COMMITTED, Stage.IN_DELIVERY])
        reason = rng.choice(catalogue.CANCELLATION_REASONS)
    deliveries: list[PlannedDelivery] = []
    if reached in (Stage.IN_DELIVERY, Stage.FULFILLED):
        others = [receiver for receiver in receivers if receiver != key]
        deliveries = _deliveries(rng, today, terms, complete=stage is Stage.FULFILLED)
        deliveries = [_reviewed(rng, delivery, others) for delivery in deliveries]
    return PlannedCommitment(
        coalition, key, workstream, terms, stage, reached, deliveries, reason=reason
    )


def _deliveries(
    rng: random.Random, today: dt.date, terms: dict[str, Any], *, complete: bool
) -> list[PlannedDelivery]:
    """Tranches that hand over everything (complete) or part of it."""
    parts: list[tuple[Decimal | None, int | None, Decimal | None]] = []
    if "amount" in terms:
        for amount in _split(rng, terms["amount"], complete, whole=terms["currency"] == "JPY"):
            parts.append((amount, None, None))
    for position, line in enumerate(terms.get("in_kind", [])):
        for quantity in _split(rng, line.quantity, complete, whole=True):
            parts.append((None, position, quantity))
    if not complete:
        # A commitment in delivery has at least one tranche, not necessarily of every part.
        parts = rng.sample(parts, rng.randint(1, len(parts)))
    first = max(terms["start_date"], today - dt.timedelta(days=300))
    span = max((today - first).days - 1, 1)
    days = sorted(rng.randint(0, span - 1) for _ in parts)
    return [
        PlannedDelivery(
            delivered_on=first + dt.timedelta(days=day),
            amount=amount,
            line=line,
            quantity=quantity,
            country=rng.choice(terms["countries"]),
            beneficiaries=rng.randint(50, 20_000) if rng.random() < 0.7 else None,
            evidence_url=(
                f"https://example.org/evidence/{rng.randrange(16**8):08x}"
                if rng.random() < 0.6
                else None
            ),
            note=rng.choice(catalogue.DELIVERY_NOTES),
        )
        for day, (amount, line, quantity) in zip(days, parts, strict=True)
    ]


def _reviewed(
    rng: random.Random, delivery: PlannedDelivery, receivers: list[str]
) -> PlannedDelivery:
    """Who received it, and whether the secretariat or the receiver confirmed or disputed it."""
    receiver = rng.choice(receivers) if receivers and rng.random() < 0.4 else None
    draw = rng.random()
    status = models.DeliveryStatus
    review = (
        status.REPORTED if draw < 0.35 else status.CONFIRMED if draw < 0.85 else status.DISPUTED
    )
    return replace(
        delivery,
        receiver=receiver,
        review=review,
        by_receiver=receiver is not None and rng.random() < 0.6,
        dispute_reason=rng.choice(catalogue.DISPUTE_REASONS) if review is status.DISPUTED else None,
    )


def _split(rng: random.Random, total: Decimal, complete: bool, *, whole: bool) -> list[Decimal]:
    share = Decimal(1) if complete else Decimal(str(round(rng.uniform(0.2, 0.7), 2)))
    count = rng.randint(2, 3) if complete else rng.randint(1, 2)
    step = Decimal(1) if whole else _CENT
    target = (total * share).quantize(step)
    parts = [(target / count).quantize(step) for _ in range(count - 1)]
    parts.append(target - sum(parts, Decimal(0)))
    return [part for part in parts if part > 0]


def _round(value: Decimal, digits: int) -> Decimal:
    """`value` to `digits` significant figures, as a whole number when it is large enough."""
    exponent = value.adjusted() - digits + 1
    rounded = value.scaleb(-exponent).quantize(Decimal(1)).scaleb(exponent)
    return rounded.quantize(Decimal(1)) if exponent >= 0 else rounded.quantize(_CENT)
