"""The rows an IATI activity file is made of, read with SQL Core (no ORM objects).

Only public facts leave the hub in IATI files: commitments that are PUBLIC, announced (no
embargo in force) and not withdrawn or cancelled, and their cash deliveries that are not
disputed. A pass-through commitment whose channel is exported is left out: its money is
reported once, at the channel.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.errors import NotFound
from backend.reports.scope import CLOSED_STAGES

_COUNTED_DELIVERIES = (models.DeliveryStatus.REPORTED, models.DeliveryStatus.CONFIRMED)


@dataclass(frozen=True)
class Organisation:
    id: int
    name: str
    iati_identifier: str | None
    organisation_type: str


@dataclass(frozen=True)
class Workstream:
    id: int
    name: str
    description: str | None
    target_metric: str | None
    target_value: Decimal | None
    target_date: dt.date | None
    status: models.WorkstreamStatus
    created_at: dt.datetime


@dataclass(frozen=True)
class Commitment:
    id: int
    ref: str
    title: str
    organisation_id: int
    workstream_id: int | None
    stage: models.Stage
    # The cash part, in its own currency; None for in-kind only.
    amount: Decimal | None
    currency: str | None
    amount_usd: Decimal | None
    # The day its money is valued at (value date, or the day recorded) and the day of the
    # rate pinned on it.
    valued_on: dt.date
    usd_rate_date: dt.date | None
    recorded_on: dt.date
    earmarking: str | None
    countries: list[str]
    sdg_targets: list[str]
    sectors: list[str]
    updated_at: dt.datetime


@dataclass(frozen=True)
class Delivery:
    id: int
    commitment_id: int
    key: str | None
    delivered_on: dt.date
    amount: Decimal
    currency: str
    usd_rate_date: dt.date | None
    receiving_organisation_id: int | None
    updated_at: dt.datetime


@dataclass(frozen=True)
class Source:
    """Everything one coalition's IATI file says, public facts only."""

    coalition_id: int
    slug: str
    name: str
    description: str | None
    status: models.CoalitionStatus
    launched_on: dt.date | None
    sdg_goals: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime
    host: Organisation | None
    workstreams: list[Workstream]
    commitments: list[Commitment]
    # Cash deliveries (reported or confirmed) of the exported commitments.
    deliveries: list[Delivery]
    # ACTIVE members: organisation id -> the workstreams it takes part in.
    members: dict[int, list[int]]
    organisations: dict[int, Organisation]


def _exported(commitment: Any, coalition_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        commitment.c.coalition_id == coalition_id,
        commitment.c.visibility == models.Visibility.PUBLIC,
        commitment.c.announced_at.is_not(None),
        commitment.c.stage.not_in(CLOSED_STAGES),
    )


def exported_commitments(coalition_id: int) -> sa.Select[Any]:
    """The exported commitments of a coalition, pass-through ones whose channel is exported
    left out."""
    commitment = models.table_of(models.Commitment)
    channel = commitment.alias("channel")
    channel_exported = (
        sa.select(channel.c.id)
        .where(channel.c.id == commitment.c.funded_through_id, _exported(channel, coalition_id))
        .exists()
    )
    return sa.select(commitment).where(_exported(commitment, coalition_id), ~channel_exported)


async def read(session: AsyncSession, slug: str) -> Source:
    """The coalition `slug`'s public facts; NotFound when there is no such coalition."""
    coalition = models.table_of(models.Coalition)
    found = (await session.execute(sa.select(coalition).where(coalition.c.slug == slug))).first()
    if found is None:
        raise NotFound(f"No coalition has the slug '{slug}'.")
    commitments = [
        _commitment(row) for row in await session.execute(exported_commitments(found.id))
    ]
    deliveries = await _deliveries(session, found.id)
    members = await _members(session, found.id)
    wanted = {item.organisation_id for item in commitments} | set(members)
    wanted |= {
        item.receiving_organisation_id for item in deliveries if item.receiving_organisation_id
    }
    if found.host_organisation_id is not None:
        wanted.add(found.host_organisation_id)
    organisations = await _organisations(session, wanted)
    return Source(
        coalition_id=found.id,
        slug=found.slug,
        name=found.name,
        description=found.description,
        status=found.status,
        launched_on=found.launched_on,
        sdg_goals=list(found.sdg_goals),
        created_at=found.created_at,
        updated_at=found.updated_at,
        host=organisations.get(found.host_organisation_id),
        workstreams=await _workstreams(session, found.id),
        commitments=commitments,
        deliveries=deliveries,
        members=members,
        organisations=organisations,
    )


def _commitment(row: Any) -> Commitment:
    cash = row.amount is not None and row.resource_kind != models.ResourceKind.IN_KIND
    return Commitment(
        id=row.id,
        ref=row.ref,
        title=row.title,
        organisation_id=row.organisation_id,
        workstream_id=row.workstream_id,
        stage=row.stage,
        amount=row.amount if cash else None,
        currency=row.currency if cash else None,
        amount_usd=row.amount_usd if cash else None,
        # As services.commitments.valued_on: the day its rate was pinned for.
        valued_on=row.value_date or row.created_at.date(),
        usd_rate_date=row.usd_rate_date,
        recorded_on=row.created_at.date(),
        earmarking=row.earmarking,
        countries=list(row.countries or []),
        sdg_targets=list(row.sdg_targets or []),
        sectors=list(row.sectors or []),
        updated_at=row.updated_at,
    )


async def _deliveries(session: AsyncSession, coalition_id: int) -> list[Delivery]:
    delivery = models.table_of(models.Delivery)
    exported_ids = exported_commitments(coalition_id).with_only_columns(
        models.table_of(models.Commitment).c.id
    )
    statement = (
        sa.select(delivery)
        .where(
            delivery.c.commitment_id.in_(exported_ids),
            # In-kind deliveries have no IATI transaction type.
            delivery.c.in_kind_line_id.is_(None),
            delivery.c.amount.is_not(None),
            delivery.c.status.in_(_COUNTED_DELIVERIES),
        )
        .order_by(delivery.c.delivered_on, delivery.c.id)
    )
    return [
        Delivery(
            id=row.id,
            commitment_id=row.commitment_id,
            key=row.idempotency_key,
            delivered_on=row.delivered_on,
            amount=row.amount,
            currency=row.currency,
            usd_rate_date=row.usd_rate_date,
            receiving_organisation_id=row.receiving_organisation_id,
            updated_at=row.updated_at,
        )
        for row in await session.execute(statement)
    ]


async def _members(session: AsyncSession, coalition_id: int) -> dict[int, list[int]]:
    membership = models.table_of(models.Membership)
    statement = sa.select(membership.c.organisation_id, membership.c.workstream_ids).where(
        membership.c.coalition_id == coalition_id,
        membership.c.status == models.MembershipStatus.ACTIVE,
    )
    return {
        organisation_id: list(workstream_ids or [])
        for organisation_id, workstream_ids in await session.execute(statement)
    }


async def _organisations(session: AsyncSession, ids: Iterable[int]) -> dict[int, Organisation]:
    wanted = sorted(ids)
    if not wanted:
        return {}
    organisation = models.table_of(models.Organisation)
    statement = sa.select(
        organisation.c.id,
        organisation.c.name,
        organisation.c.iati_identifier,
        organisation.c.organisation_type,
    ).where(organisation.c.id.in_(wanted))
    return {row.id: Organisation(*row) for row in await session.execute(statement)}


async def _workstreams(session: AsyncSession, coalition_id: int) -> list[Workstream]:
    workstream = models.table_of(models.Workstream)
    statement = (
        sa.select(
            workstream.c.id,
            workstream.c.name,
            workstream.c.description,
            workstream.c.target_metric,
            workstream.c.target_value,
            workstream.c.target_date,
            workstream.c.status,
            workstream.c.created_at,
        )
        .where(workstream.c.coalition_id == coalition_id)
        .order_by(workstream.c.id)
    )
    return [Workstream(*row) for row in await session.execute(statement)]
