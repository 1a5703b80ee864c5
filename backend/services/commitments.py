"""Commitments: pledges recorded, firmed up, delivered, fulfilled — or withdrawn, cancelled."""

import datetime as dt
import secrets
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from backend import models
from backend.actors import Actor
from backend.errors import (
    BAD_RANGE,
    NOT_ALLOWED,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    StaleVersion,
)
from backend.services import (
    access,
    audit,
    coalitions,
    commitment_rules,
    drafts,
    feed,
    fx,
    pages,
)
from backend.services.commitment_rules import CommitmentDraft, ImportedRecord, InKindDraft
from backend.services.validation import Checks

__all__ = ["CommitmentDraft", "CommitmentFilter", "ImportedRecord", "InKindDraft"]
from events import messages

Stage = models.Stage

# Which stage may follow which; WITHDRAWN and CANCELLED have their own mutations.
ADVANCES = {
    Stage.PLEDGED: {Stage.COMMITTED},
    Stage.COMMITTED: {Stage.IN_DELIVERY},
    Stage.IN_DELIVERY: {Stage.FULFILLED},
}
OPEN_STAGES = frozenset({Stage.PLEDGED, Stage.COMMITTED, Stage.IN_DELIVERY})
CLOSING_STAGES = frozenset({Stage.WITHDRAWN, Stage.CANCELLED})
# The firm path, in order: how `reach_stage` walks the state machine.
FIRM_PATH = (Stage.COMMITTED, Stage.IN_DELIVERY, Stage.FULFILLED)
STAGE_EVENTS = {
    Stage.COMMITTED: messages.EventType.COMMITMENT_COMMITTED,
    Stage.IN_DELIVERY: messages.EventType.COMMITMENT_IN_DELIVERY,
    Stage.FULFILLED: messages.EventType.COMMITMENT_FULFILLED,
    Stage.WITHDRAWN: messages.EventType.COMMITMENT_WITHDRAWN,
    Stage.CANCELLED: messages.EventType.COMMITMENT_CANCELLED,
}


@dataclass(frozen=True)
class CommitmentFilter:
    coalition_id: int | None = None
    workstream_id: int | None = None
    organisation_id: int | None = None
    organisation_type: str | None = None
    stages: list[models.Stage] = field(default_factory=list)
    resource_kind: models.ResourceKind | None = None
    country: str | None = None
    sdg_target: str | None = None
    created_from: dt.datetime | None = None
    created_until: dt.datetime | None = None


async def pledge(
    session: AsyncSession,
    actor: Actor,
    *,
    draft: CommitmentDraft,
    idempotency_key: str | None = None,
    rate_window_days: int = fx.DEFAULT_WINDOW_DAYS,
    imported: ImportedRecord | None = None,
) -> models.Commitment:
    """Record a pledge; a retry with the same idempotency key returns the first pledge.

    Money is pinned to USD at the rate of its value date (or the recording day), or the
    nearest earlier one within `rate_window_days`; without one it stays unconverted.
    `imported`: a commitment the secretariat kept elsewhere (an import) keeps its ref and
    when it was recorded, which is the day its money converts at when it has no value date.
    """
    access.require_partner_writer(
        actor, organisation_id=draft.organisation_id, coalition_id=draft.coalition_id
    )
    if imported is not None:
        # Partners' pledges get a fresh ref and the present: only an import of the
        # secretariat's own records says otherwise.
        access.require_secretariat_admin(actor)
    if idempotency_key is not None:
        earlier = await _by_idempotency_key(session, draft.organisation_id, idempotency_key)
        if earlier is not None:
            return earlier
    coalition = await coalitions.get(session, actor, coalition_id=draft.coalition_id)
    coalitions.require_open(coalition)
    await _require_listed_channel(session, actor, draft.funded_through_id)
    await commitment_rules.check(session, draft, imported=imported)
    commitment = models.Commitment(
        **_columns(draft),
        ref=imported.ref if imported else f"CMT-{secrets.token_hex(5).upper()}",
        stage=Stage.PLEDGED,
        idempotency_key=idempotency_key,
    )
    if imported is not None:
        commitment.created_at = imported.recorded_at or commitment.created_at
        commitment.last_progress_at = imported.last_progress_at
    await _pin_rate(session, commitment, rate_window_days)
    if draft.embargo_until is None or draft.embargo_until <= models.utcnow():
        commitment.announced_at = models.utcnow()
    try:
        async with session.begin_nested():
            session.add(commitment)
            await session.flush()
    except sa.exc.IntegrityError:
        # A concurrent retry with the same key won the race: return its pledge.
        if idempotency_key is None:
            raise
        earlier = await _by_idempotency_key(session, draft.organisation_id, idempotency_key)
        if earlier is None:
            raise
        return earlier
    lines = await _replace_lines(session, commitment, draft.in_kind, rate_window_days)
    await audit.record(session, actor, action="commitment.pledged", entity=commitment, before=None)
    await _announce(session, messages.EventType.COMMITMENT_PLEDGED, commitment, lines)
    return commitment


async def revise(
    session: AsyncSession,
    actor: Actor,
    *,
    commitment_id: int,
    version: int,
    changes: dict[str, Any],
    rate_window_days: int = fx.DEFAULT_WINDOW_DAYS,
) -> models.Commitment:
    """Change an open commitment's terms; in-kind lines are replaced only before delivery."""
    commitment = await _writable(session, actor, commitment_id)
    _require_open(commitment)
    current_lines = await in_kind_lines(session, commitment_ids=[commitment_id])
    draft = drafts.current(
        CommitmentDraft, commitment, in_kind=[InKindDraft.of(line) for line in current_lines]
    )
    draft = replace(draft, **changes)
    if draft.funded_through_id != commitment.funded_through_id:
        await _require_listed_channel(session, actor, draft.funded_through_id)
    await commitment_rules.check(session, draft, commitment_id=commitment_id)
    if "in_kind" in changes and await _has_deliveries(session, commitment_id):
        raise InvalidTransition(
            "In-kind lines cannot be replaced once deliveries are recorded against them.",
            code="HAS_DELIVERIES",
        )
    before = audit.snapshot(commitment)
    await _bump_version(session, commitment, version)
    # The pinned rate stays unless the figure it converts changed.
    repin = (draft.amount, draft.currency, draft.value_date) != (
        commitment.amount,
        commitment.currency,
        commitment.value_date,
    )
    for name, value in _columns(draft).items():
        setattr(commitment, name, value)
    if repin:
        await _pin_rate(session, commitment, rate_window_days)
    lines = current_lines
    if "in_kind" in changes:
        lines = await _replace_lines(session, commitment, draft.in_kind, rate_window_days)
    await audit.record(
        session, actor, action="commitment.revised", entity=commitment, before=before
    )
    await _announce(session, messages.EventType.COMMITMENT_REVISED, commitment, lines)
    return commitment


async def advance(
    session: AsyncSession, actor: Actor, *, commitment_id: int, version: int, stage: models.Stage
) -> models.Commitment:
    """Move along PLEDGED → COMMITTED → IN_DELIVERY → FULFILLED, one step at a time."""
    commitment = await _writable(session, actor, commitment_id)
    if stage not in ADVANCES.get(commitment.stage, set()):
        raise InvalidTransition(
            f"A {commitment.stage.value} commitment cannot move to {stage.value}."
        )
    return await _move(session, actor, commitment, version=version, stage=stage, reason=None)


async def withdraw(
    session: AsyncSession, actor: Actor, *, commitment_id: int, version: int, reason: str
) -> models.Commitment:
    """The partner takes its commitment back; it leaves every total, its history stays."""
    commitment = await get(session, actor, commitment_id=commitment_id)
    access.require_authenticated(actor)
    if not (actor.is_partner_writer and actor.belongs_to(commitment.organisation_id)):
        raise PermissionDenied("Only the pledging organisation withdraws; the secretariat cancels.")
    # Like every other partner write, only while an ACTIVE member; otherwise the secretariat
    # cancels.
    if not actor.is_member_of(commitment.coalition_id):
        raise PermissionDenied("Your organisation is not an active member of this coalition.")
    commitment_rules.check_reason(reason)
    _require_open(commitment)
    return await _move(
        session, actor, commitment, version=version, stage=Stage.WITHDRAWN, reason=reason
    )


async def cancel(
    session: AsyncSession, actor: Actor, *, commitment_id: int, version: int, reason: str
) -> models.Commitment:
    """The secretariat cancels a commitment that will not happen."""
    access.require_secretariat_admin(actor)
    commitment = await get(session, actor, commitment_id=commitment_id)
    commitment_rules.check_reason(reason)
    _require_open(commitment)
    return await _move(
        session, actor, commitment, version=version, stage=Stage.CANCELLED, reason=reason
    )


async def reach_stage(
    session: AsyncSession,
    actor: Actor,
    *,
    commitment_id: int,
    version: int,
    stage: models.Stage,
    reason: str | None = None,
    last_progress_at: dt.datetime | None = None,
) -> models.Commitment:
    """Bring a pledge imported from the secretariat's records to the stage they give, one
    step of the state machine at a time (each audited and announced, as the API's would be):
    along the firm path, or straight to WITHDRAWN or CANCELLED with the reason it closed
    with. `last_progress_at` is when progress was last reported (the moves' day otherwise).

    Secretariat admins only. It records what happened elsewhere: a partner still withdraws
    only its own commitment (`withdraw`), and the secretariat cancels (`cancel`)."""
    access.require_secretariat_admin(actor)
    commitment = await get(session, actor, commitment_id=commitment_id)
    checks = Checks()
    if stage in CLOSING_STAGES:
        checks.text("reason", reason, required=True, limit=2000)
    elif reason is not None:
        checks.fail("reason", NOT_ALLOWED, "Only a WITHDRAWN or CANCELLED commitment has one.")
    if last_progress_at is not None and last_progress_at > models.utcnow():
        checks.fail("last_progress_at", BAD_RANGE, "Must not be in the future.")
    checks.done()
    if commitment.stage is not Stage.PLEDGED:
        raise InvalidTransition(
            f"Only a pledge is brought to its stage; this one is {commitment.stage.value}."
        )
    if stage in CLOSING_STAGES:
        steps = [stage]
    elif stage in FIRM_PATH:
        steps = list(FIRM_PATH[: FIRM_PATH.index(stage) + 1])
    else:
        steps = []
    for step in steps:
        commitment = await _move(
            session,
            actor,
            commitment,
            version=version,
            stage=step,
            reason=reason if step in CLOSING_STAGES else None,
            at=last_progress_at,
        )
        version = commitment.version
    return commitment


async def find(session: AsyncSession, actor: Actor, *, ref: str) -> models.Commitment | None:
    """The commitment known by `ref`, if the actor may see it."""
    commitment = models.Commitment
    return await session.scalar(
        sa.select(commitment).where(col(commitment.ref) == ref, access.commitment_listed(actor))
    )


async def start_delivery(
    session: AsyncSession, commitment: models.Commitment, *, reports_progress: bool = True
) -> bool:
    """The first delivery moves COMMITTED to IN_DELIVERY; True when it did. A delivery is a
    progress report, unless `reports_progress` is False (an import, which brings the day
    progress was last reported with the commitment)."""
    if reports_progress:
        commitment.last_progress_at = models.utcnow()
    if commitment.stage is not Stage.COMMITTED:
        return False
    # The stage change is a write like any other: it takes the version, so a concurrent
    # revision of the same commitment cannot be silently overwritten.
    await _bump_version(session, commitment, commitment.version)
    commitment.stage = Stage.IN_DELIVERY
    lines = await in_kind_lines(session, commitment_ids=[commitment.id])  # type: ignore[list-item]
    await _announce(session, messages.EventType.COMMITMENT_IN_DELIVERY, commitment, lines)
    return True


async def announce(session: AsyncSession, commitment: models.Commitment) -> None:
    """Its embargo ended: mark it public and tell the feed."""
    commitment.announced_at = models.utcnow()
    lines = await in_kind_lines(session, commitment_ids=[commitment.id])  # type: ignore[list-item]
    await _announce(session, messages.EventType.COMMITMENT_ANNOUNCED, commitment, lines)


async def get(session: AsyncSession, actor: Actor, *, commitment_id: int) -> models.Commitment:
    """The commitment if the actor may see it; otherwise NotFound, so ids leak nothing."""
    commitment = models.Commitment
    found = await session.scalar(
        sa.select(commitment).where(
            col(commitment.id) == commitment_id, access.commitment_listed(actor)
        )
    )
    if found is None:
        raise NotFound("No commitment with this id.")
    return found


def listing(actor: Actor, filter: CommitmentFilter) -> sa.Select[Any]:
    """The commitments the actor may see that match `filter`, as a statement for pages."""
    return listing_by(access.reader_of(actor), filter)


def listing_by(reader: access.Reader, filter: CommitmentFilter) -> sa.Select[Any]:
    """`listing` for a reader; the filter's values may be bound parameters (compiled reads
    build the statement once and bind each request's values)."""
    commitment = models.Commitment
    statement = sa.select(commitment).where(
        access.listed(reader, models.table_of(models.Commitment))
    )
    equal = {
        "coalition_id": filter.coalition_id,
        "workstream_id": filter.workstream_id,
        "organisation_id": filter.organisation_id,
        "resource_kind": filter.resource_kind,
    }
    for name, value in equal.items():
        if value is not None:
            statement = statement.where(col(getattr(commitment, name)) == value)
    if pages.given(filter.stages):
        statement = statement.where(col(commitment.stage).in_(filter.stages))
    if filter.organisation_type is not None:
        organisation = models.Organisation
        of_type = sa.select(col(organisation.id)).where(
            col(organisation.organisation_type) == filter.organisation_type
        )
        statement = statement.where(col(commitment.organisation_id).in_(of_type))
    if filter.country is not None:
        statement = statement.where(models.JsonListContains(commitment.countries, filter.country))
    if filter.sdg_target is not None:
        statement = statement.where(
            models.JsonListContains(commitment.sdg_targets, filter.sdg_target)
        )
    if filter.created_from is not None:
        statement = statement.where(col(commitment.created_at) >= filter.created_from)
    if filter.created_until is not None:
        statement = statement.where(col(commitment.created_at) < filter.created_until)
    return statement


async def in_kind_lines(
    session: AsyncSession, *, commitment_ids: list[int]
) -> list[models.InKindLine]:
    line = models.InKindLine
    statement = (
        sa.select(line)
        .where(col(line.commitment_id).in_(commitment_ids))
        .order_by(col(line.commitment_id), col(line.position))
    )
    return list(await session.scalars(statement))


async def _move(
    session: AsyncSession,
    actor: Actor,
    commitment: models.Commitment,
    *,
    version: int,
    stage: models.Stage,
    reason: str | None,
    at: dt.datetime | None = None,
) -> models.Commitment:
    before = audit.snapshot(commitment)
    await _bump_version(session, commitment, version)
    commitment.stage = stage
    commitment.closing_reason = reason
    commitment.last_progress_at = at or models.utcnow()
    action = f"commitment.{stage.value.lower()}"
    await audit.record(session, actor, action=action, entity=commitment, before=before)
    lines = await in_kind_lines(session, commitment_ids=[commitment.id])  # type: ignore[list-item]
    await _announce(session, STAGE_EVENTS[stage], commitment, lines)
    return commitment


async def _writable(session: AsyncSession, actor: Actor, commitment_id: int) -> models.Commitment:
    commitment = await get(session, actor, commitment_id=commitment_id)
    access.require_partner_writer(
        actor, organisation_id=commitment.organisation_id, coalition_id=commitment.coalition_id
    )
    return commitment


async def _require_listed_channel(
    session: AsyncSession, actor: Actor, channel_id: int | None
) -> None:
    """A pass-through link names a commitment the actor may see (NotFound otherwise, so an
    embargoed or members-only commitment's id reveals nothing)."""
    if channel_id is not None:
        await get(session, actor, commitment_id=channel_id)


def _require_open(commitment: models.Commitment) -> None:
    if commitment.stage not in OPEN_STAGES:
        raise InvalidTransition(f"The commitment is {commitment.stage.value} and cannot change.")


async def _bump_version(session: AsyncSession, commitment: models.Commitment, version: int) -> None:
    """Optimistic lock: the write goes ahead only if nobody changed the row since `version`.

    The conditional UPDATE also takes the row lock, so two concurrent writers with the same
    version cannot both pass. The loaded row must be at `version` too: otherwise the change
    would be merged into values older than the ones the caller saw.
    """
    stale = StaleVersion(
        f"The commitment was changed since version {version}; reload it and try again."
    )
    if commitment.version != version:
        raise stale
    table = models.Commitment
    now = models.utcnow()
    result = await session.execute(
        sa.update(table)
        .where(col(table.id) == commitment.id, col(table.version) == version)
        .values(version=version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise stale
    set_committed_value(commitment, "version", version + 1)
    set_committed_value(commitment, "updated_at", now)


async def _has_deliveries(session: AsyncSession, commitment_id: int) -> bool:
    delivery = models.Delivery
    found = await session.scalar(
        sa.select(col(delivery.id)).where(col(delivery.commitment_id) == commitment_id).limit(1)
    )
    return found is not None


async def _by_idempotency_key(
    session: AsyncSession, organisation_id: int, key: str
) -> models.Commitment | None:
    commitment = models.Commitment
    return await session.scalar(
        sa.select(commitment).where(
            col(commitment.organisation_id) == organisation_id,
            col(commitment.idempotency_key) == key,
        )
    )


def _columns(draft: CommitmentDraft) -> dict[str, Any]:
    values = asdict(draft)
    del values["in_kind"]
    return values


def valued_on(commitment: models.Commitment) -> dt.date:
    """The day a commitment's money is converted at: its value date, or the day recorded."""
    return commitment.value_date or commitment.created_at.date()


async def _pin_rate(session: AsyncSession, commitment: models.Commitment, window_days: int) -> None:
    await fx.pin(
        session,
        commitment,
        amount="amount",
        amount_usd="amount_usd",
        on=valued_on(commitment),
        window_days=window_days,
    )


async def _replace_lines(
    session: AsyncSession,
    commitment: models.Commitment,
    lines: list[InKindDraft],
    window_days: int,
) -> list[models.InKindLine]:
    line = models.InKindLine
    await session.execute(sa.delete(line).where(col(line.commitment_id) == commitment.id))
    assert commitment.id is not None
    created = [
        models.InKindLine(commitment_id=commitment.id, position=position, **asdict(draft))
        for position, draft in enumerate(lines)
    ]
    for new_line in created:
        await fx.pin(
            session,
            new_line,
            amount="fair_value",
            amount_usd="fair_value_usd",
            currency="fair_value_currency",
            on=valued_on(commitment),
            window_days=window_days,
        )
    session.add_all(created)
    await session.flush()
    return created


async def _announce(
    session: AsyncSession,
    event: messages.EventType,
    commitment: models.Commitment,
    lines: list[models.InKindLine],
) -> None:
    assert commitment.id is not None
    organisation = await session.get(models.Organisation, commitment.organisation_id)
    assert organisation is not None and organisation.id is not None
    workstream = None
    if commitment.workstream_id is not None:
        workstream = await session.get(models.Workstream, commitment.workstream_id)
    feed.record(
        session,
        type=event,
        subject_type="Commitment",
        subject_id=commitment.id,
        coalition_id=commitment.coalition_id,
        organisation_id=commitment.organisation_id,
        visibility=commitment.visibility,
        embargo_until=commitment.embargo_until,
        message=messages.CommitmentMessage(
            id=commitment.id,
            ref=commitment.ref,
            title=commitment.title,
            stage=commitment.stage.value,
            resource_kind=commitment.resource_kind.value,
            organisation=feed.organisation_ref(organisation),
            workstream=workstream.name if workstream else None,
            amount=commitment.amount,
            currency=commitment.currency,
            amount_usd=commitment.amount_usd,
            in_kind=[
                messages.InKindSummary(
                    category=line.category.value,
                    quantity=line.quantity,
                    unit=line.unit,
                    description=line.description,
                )
                for line in lines
            ],
            countries=list(commitment.countries),
            reason=commitment.closing_reason,
        ),
    )
