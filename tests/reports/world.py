"""A generated coalition for the dashboard's reconciliation tests: hundreds of commitments
in several currencies (one without rates, so unconverted), every stage, visibility and
delivery status, embargoes, pass-through links, in-kind lines with and without values, and
co-reported reach — planned from a seeded random generator, then recorded through the
services so every rule of the API holds.

The plan is data, so a test can record it twice: as it is, and without some commitments
(e.g. other organisations' confidential ones), and compare what a reader sees.
"""

import datetime as dt
import random
from dataclasses import dataclass, field, replace
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.actors import SYSTEM, Actor
from backend.services import commitments, deliveries, fx
from backend.services.commitment_rules import CommitmentDraft, InKindDraft
from tests.factories import make_membership, make_organisation, make_workstream

Stage = models.Stage
Status = models.DeliveryStatus
TODAY = dt.date.today()
FIRST_DAY = TODAY - dt.timedelta(days=700)
# NGN has no rate at all; GBP only early on, so later GBP amounts fall outside the window.
RATES = {"EUR": Decimal("1.083"), "KES": Decimal("0.00775"), "GBP": Decimal("1.2671")}
GBP_UNTIL = FIRST_DAY + dt.timedelta(days=200)
CURRENCIES = ["USD", "USD", "USD", "EUR", "EUR", "KES", "GBP", "NGN"]
COUNTRIES = ["KE", "NG", "IN", "BR", "ZA"]
TARGETS = ["4.1", "4.2", "4.a", "4.c", "5.1", "5.5", "17.10", "17.17"]
UNITS = {
    models.InKindCategory.CONNECTIVITY: ["GB"],
    models.InKindCategory.DEVICES: ["device", "tablet"],
    models.InKindCategory.TRAINING: ["seat"],
    models.InKindCategory.EXPERTISE: ["expert_day"],
}
ORGANISATION_TYPES = ["10", "21", "22", "40", "60", "70", "71", "72", "73", "80", "90"]


@dataclass(frozen=True)
class PlannedLine:
    category: models.InKindCategory
    unit: str
    quantity: Decimal
    fair_value: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class PlannedDelivery:
    delivered_on: dt.date
    amount: Decimal | None = None
    currency: str | None = None
    line: int | None = None
    quantity: Decimal | None = None
    beneficiaries: int | None = None
    share: Decimal | None = None
    review: Status | None = None


@dataclass(frozen=True)
class PlannedCommitment:
    title: str
    organisation: int
    workstream: int | None
    kind: models.ResourceKind
    stage: Stage
    visibility: models.Visibility
    amount: Decimal | None = None
    currency: str | None = None
    value_date: dt.date | None = None
    earmarking: str | None = None
    countries: list[str] = field(default_factory=list)
    sdg_targets: list[str] = field(default_factory=list)
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    embargoed: bool = False
    lines: list[PlannedLine] = field(default_factory=list)
    # Index of an earlier commitment this one passes its cash through.
    channel: int | None = None
    deliveries: list[PlannedDelivery] = field(default_factory=list)
    # WITHDRAWN and CANCELLED ones: the stage they were closed from.
    closed_from: Stage = Stage.PLEDGED


@dataclass(frozen=True)
class Plan:
    organisations: list[tuple[str, str]]
    workstreams: int
    commitments: list[PlannedCommitment]

    def without(self, drop: "set[int]") -> "Plan":
        """The same plan less some commitments; links to them are dropped too."""
        kept = [i for i in range(len(self.commitments)) if i not in drop]
        position = {old: new for new, old in enumerate(kept)}
        planned = []
        for i in kept:
            commitment = self.commitments[i]
            channel = position.get(commitment.channel) if commitment.channel is not None else None
            planned.append(replace(commitment, channel=channel))
        return replace(self, commitments=planned)


def _day(rng: random.Random, first: dt.date = FIRST_DAY, last: dt.date = TODAY) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def _money(rng: random.Random) -> Decimal:
    # Mostly cents, sometimes four places, so even shares need rounding down.
    places = rng.choice([2, 2, 2, 4])
    return Decimal(rng.randint(100, 5_000_000 * 10**places)).scaleb(-places)


def _line(rng: random.Random) -> PlannedLine:
    category = rng.choice(list(UNITS))
    valued = rng.random() < 0.7
    currency = rng.choice(CURRENCIES) if valued else None
    return PlannedLine(
        category=category,
        unit=rng.choice(UNITS[category]),
        quantity=Decimal(rng.randint(1, 50_000)),
        fair_value=_money(rng) if valued else None,
        currency=currency,
    )


def _delivery(rng: random.Random, commitment: PlannedCommitment, after: dt.date) -> PlannedDelivery:
    goods = commitment.lines and (
        commitment.kind is models.ResourceKind.IN_KIND or rng.random() < 0.4
    )
    beneficiaries = rng.choice([None, rng.randint(0, 20_000)])
    share = None
    if beneficiaries is not None and rng.random() < 0.4:
        share = Decimal(rng.randint(1, 10_000)).scaleb(-2)
    review = rng.choice([None, None, Status.CONFIRMED, Status.DISPUTED])
    day = _day(rng, first=min(after, TODAY))
    if goods:
        line = rng.randrange(len(commitment.lines))
        quantity = Decimal(rng.randint(1, int(commitment.lines[line].quantity)))
        return PlannedDelivery(
            day,
            line=line,
            quantity=quantity,
            beneficiaries=beneficiaries,
            share=share,
            review=review,
        )
    return PlannedDelivery(
        day,
        amount=_money(rng),
        currency=rng.choice(CURRENCIES),
        beneficiaries=beneficiaries,
        share=share,
        review=review,
    )


def plan(seed: int, size: int, *, organisations: int = 12, workstreams: int = 3) -> Plan:
    rng = random.Random(seed)
    named = [("Partner", "70")] + [
        (f"Organisation {chr(65 + i)}", rng.choice(ORGANISATION_TYPES))
        for i in range(organisations - 1)
    ]
    planned: list[PlannedCommitment] = []
    for _ in range(size):
        kind = rng.choice(list(models.ResourceKind))
        cash = kind is not models.ResourceKind.IN_KIND
        start = rng.choice([None, _day(rng)])
        length = rng.choice([0, 100, 364, 365, 366, 800])
        stage = rng.choice(list(Stage))
        channels = [
            i
            for i, earlier in enumerate(planned)
            if earlier.channel is None and earlier.kind is not models.ResourceKind.IN_KIND
        ]
        organisation = rng.randrange(organisations)
        channel = None
        if cash and channels and rng.random() < 0.15:
            channel = rng.choice(channels)
            if planned[channel].organisation == organisation:
                channel = None
        commitment = PlannedCommitment(
            title=f"Commitment {len(planned) + 1}",
            organisation=organisation,
            workstream=rng.choice([None, *range(workstreams)]),
            kind=kind,
            stage=stage,
            visibility=rng.choice(list(models.Visibility)),
            amount=_money(rng) if cash else None,
            currency=rng.choice(CURRENCIES) if cash else None,
            value_date=_day(rng) if cash and rng.random() < 0.95 else None,
            earmarking=rng.choice([None, "1", "2", "3", "4"]) if cash else None,
            # Now and then a country twice: it takes two shares.
            countries=rng.sample(COUNTRIES, rng.randint(0, 3))
            + (["KE"] if rng.random() < 0.05 else []),
            sdg_targets=rng.sample(TARGETS, rng.randint(0, 3)),
            start_date=start,
            end_date=None
            if start is None or rng.random() < 0.2
            else start + dt.timedelta(days=length),
            embargoed=rng.random() < 0.08,
            lines=[_line(rng) for _ in range(rng.randint(1, 3))]
            if not cash or kind is models.ResourceKind.MIXED
            else [],
            channel=channel,
            closed_from=rng.choice([Stage.PLEDGED, Stage.COMMITTED]),
        )
        delivers = stage in (Stage.IN_DELIVERY, Stage.FULFILLED) or (
            stage in (Stage.WITHDRAWN, Stage.CANCELLED)
            and commitment.closed_from is Stage.COMMITTED
        )
        if delivers:
            after = commitment.value_date or FIRST_DAY
            count = rng.randint(1 if stage is Stage.IN_DELIVERY else 0, 4)
            commitment = replace(
                commitment, deliveries=[_delivery(rng, commitment, after) for _ in range(count)]
            )
        planned.append(commitment)
    # Two organisations tie on committed cash: the ranking orders them by name.
    for organisation in (organisations - 2, organisations - 1):
        planned.append(
            PlannedCommitment(
                title=f"Tie {organisation}",
                organisation=organisation,
                workstream=None,
                kind=models.ResourceKind.FINANCIAL,
                stage=Stage.COMMITTED,
                visibility=models.Visibility.PUBLIC,
                amount=Decimal("7777777.77"),
                currency="USD",
                value_date=TODAY,
            )
        )
    return Plan(organisations=named, workstreams=workstreams, commitments=planned)


@dataclass
class World:
    coalition: models.Coalition
    organisations: list[models.Organisation]
    workstreams: list[models.Workstream]
    commitments: list[models.Commitment]


async def publish_rates(session: AsyncSession) -> None:
    day = FIRST_DAY - dt.timedelta(days=40)
    while day <= TODAY:
        for currency, rate in RATES.items():
            if currency != "GBP" or day <= GBP_UNTIL:
                await fx.publish_rate(
                    session,
                    SYSTEM,
                    currency=currency,
                    rate_date=day,
                    usd_per_unit=rate,
                    source="Test bank",
                )
        day += dt.timedelta(days=9)
    await session.commit()


async def organisations_of(session: AsyncSession, plan: Plan) -> list[models.Organisation]:
    return [
        await make_organisation(session, name=name, organisation_type=organisation_type)
        for name, organisation_type in plan.organisations
    ]


async def record(
    session: AsyncSession,
    plan: Plan,
    coalition: models.Coalition,
    organisations: list[models.Organisation],
) -> World:
    """Record the plan in `coalition` (its organisations become ACTIVE members)."""
    assert coalition.id is not None
    for organisation in organisations:
        await make_membership(session, coalition, organisation)
    workstreams = [
        await make_workstream(session, coalition, name=f"Flagship {number + 1}")
        for number in range(plan.workstreams)
    ]
    recorded: list[models.Commitment] = []
    for planned in plan.commitments:
        recorded.append(
            await _pledge(session, planned, coalition, organisations, workstreams, recorded)
        )
    await session.commit()
    for planned, commitment in zip(plan.commitments, recorded, strict=True):
        await _carry_out(session, planned, commitment, organisations[planned.organisation])
    await session.commit()
    return World(coalition, organisations, workstreams, recorded)


async def _pledge(
    session: AsyncSession,
    planned: PlannedCommitment,
    coalition: models.Coalition,
    organisations: list[models.Organisation],
    workstreams: list[models.Workstream],
    recorded: list[models.Commitment],
) -> models.Commitment:
    assert coalition.id is not None
    organisation = organisations[planned.organisation]
    assert organisation.id is not None
    embargo = dt.datetime.now(dt.UTC) + dt.timedelta(days=30) if planned.embargoed else None
    draft = CommitmentDraft(
        coalition_id=coalition.id,
        organisation_id=organisation.id,
        title=planned.title,
        resource_kind=planned.kind,
        workstream_id=workstreams[planned.workstream].id
        if planned.workstream is not None
        else None,
        amount=planned.amount,
        currency=planned.currency,
        value_date=planned.value_date,
        earmarking=planned.earmarking,
        in_kind=[
            InKindDraft(
                category=line.category,
                description="Help",
                quantity=line.quantity,
                unit=line.unit,
                fair_value=line.fair_value,
                fair_value_currency=line.currency,
                valuation_method="List price" if line.fair_value is not None else None,
            )
            for line in planned.lines
        ],
        countries=planned.countries,
        sdg_targets=planned.sdg_targets,
        funded_through_id=recorded[planned.channel].id if planned.channel is not None else None,
        start_date=planned.start_date,
        end_date=planned.end_date,
        visibility=planned.visibility,
        embargo_until=embargo,
    )
    return await commitments.pledge(session, SYSTEM, draft=draft)


async def _carry_out(
    session: AsyncSession,
    planned: PlannedCommitment,
    commitment: models.Commitment,
    organisation: models.Organisation,
) -> None:
    """Firm it up, record its deliveries and their reviews, then move it to its stage."""
    assert commitment.id is not None
    closing = planned.stage in (Stage.WITHDRAWN, Stage.CANCELLED)
    firm = planned.stage is not Stage.PLEDGED and not (
        closing and planned.closed_from is Stage.PLEDGED
    )
    if firm:
        commitment = await commitments.advance(
            session,
            SYSTEM,
            commitment_id=commitment.id,
            version=commitment.version,
            stage=Stage.COMMITTED,
        )
    if planned.deliveries:
        lines = await commitments.in_kind_lines(session, commitment_ids=[commitment.id])
        for delivery in planned.deliveries:
            await _deliver(session, commitment, delivery, lines)
    commitment = await commitments.get(session, SYSTEM, commitment_id=commitment.id)
    if (
        planned.stage in (Stage.IN_DELIVERY, Stage.FULFILLED)
        and commitment.stage is Stage.COMMITTED
    ):
        commitment = await commitments.advance(
            session,
            SYSTEM,
            commitment_id=commitment.id,
            version=commitment.version,
            stage=Stage.IN_DELIVERY,
        )
    if planned.stage is Stage.FULFILLED:
        commitment = await commitments.advance(
            session,
            SYSTEM,
            commitment_id=commitment.id,
            version=commitment.version,
            stage=Stage.FULFILLED,
        )
    if planned.stage is Stage.CANCELLED:
        await commitments.cancel(
            session, SYSTEM, commitment_id=commitment.id, version=commitment.version, reason="Test"
        )
    if planned.stage is Stage.WITHDRAWN:
        partner = Actor(
            name="partner",
            role=models.Role.PARTNER_EDITOR,
            organisation_id=organisation.id,
            member_coalition_ids=frozenset({commitment.coalition_id}),
        )
        await commitments.withdraw(
            session, partner, commitment_id=commitment.id, version=commitment.version, reason="Test"
        )


async def _deliver(
    session: AsyncSession,
    commitment: models.Commitment,
    planned: PlannedDelivery,
    lines: list[models.InKindLine],
) -> None:
    assert commitment.id is not None
    draft = deliveries.DeliveryDraft(
        delivered_on=planned.delivered_on,
        amount=planned.amount,
        currency=planned.currency,
        in_kind_line_id=lines[planned.line].id if planned.line is not None else None,
        quantity=planned.quantity,
        beneficiaries=planned.beneficiaries,
        beneficiary_share=planned.share,
    )
    delivery = await deliveries.report(session, SYSTEM, commitment_id=commitment.id, draft=draft)
    assert delivery.id is not None
    if planned.review is Status.CONFIRMED:
        await deliveries.confirm(session, SYSTEM, delivery_id=delivery.id)
    elif planned.review is Status.DISPUTED:
        await deliveries.dispute(session, SYSTEM, delivery_id=delivery.id, reason="Not received")
