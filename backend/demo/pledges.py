"""The commitments of the demo plan: who pledges what, how far each gets, what is delivered."""

import datetime as dt
import random
from dataclasses import replace
from decimal import Decimal
from itertools import accumulate
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
    joined = {(m.coalition, m.organisation): m.joined_on for m in memberships}
    commitments: list[PlannedCommitment] = []
    for coalition, mix in catalogue.STAGE_MIX.items():
        # Applicants never pledge; suspended and withdrawn members did while they were active.
        pledgers = [
            membership.organisation
            for membership in memberships
            if membership.coalition == coalition
            and membership.status is not models.MembershipStatus.APPLIED
        ]
        # Cumulative once: random.choices would add the weights up again for every draw.
        weights = list(
            accumulate(
                2 if facts[key].hub_category else _WEIGHTS.get(facts[key].organisation_type, 1)
                for key in pledgers
            )
        )
        receivers = [
            key for key in pledgers if facts[key].organisation_type in {"10", "11", "22", "24"}
        ]
        workstreams = [w.name for w in catalogue.WORKSTREAMS if w.coalition == coalition]
        stages = [stage for stage, count in mix.items() for _ in range(count * scale)]
        rng.shuffle(stages)
        embargoes = 3 * scale if coalition == LEARNING else 0
        first = len(commitments)
        for stage in stages:
            key = rng.choices(pledgers, cum_weights=weights)[0]
            workstream = rng.choice([*workstreams, None]) if rng.random() < 0.9 else None
            embargoed = stage is Stage.PLEDGED and embargoes > 0 and rng.random() < 0.3
            embargoes -= embargoed
            terms = _terms(rng, today, facts[key], workstream, embargoed)
            commitment = _lifecycle(rng, today, coalition, key, workstream, terms, stage, receivers)
            joined_on = joined[(coalition, key)]
            assert joined_on is not None
            commitments.append(_timeline(rng, today, commitment, joined_on))
        _pass_through(rng, commitments, first, facts)
    return commitments


def _timeline(
    rng: random.Random, today: dt.date, planned: PlannedCommitment, joined_on: dt.date
) -> PlannedCommitment:
    """When it was recorded and when it last moved. Most are recent; some commitments that
    never got past COMMITTED were recorded long ago and not touched since (stale: 12 or
    24 months without a report), often with their end date passed (overdue)."""
    yesterday = today - dt.timedelta(days=1)
    delivered = [delivery.delivered_on for delivery in planned.deliveries]
    # Recorded before its first delivery, after its organisation joined.
    latest = min([*delivered, yesterday])
    untouched = not delivered and "embargo_until" not in planned.terms
    draw = rng.random()
    stale: tuple[int, int] | None = None
    if untouched and draw < 0.10:
        stale = (1000, 740)  # days ago: red
    elif untouched and draw < 0.25:
        stale = (700, 380)  # yellow
    if stale is not None and joined_on <= today - dt.timedelta(days=stale[1]):
        earliest = max(today - dt.timedelta(days=stale[0]), joined_on)
        latest = today - dt.timedelta(days=stale[1])
    else:
        untouched = False
        earliest = min(max(latest - dt.timedelta(days=330), joined_on), latest)
    recorded_on = _day_between(rng, earliest, latest)
    terms = planned.terms
    if untouched:
        terms["start_date"] = recorded_on + dt.timedelta(days=rng.randint(0, 60))
        terms["end_date"] = terms["start_date"] + dt.timedelta(days=rng.randint(180, 700))
        if "value_date" in terms:
            terms["value_date"] = recorded_on + dt.timedelta(days=rng.randint(0, 30))
    recorded_at = _instant(rng, recorded_on)
    # The last stage change, or the last delivery (which moved it into delivery).
    progress_on: dt.date | None = None
    last_delivery = max(delivered, default=None)
    if planned.stage is not Stage.PLEDGED:
        since = max(recorded_on, last_delivery or recorded_on)
        until = min(since + dt.timedelta(days=30), yesterday) if untouched else yesterday
        progress_on = since if since >= until else _day_between(rng, since, until)
        if planned.stage is Stage.IN_DELIVERY and last_delivery is not None:
            progress_on = last_delivery
    last_progress_at = None
    if progress_on is not None:
        last_progress_at = max(recorded_at, _instant(rng, progress_on))
    return replace(planned, recorded_at=recorded_at, last_progress_at=last_progress_at)


def _pass_through(
    rng: random.Random,
    commitments: list[PlannedCommitment],
    first: int,
    facts: dict[str, catalogue.OrganisationFact],
) -> None:
    """Some foundations' cash goes through a multilateral's open cash commitment recorded
    before it in the same coalition (positions from `first` on are this coalition's)."""
    cash = (models.ResourceKind.FINANCIAL, models.ResourceKind.MIXED)
    channels: list[int] = []
    for position in range(first, len(commitments)):
        commitment = commitments[position]
        if commitment.terms["resource_kind"] not in cash:
            continue
        kind = facts[commitment.organisation].organisation_type
        if kind in catalogue.CHANNEL_TYPES and commitment.stage in _OPEN:
            channels.append(position)
        elif (
            kind in catalogue.FUNDER_TYPES
            and channels
            and rng.random() < catalogue.FUNDED_THROUGH_SHARE
        ):
            commitments[position] = replace(commitment, funded_through=rng.choice(channels))


def _day_between(rng: random.Random, earliest: dt.date, latest: dt.date) -> dt.date:
    return earliest + dt.timedelta(days=rng.randint(0, (latest - earliest).days))


def _instant(rng: random.Random, day: dt.date) -> dt.datetime:
    """A moment of office hours on `day`, in UTC."""
    return dt.datetime.combine(day, dt.time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=dt.UTC)


_OPEN = (Stage.PLEDGED, Stage.COMMITTED, Stage.IN_DELIVERY)


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
        # Most name their DAC sectors; the rest count as unspecified.
        "sectors": (
            rng.sample(catalogue.SECTORS[workstream], 1 + (rng.random() < 0.3))
            if rng.random() < 0.7
            else []
        ),
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
        deliveries = _deliveries(rng, today, terms, complete=stage is Stage.FULFILLED)
        deliveries = [_reviewed(rng, delivery, receivers, key) for delivery in deliveries]
    return PlannedCommitment(
        coalition,
        key,
        workstream,
        terms,
        stage,
        reached,
        deliveries,
        reason=reason,
        recorded_at=dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC),
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
    rng: random.Random, delivery: PlannedDelivery, receivers: list[str], giver: str
) -> PlannedDelivery:
    """Who received it (another organisation than the giver), and whether the secretariat
    or the receiver confirmed or disputed it."""
    receiver = None
    if any(key != giver for key in receivers[:2]) and rng.random() < 0.4:
        # Drawn again when it is the giver: uniform over the others, without listing them.
        while (receiver := rng.choice(receivers)) == giver:
            pass
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
