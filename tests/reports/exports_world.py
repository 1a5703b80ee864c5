"""A small coalition with one of every kind of row the CSV exports must write exactly: cash
in a converted currency, in-kind lines (valued and not), mixed, unconverted, a pass-through
link, a confidential and a withdrawn commitment, and deliveries of each status with shares.

Made through the services, then the instants the export writes (which the services take
from the clock) are set to known values, so tests can compare whole rows.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.actors import SYSTEM, Actor
from backend.services import deliveries, fx
from tests.factories import (
    in_kind_line,
    make_coalition,
    make_commitment,
    make_membership,
    make_organisation,
    make_workstream,
)

RECORDED = dt.datetime(2025, 6, 10, 9, 30, 0, 123456, tzinfo=dt.UTC)
PROGRESS = dt.datetime(2025, 7, 1, 12, 0, tzinfo=dt.UTC)
DELIVERY_RECORDED = dt.datetime(2025, 7, 2, 8, 0, tzinfo=dt.UTC)
REVIEWED = dt.datetime(2025, 7, 3, 10, 15, tzinfo=dt.UTC)
EMBARGO = dt.datetime(2025, 9, 1, 0, 0, tzinfo=dt.UTC)
# The desk that reports deliveries, and the analyst who reviews them.
DESK = Actor(name="Secretariat desk", role=models.Role.SECRETARIAT_ADMIN)
REVIEWER = Actor(name="Amina Reviewer", role=models.Role.SECRETARIAT_ADMIN)


@dataclass
class World:
    coalition: models.Coalition
    other_coalition: models.Coalition
    brightwave: models.Organisation
    kalinga: models.Organisation
    escola: models.Organisation
    outsider: models.Organisation
    cash: models.Commitment
    in_kind: models.Commitment
    mixed: models.Commitment
    unconverted: models.Commitment
    passed_through: models.Commitment
    confidential: models.Commitment
    withdrawn: models.Commitment
    elsewhere: models.Commitment
    reported: models.Delivery
    confirmed: models.Delivery
    disputed: models.Delivery


async def _publish(session: AsyncSession, currency: str, rate: str, on: dt.date) -> None:
    await fx.publish_rate(
        session, SYSTEM, currency=currency, rate_date=on, usd_per_unit=Decimal(rate), source="ECB"
    )
    await session.commit()


async def _deliver(
    session: AsyncSession,
    commitment: models.Commitment,
    *,
    key: str | None = None,
    **fields: object,
) -> models.Delivery:
    assert commitment.id is not None
    delivery = await deliveries.report(
        session,
        DESK,
        commitment_id=commitment.id,
        draft=deliveries.DeliveryDraft(**fields),  # type: ignore[arg-type]
        idempotency_key=key,
    )
    await session.commit()
    return delivery


async def build(session: AsyncSession) -> World:
    await _publish(session, "EUR", "1.08", dt.date(2025, 6, 1))
    coalition = await make_coalition(session, slug="learning-continuity", name="Learning")
    other_coalition = await make_coalition(session, slug="resiliart", name="ResiliArt")
    workstream = await make_workstream(session, coalition, name="Connectivity")
    brightwave = await make_organisation(
        session,
        name="Brightwave Telecom",
        acronym="BWT",
        iati_identifier="GB-COH-09000001",
        country="GB",
        organisation_type="70",
        website="https://brightwave.example",
        description='Mobile operator, "Brightwave", with data bundles,\nfor learners.',
    )
    kalinga = await make_organisation(
        session, name="Kalinga Reading Corps", country="KE", organisation_type="21"
    )
    escola = await make_organisation(
        session, name="Escola Aberta", country="BR", organisation_type="22"
    )
    outsider = await make_organisation(session, name="Outsider Fund", country="US")
    for organisation in (brightwave, kalinga):
        await make_membership(session, coalition, organisation)
    await make_membership(session, other_coalition, outsider)

    cash = await make_commitment(
        session,
        coalition,
        brightwave,
        stage=models.Stage.COMMITTED,
        title="Data bundles, cash part",
        description="Paid in two tranches.",
        workstream_id=workstream.id,
        amount=Decimal("10000.50"),
        currency="EUR",
        value_date=dt.date(2025, 6, 10),
        earmarking="2",
        countries=["KE", "UG"],
        sdg_targets=["4.1", "4.5"],
        sectors=["11220"],
        start_date=dt.date(2025, 6, 1),
        end_date=dt.date(2026, 5, 31),
    )
    in_kind = await make_commitment(
        session,
        coalition,
        kalinga,
        stage=models.Stage.COMMITTED,
        title="Reading devices",
        resource_kind=models.ResourceKind.IN_KIND,
        amount=None,
        currency=None,
        in_kind=[
            in_kind_line(
                fair_value=Decimal("1200"),
                fair_value_currency="USD",
                valuation_method="List price",
            ),
            in_kind_line(
                category=models.InKindCategory.DEVICES,
                description="E-readers",
                quantity=Decimal("30"),
                unit="device",
                free_of_charge=False,
                free_until=dt.date(2026, 1, 31),
            ),
        ],
        countries=["KE"],
    )
    mixed = await make_commitment(
        session,
        coalition,
        brightwave,
        title="Training and cash",
        resource_kind=models.ResourceKind.MIXED,
        amount=Decimal("5000"),
        currency="USD",
        value_date=dt.date(2025, 6, 12),
        in_kind=[
            in_kind_line(
                category=models.InKindCategory.TRAINING,
                description="Teacher training seats",
                quantity=Decimal("10"),
                unit="seat",
                fair_value=Decimal("900"),
                fair_value_currency="EUR",
                valuation_method="Course fee",
            )
        ],
    )
    unconverted = await make_commitment(
        session,
        coalition,
        kalinga,
        title="Shillings, no rate",
        amount=Decimal("2000000"),
        currency="KES",
        value_date=dt.date(2025, 6, 15),
    )
    passed_through = await make_commitment(
        session,
        coalition,
        kalinga,
        stage=models.Stage.COMMITTED,
        title="Through Brightwave",
        amount=Decimal("3000"),
        currency="USD",
        value_date=dt.date(2025, 6, 20),
        funded_through_id=cash.id,
    )
    confidential = await make_commitment(
        session,
        coalition,
        brightwave,
        title="Undisclosed grant",
        amount=Decimal("7000"),
        currency="USD",
        value_date=dt.date(2025, 6, 25),
        visibility=models.Visibility.CONFIDENTIAL,
        embargo_until=EMBARGO,
    )
    withdrawn = await make_commitment(
        session,
        coalition,
        kalinga,
        stage=models.Stage.WITHDRAWN,
        title="Withdrawn pledge",
        amount=Decimal("1500"),
        currency="USD",
        value_date=dt.date(2025, 7, 5),
    )
    elsewhere = await make_commitment(session, other_coalition, outsider, title="Other coalition")

    reported = await _deliver(
        session,
        cash,
        key="tranche-1",
        delivered_on=dt.date(2025, 7, 1),
        amount=Decimal("1000"),
        currency="EUR",
        country="KE",
        receiving_organisation_id=escola.id,
        beneficiaries=120,
        beneficiary_share=Decimal("50"),
        evidence_url="https://evidence.example/1",
        note="First tranche; schools in Kisumu",
    )
    confirmed = await _deliver(
        session,
        cash,
        delivered_on=dt.date(2025, 6, 20),
        amount=Decimal("500.25"),
        currency="EUR",
        receiving_organisation_id=brightwave.id,
        beneficiaries=3,
        beneficiary_share=Decimal("33.33"),
    )
    await deliveries.confirm(session, REVIEWER, delivery_id=_id(confirmed))
    await session.commit()
    [line, _] = await _lines(session, in_kind)
    disputed = await _deliver(
        session,
        in_kind,
        delivered_on=dt.date(2025, 8, 15),
        in_kind_line_id=line,
        quantity=Decimal("2500"),
    )
    await deliveries.dispute(
        session, REVIEWER, delivery_id=_id(disputed), reason="Only half arrived"
    )
    await session.commit()
    await _set_instants(session)
    return World(
        coalition=coalition,
        other_coalition=other_coalition,
        brightwave=brightwave,
        kalinga=kalinga,
        escola=escola,
        outsider=outsider,
        cash=cash,
        in_kind=in_kind,
        mixed=mixed,
        unconverted=unconverted,
        passed_through=passed_through,
        confidential=confidential,
        withdrawn=withdrawn,
        elsewhere=elsewhere,
        reported=reported,
        confirmed=confirmed,
        disputed=disputed,
    )


def _id(row: models.Delivery | models.Commitment) -> int:
    assert row.id is not None
    return row.id


async def _lines(session: AsyncSession, commitment: models.Commitment) -> list[int]:
    line = models.InKindLine
    found = await session.scalars(
        sa.select(line.id)  # type: ignore[call-overload]
        .where(line.commitment_id == _id(commitment))
        .order_by(line.position)
    )
    return list(found)


async def _set_instants(session: AsyncSession) -> None:
    commitment = models.table_of(models.Commitment)
    delivery = models.table_of(models.Delivery)
    await session.execute(commitment.update().values(created_at=RECORDED))
    await session.execute(
        commitment.update()
        .where(commitment.c.last_progress_at.is_not(None))
        .values(last_progress_at=PROGRESS)
    )
    # An in-kind commitment is valued on the day recorded: its USD lines' identity rate too.
    line = models.table_of(models.InKindLine)
    await session.execute(
        line.update()
        .where(line.c.usd_rate_source == "identity")
        .values(usd_rate_date=RECORDED.date())
    )
    await session.execute(delivery.update().values(created_at=DELIVERY_RECORDED))
    await session.execute(
        delivery.update().where(delivery.c.reviewed_at.is_not(None)).values(reviewed_at=REVIEWED)
    )
    await session.commit()
