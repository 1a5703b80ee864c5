"""Passes over the planned deliveries: more tranches (for a given density), and learners
reported by two partners (co-reported reach, credited by share)."""

import datetime as dt
import math
import random
from dataclasses import replace
from decimal import ROUND_DOWN, Decimal

from backend import models
from backend.demo import catalogue
from backend.demo.records import PlannedCommitment, PlannedDelivery

_CENT = Decimal("0.01")


def densify(
    rng: random.Random,
    commitments: list[PlannedCommitment],
    per_commitment: float,
    today: dt.date,
) -> None:
    """Split tranches until there are at least `per_commitment` deliveries per commitment
    on average: each split halves a delivery's amount or quantity (whole yen and whole
    units), so what a commitment delivers in all stays the same. Commitments that deliver
    take turns; the largest splittable tranche of each is split."""
    wanted = int(per_commitment * len(commitments) + 0.999_999)
    missing = wanted - sum(len(commitment.deliveries) for commitment in commitments)
    delivering = [index for index, commitment in enumerate(commitments) if commitment.deliveries]
    yesterday = today - dt.timedelta(days=1)
    idle = 0
    while missing > 0 and delivering and idle < len(delivering):
        for index in delivering:
            if missing <= 0:
                break
            commitment = commitments[index]
            whole = commitment.terms.get("currency") == "JPY"
            split = _split_largest(rng, commitment.deliveries, whole, yesterday)
            idle = 0 if split else idle + 1
            missing -= split
    for index in delivering:
        commitments[index] = _progressed(commitments[index])


def _progressed(commitment: PlannedCommitment) -> PlannedCommitment:
    """A later tranche is progress too: the last stage change is no earlier than it."""
    last = max(delivery.delivered_on for delivery in commitment.deliveries)
    progress = commitment.last_progress_at
    if progress is None or progress.date() >= last:
        return commitment
    moved = dt.datetime.combine(last, progress.time(), tzinfo=dt.UTC)
    return replace(commitment, last_progress_at=moved)


def _split_largest(
    rng: random.Random, deliveries: list[PlannedDelivery], whole_cash: bool, yesterday: dt.date
) -> bool:
    def size(delivery: PlannedDelivery) -> Decimal:
        # Cash and goods compare by how many halvings they can take, not by value.
        if delivery.amount is not None:
            return delivery.amount / (1 if whole_cash else _CENT)
        assert delivery.quantity is not None
        return delivery.quantity

    position = max(range(len(deliveries)), key=lambda index: size(deliveries[index]))
    original = deliveries[position]
    if size(original) < 2:
        return False
    later = min(original.delivered_on + dt.timedelta(days=rng.randint(0, 45)), yesterday)
    rest = replace(
        original,
        delivered_on=later,
        beneficiaries=None,
        evidence_url=None,
        note=catalogue.LATER_TRANCHE_NOTE,
    )
    if original.amount is not None:
        step = Decimal(1) if whole_cash else _CENT
        half = (original.amount / 2).quantize(step, rounding=ROUND_DOWN)
        deliveries[position] = replace(original, amount=half)
        deliveries.append(replace(rest, amount=original.amount - half))
    else:
        assert original.quantity is not None
        half = (original.quantity / 2).quantize(Decimal(1), rounding=ROUND_DOWN)
        deliveries[position] = replace(original, quantity=half)
        deliveries.append(replace(rest, quantity=original.quantity - half))
    return True


def co_report(rng: random.Random, commitments: list[PlannedCommitment]) -> None:
    """Pair some deliveries with another partner's in the same coalition and country: both
    report the same learners, each credited with its share (50/50, 60/40 in turn)."""
    Spot = tuple[int, int]  # (commitment, delivery) positions
    eligible: list[Spot] = []
    places: dict[tuple[str, str], list[Spot]] = {}
    for index, commitment in enumerate(commitments):
        for position, delivery in enumerate(commitment.deliveries):
            if delivery.beneficiaries is None or delivery.country is None:
                continue
            if delivery.review is models.DeliveryStatus.DISPUTED:
                continue
            eligible.append((index, position))
            places.setdefault((commitment.coalition, delivery.country), []).append(
                (index, position)
            )
    count = math.ceil(catalogue.CO_REPORTED_SHARE * len(eligible))
    used: set[Spot] = set()
    splits = catalogue.CO_REPORTED_SPLITS
    for anchor in sorted(rng.sample(eligible, count)):
        if anchor in used:
            continue
        first = commitments[anchor[0]]
        delivery = first.deliveries[anchor[1]]
        assert delivery.country is not None
        candidates = places[(first.coalition, delivery.country)]
        partner = next(
            (
                spot
                for spot in candidates
                if spot not in used
                and spot != anchor
                and commitments[spot[0]].organisation != first.organisation
            ),
            None,
        )
        if partner is None:
            continue
        used.update((anchor, partner))
        second = commitments[partner[0]]
        first_share, second_share = splits[(len(used) // 2 - 1) % len(splits)]
        learners = delivery.beneficiaries
        first.deliveries[anchor[1]] = _shared(delivery, learners, first_share, second.organisation)
        second.deliveries[partner[1]] = _shared(
            second.deliveries[partner[1]], learners, second_share, first.organisation
        )


def _shared(
    delivery: PlannedDelivery, learners: int | None, share: Decimal, partner: str
) -> PlannedDelivery:
    return replace(
        delivery,
        beneficiaries=learners,
        beneficiary_share=share,
        note=catalogue.CO_REPORTED_NOTE.format(partner=partner, share=share),
    )
