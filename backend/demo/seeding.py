"""Feeds the demo plan through the services, so every rule, audit record and feed event applies.

The secretariat (backend.actors.SYSTEM) records almost everything; where only a partner
may act — withdrawing its own commitment, reporting its own delivery, confirming receipt —
a partner actor of that organisation does, as its staff would through the API.
"""

import datetime as dt
import secrets
from dataclasses import dataclass, field
from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from backend import models
from backend.actors import SYSTEM, Actor
from backend.db import SessionFactory
from backend.demo import bulk, catalogue, coordination, records
from backend.demo import plan as planning
from backend.demo.progress import Progress
from backend.services import (
    activities,
    coalitions,
    commitments,
    deliveries,
    fx,
    memberships,
    organisations,
    tokens,
)
from backend.services.commitment_rules import CommitmentDraft, ImportedRecord

SLUG = catalogue.LEARNING
# Service calls per transaction: large enough that COMMIT costs little, small enough that
# a long seed holds no lock for long.
BATCH = 250
# Larger scales are written in bulk (backend/demo/bulk.py): the services take about 20 ms
# per commitment with its deliveries, hours for a hundred thousand.
BULK_ABOVE_SCALE = 10
TOKEN_LIFETIME = dt.timedelta(days=30)
Stage = models.Stage


class _Quiet:
    def begin(self, total: int) -> None:
        pass

    def advance(self, phase: str, steps: int = 1) -> None:
        pass


@dataclass(frozen=True)
class Seeded:
    """What a run created; `created` is False when the demo was already there. The counts
    are the plan's: the coordination layer's accepted match and converted opportunity add a
    commitment each (backend/demo/coordination.py)."""

    created: bool
    organisations: int = 0
    memberships: int = 0
    commitments: int = 0
    deliveries: int = 0
    activities: int = 0


@dataclass(frozen=True)
class DemoTokens:
    admin: tokens.IssuedToken
    partner: tokens.IssuedToken
    partner_organisation: str


async def seed(
    session_factory: SessionFactory,
    *,
    scale: int = 1,
    progress: Progress | None = None,
    today: dt.date | None = None,
    deliveries_per_commitment: float | None = None,
    bulk: bool | None = None,
    rate_window_days: int = fx.DEFAULT_WINDOW_DAYS,
) -> Seeded:
    """Create the demo once; a second run finds the learning coalition by slug and stops.

    `bulk` writes the rows with SQLAlchemy Core in batches (`backend/demo/bulk.py`)
    instead of one service call each; None: in bulk above BULK_ABOVE_SCALE."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    if deliveries_per_commitment is not None and deliveries_per_commitment < 0:
        raise ValueError("deliveries per commitment cannot be negative")
    async with session_factory() as session:
        if await coalitions.find(session, SYSTEM, slug=SLUG) is not None:
            return Seeded(created=False)
    plan = planning.build(
        scale=scale,
        today=today or dt.date.today(),
        deliveries_per_commitment=deliveries_per_commitment,
    )
    progress = progress or _Quiet()
    progress.begin(plan.steps)
    async with _Batches(session_factory, progress) as batches:
        ids = await _coalitions(batches, plan)
        ids.rate_window_days = rate_window_days
        for rate in plan.rates:
            await fx.publish_rate(
                batches.session,
                SYSTEM,
                currency=rate.currency,
                rate_date=rate.rate_date,
                usd_per_unit=rate.usd_per_unit,
                source=catalogue.RATE_SOURCE,
            )
            await batches.done("Exchange rates")
        if bulk if bulk is not None else scale > BULK_ABOVE_SCALE:
            await batches.commit()
            await _bulk(batches, ids, plan)
        else:
            await _through_services(batches, ids, plan)
        await batches.commit()
        await _analyze(batches.session)
        progress.advance("Done", 0)
    return Seeded(
        created=True,
        organisations=len(plan.organisations),
        memberships=len(plan.memberships),
        commitments=len(plan.commitments),
        deliveries=plan.deliveries,
        activities=len(plan.activities),
    )


# The tables a seed fills, whose statistics the query planner needs.
_FILLED: list[type[SQLModel]] = [
    models.Organisation,
    models.Membership,
    models.Commitment,
    models.InKindLine,
    models.Delivery,
    models.Activity,
    models.FxRate,
    models.AuditRecord,
    models.FeedEvent,
]


async def _analyze(session: AsyncSession) -> None:
    """Fresh planner statistics for what was just written. Without them (autovacuum off,
    or not come round yet) PostgreSQL plans for the empty tables it last saw: a dashboard
    over 100,000 commitments then nests loops for minutes instead of a second."""
    names = [models.table_of(model).name for model in _FILLED]
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await session.execute(sa.text(f"ANALYZE {', '.join(names)}"))
    else:
        await session.execute(sa.text("ANALYZE"))
    await session.commit()


async def _through_services(batches: "_Batches", ids: "_Ids", plan: records.Plan) -> None:
    for planned in plan.organisations:
        if planned.key not in ids.organisations:
            await _register(batches, ids, planned)
    for membership in plan.memberships:
        await _admit(batches, ids, membership)
    for commitment in plan.commitments:
        await _commitment(batches, ids, commitment)
    for activity in plan.activities:
        await _activity(batches, ids, activity)
    for membership in plan.memberships:
        await _leave(batches, ids, membership)
    await coordination.seed(
        batches.session,
        coalition_id=ids.coalitions[SLUG],
        organisations=ids.organisations,
        workstream_id=ids.workstreams[(SLUG, "Connectivity flagship")],
        partner=ids.partner,
        today=plan.today,
    )


async def _bulk(batches: "_Batches", ids: "_Ids", plan: records.Plan) -> None:
    writer = bulk.Writer(
        batches.session,
        plan,
        organisations=ids.organisations,
        coalitions=ids.coalitions,
        workstreams=ids.workstreams,
        rate_window_days=ids.rate_window_days,
        progress=batches.progress,
    )
    await writer.write()


async def issue_tokens(session_factory: SessionFactory) -> DemoTokens:
    """Fresh tokens to try the API with: a secretariat admin and a partner editor."""
    organisation = models.Organisation
    async with session_factory() as session:
        partner = await session.scalar(
            sa.select(organisation).where(col(organisation.acronym) == catalogue.PARTNER)
        )
        if partner is None:
            raise LookupError("The demo organisations are not there; run seed-demo first.")
        expires_at = models.utcnow() + TOKEN_LIFETIME
        admin = await tokens.create(
            session,
            SYSTEM,
            name="Demo secretariat admin",
            role=models.Role.SECRETARIAT_ADMIN,
            organisation_id=None,
            expires_at=expires_at,
        )
        editor = await tokens.create(
            session,
            SYSTEM,
            name=f"Demo partner editor ({partner.name})",
            role=models.Role.PARTNER_EDITOR,
            organisation_id=partner.id,
            expires_at=expires_at,
        )
        await session.commit()
    return DemoTokens(admin=admin, partner=editor, partner_organisation=partner.name)


class _Batches:
    """One session; COMMIT after every BATCH service calls, and at the end."""

    def __init__(self, session_factory: SessionFactory, progress: Progress) -> None:
        self.session: AsyncSession = session_factory()
        self.progress = progress
        self.pending = 0

    async def __aenter__(self) -> "_Batches":
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if error is None:
                await self.session.commit()
            else:
                await self.session.rollback()
        finally:
            await self.session.close()

    async def done(self, phase: str, steps: int = 1) -> None:
        self.progress.advance(phase, steps)
        self.pending += steps
        if self.pending >= BATCH:
            await self.commit()

    async def commit(self) -> None:
        await self.session.commit()
        self.pending = 0


@dataclass
class _Ids:
    organisations: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, str] = field(default_factory=dict)
    coalitions: dict[str, int] = field(default_factory=dict)
    workstreams: dict[tuple[str, str], int] = field(default_factory=dict)
    memberships: dict[tuple[str, str], int] = field(default_factory=dict)
    # Coalitions where each organisation is an ACTIVE member, for its partner actor.
    active_in: dict[str, set[int]] = field(default_factory=dict)
    # The session's identity map holds rows only weakly: keeping the organisations,
    # coalitions and workstreams referenced lets the services' `session.get` find them
    # there instead of asking the database again for every commitment.
    kept: list[object] = field(default_factory=list)
    # Ids of the commitments seeded so far, in plan order (pass-through links name them).
    commitments: list[int] = field(default_factory=list)
    rate_window_days: int = fx.DEFAULT_WINDOW_DAYS

    def partner(self, key: str) -> Actor:
        """A member of the organisation's staff, acting through the API."""
        return Actor(
            name=f"{self.contacts[key]} ({key})",
            role=models.Role.PARTNER_EDITOR,
            organisation_id=self.organisations[key],
            member_coalition_ids=frozenset(self.active_in.get(key, set())),
        )


async def _coalitions(batches: _Batches, plan: records.Plan) -> _Ids:
    """The host, both coalitions and their workstreams, committed first: they mark the demo."""
    ids = _Ids()
    host = next(item for item in plan.organisations if item.key == catalogue.HOST)
    await _register(batches, ids, host)
    for fact in catalogue.COALITIONS:
        draft = coalitions.CoalitionDraft(
            slug=fact.slug,
            name=fact.name,
            kind=fact.kind,
            host_organisation_id=ids.organisations[host.key] if fact.slug == SLUG else None,
            launched_on=plan.today - dt.timedelta(days=fact.launched_days_ago),
            description=fact.description,
            sdg_goals=fact.sdg_goals,
        )
        coalition = await coalitions.create(batches.session, SYSTEM, draft=draft)
        assert coalition.id is not None
        ids.coalitions[fact.slug] = coalition.id
        ids.kept.append(coalition)
    for workstream in catalogue.WORKSTREAMS:
        created = await coalitions.create_workstream(
            batches.session,
            SYSTEM,
            coalition_id=ids.coalitions[workstream.coalition],
            draft=coalitions.WorkstreamDraft(
                name=workstream.name,
                kind=workstream.kind,
                description=workstream.description,
                target_metric=workstream.target_metric,
                target_value=workstream.target_value,
                target_date=workstream.target_date,
            ),
        )
        assert created.id is not None
        ids.workstreams[(workstream.coalition, workstream.name)] = created.id
        ids.kept.append(created)
    await batches.done("Coalitions")
    await batches.commit()
    return ids


async def _register(batches: _Batches, ids: _Ids, planned: records.PlannedOrganisation) -> None:
    organisation = await organisations.register(batches.session, SYSTEM, draft=planned.draft)
    assert organisation.id is not None
    ids.organisations[planned.key] = organisation.id
    ids.contacts[planned.key] = planned.contact
    ids.kept.append(organisation)
    await batches.done("Organisations")


async def _admit(batches: _Batches, ids: _Ids, planned: records.PlannedMembership) -> None:
    applied = planned.status is models.MembershipStatus.APPLIED
    coalition_id = ids.coalitions[planned.coalition]
    membership = await memberships.admit(
        batches.session,
        SYSTEM,
        coalition_id=coalition_id,
        organisation_id=ids.organisations[planned.organisation],
        draft=memberships.MembershipDraft(
            status=models.MembershipStatus.APPLIED if applied else models.MembershipStatus.ACTIVE,
            role=planned.role,
            joined_on=planned.joined_on,
            principles_accepted=[] if applied else catalogue.PRINCIPLES,
            workstream_ids=[ids.workstreams[(planned.coalition, w)] for w in planned.workstreams],
        ),
    )
    assert membership.id is not None
    ids.memberships[(planned.coalition, planned.organisation)] = membership.id
    if not applied:
        ids.active_in.setdefault(planned.organisation, set()).add(coalition_id)
    await batches.done("Memberships")


async def _leave(batches: _Batches, ids: _Ids, planned: records.PlannedMembership) -> None:
    """Suspensions and withdrawals, once the member's commitments are on record."""
    if planned.status in (models.MembershipStatus.ACTIVE, models.MembershipStatus.APPLIED):
        return
    await memberships.update(
        batches.session,
        SYSTEM,
        membership_id=ids.memberships[(planned.coalition, planned.organisation)],
        changes={"status": planned.status},
    )
    await batches.done("Memberships")


async def _commitment(batches: _Batches, ids: _Ids, planned: records.PlannedCommitment) -> None:
    session = batches.session
    coalition_id = ids.coalitions[planned.coalition]
    workstream_id = None
    if planned.workstream is not None:
        workstream_id = ids.workstreams[(planned.coalition, planned.workstream)]
    funded_through_id = None
    if planned.funded_through is not None:
        funded_through_id = ids.commitments[planned.funded_through]
    draft = CommitmentDraft(
        coalition_id=coalition_id,
        organisation_id=ids.organisations[planned.organisation],
        workstream_id=workstream_id,
        funded_through_id=funded_through_id,
        **planned.terms,
    )
    # Recorded when the plan says, as the secretariat's earlier records brought in would be:
    # money without a value date converts at that day's rate.
    imported = ImportedRecord(
        ref=f"CMT-{secrets.token_hex(5).upper()}", recorded_at=planned.recorded_at
    )
    commitment = await commitments.pledge(
        session, SYSTEM, draft=draft, rate_window_days=ids.rate_window_days, imported=imported
    )
    commitment_id = commitment.id
    assert commitment_id is not None
    ids.commitments.append(commitment_id)
    if planned.reached is not Stage.PLEDGED:
        commitment = await commitments.advance(
            session,
            SYSTEM,
            commitment_id=commitment_id,
            version=commitment.version,
            stage=Stage.COMMITTED,
        )
    lines = []
    if any(delivery.line is not None for delivery in planned.deliveries):
        lines = await commitments.in_kind_lines(session, commitment_ids=[commitment_id])
    for delivery in planned.deliveries:
        await _delivery(batches, ids, commitment, lines, planned, delivery)
    # The first delivery moved the commitment to IN_DELIVERY (and bumped its version).
    if planned.stage is Stage.FULFILLED:
        await commitments.advance(
            session,
            SYSTEM,
            commitment_id=commitment_id,
            version=commitment.version,
            stage=Stage.FULFILLED,
        )
    elif planned.stage is Stage.WITHDRAWN:
        await commitments.withdraw(
            session,
            ids.partner(planned.organisation),
            commitment_id=commitment_id,
            version=commitment.version,
            reason=planned.reason or "",
        )
    elif planned.stage is Stage.CANCELLED:
        await commitments.cancel(
            session,
            SYSTEM,
            commitment_id=commitment_id,
            version=commitment.version,
            reason=planned.reason or "",
        )
    # The services stamp every move with the seeding's clock; the plan's history says when.
    commitment.last_progress_at = planned.last_progress_at
    commitment.updated_at = planned.updated_at
    await batches.done("Commitments")


async def _delivery(
    batches: _Batches,
    ids: _Ids,
    commitment: models.Commitment,
    lines: list[models.InKindLine],
    planned: records.PlannedCommitment,
    delivery: records.PlannedDelivery,
) -> None:
    assert commitment.id is not None
    draft = deliveries.DeliveryDraft(
        delivered_on=delivery.delivered_on,
        amount=delivery.amount,
        currency=commitment.currency if delivery.amount is not None else None,
        in_kind_line_id=lines[delivery.line].id if delivery.line is not None else None,
        quantity=delivery.quantity,
        country=delivery.country,
        receiving_organisation_id=(
            ids.organisations[delivery.receiver] if delivery.receiver else None
        ),
        beneficiaries=delivery.beneficiaries,
        beneficiary_share=delivery.beneficiary_share,
        evidence_url=delivery.evidence_url,
        note=delivery.note,
    )
    reported = await deliveries.report(
        batches.session,
        ids.partner(planned.organisation),
        commitment_id=commitment.id,
        draft=draft,
        rate_window_days=ids.rate_window_days,
    )
    assert reported.id is not None
    reviewer = SYSTEM
    if delivery.by_receiver and delivery.receiver is not None:
        reviewer = ids.partner(delivery.receiver)
    if delivery.review is models.DeliveryStatus.CONFIRMED:
        await deliveries.confirm(batches.session, reviewer, delivery_id=reported.id)
    elif delivery.review is models.DeliveryStatus.DISPUTED:
        await deliveries.dispute(
            batches.session,
            reviewer,
            delivery_id=reported.id,
            reason=delivery.dispute_reason or "",
        )
    await batches.done("Deliveries")


async def _activity(batches: _Batches, ids: _Ids, planned: records.PlannedActivity) -> None:
    workstream_id = None
    if planned.workstream is not None:
        workstream_id = ids.workstreams[(planned.coalition, planned.workstream)]
    await activities.publish(
        batches.session,
        SYSTEM,
        draft=activities.ActivityDraft(
            coalition_id=ids.coalitions[planned.coalition],
            kind=planned.kind,
            title=planned.title,
            occurred_at=planned.occurred_at,
            organisation_id=(
                ids.organisations[planned.organisation] if planned.organisation else None
            ),
            workstream_id=workstream_id,
            organisation_ids=[ids.organisations[key] for key in planned.involved],
            summary=planned.summary,
            countries=planned.countries,
            links=planned.links,
            visibility=planned.visibility,
            embargo_until=planned.embargo_until,
        ),
    )
    await batches.done("Activities")
