"""Coalitions and their workstreams (flagships, missions, emergency calls, action networks)."""

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.actors import Actor
from backend.errors import BAD_FORMAT, DUPLICATE, Conflict, FieldIssue, InvalidInput, NotFound
from backend.services import access, audit, drafts
from backend.services.validation import LONG_TEXT, Checks

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class CoalitionClosed(Conflict):
    """The coalition no longer accepts commitments, members or activities."""

    code = "COALITION_CLOSED"


@dataclass(frozen=True)
class CoalitionDraft:
    slug: str
    name: str
    kind: models.CoalitionKind
    host_organisation_id: int | None = None
    launched_on: dt.date | None = None
    status: models.CoalitionStatus = models.CoalitionStatus.ACTIVE
    description: str | None = None
    sdg_goals: list[str] = field(default_factory=list)
    # models.Attestation values members must give before their offers are listed.
    offer_attestations_required: list[str] = field(default_factory=list)
    # Null: models.VISIBILITY_PLAN_THRESHOLD_USD.
    visibility_plan_threshold_usd: Decimal | None = None


@dataclass(frozen=True)
class WorkstreamDraft:
    name: str
    kind: models.WorkstreamKind
    description: str | None = None
    target_metric: str | None = None
    target_value: Decimal | None = None
    target_date: dt.date | None = None
    status: models.WorkstreamStatus = models.WorkstreamStatus.ACTIVE


async def _check(
    session: AsyncSession, draft: CoalitionDraft, *, other_than: int | None = None
) -> None:
    checks = Checks()
    checks.text("slug", draft.slug, required=True, limit=80)
    if draft.slug and not _SLUG.match(draft.slug):
        checks.fail("slug", BAD_FORMAT, "Lower-case letters, digits and single hyphens only.")
    checks.text("name", draft.name, required=True)
    checks.required("kind", draft.kind)
    checks.required("status", draft.status)
    checks.text("description", draft.description, limit=LONG_TEXT)
    checks.sdg_goals("sdg_goals", draft.sdg_goals)
    checks.not_negative_amount("visibility_plan_threshold_usd", draft.visibility_plan_threshold_usd)
    checks.done()
    coalition = models.Coalition
    taken = sa.select(col(coalition.id)).where(col(coalition.slug) == draft.slug)
    if other_than is not None:
        taken = taken.where(col(coalition.id) != other_than)
    if await session.scalar(taken) is not None:
        raise InvalidInput([FieldIssue("slug", DUPLICATE, "Another coalition has this slug.")])
    if draft.host_organisation_id is not None and (
        await session.get(models.Organisation, draft.host_organisation_id) is None
    ):
        raise NotFound("No organisation with the host organisation's id.")


async def create(session: AsyncSession, actor: Actor, *, draft: CoalitionDraft) -> models.Coalition:
    access.require_secretariat_admin(actor)
    await _check(session, draft)
    coalition = models.Coalition(**asdict(draft))
    session.add(coalition)
    await audit.record(session, actor, action="coalition.created", entity=coalition, before=None)
    return coalition


async def update(
    session: AsyncSession, actor: Actor, *, coalition_id: int, changes: dict[str, Any]
) -> models.Coalition:
    access.require_secretariat_admin(actor)
    coalition = await get(session, actor, coalition_id=coalition_id)
    draft = drafts.merged(CoalitionDraft, coalition, changes)
    await _check(session, draft, other_than=coalition_id)
    before = audit.snapshot(coalition)
    drafts.apply(coalition, draft)
    coalition.updated_at = models.utcnow()
    await audit.record(session, actor, action="coalition.updated", entity=coalition, before=before)
    return coalition


async def get(session: AsyncSession, actor: Actor, *, coalition_id: int) -> models.Coalition:
    coalition = await session.get(models.Coalition, coalition_id)
    if coalition is None:
        raise NotFound("No coalition with this id.")
    return coalition


async def find(session: AsyncSession, actor: Actor, *, slug: str) -> models.Coalition | None:
    coalition = models.Coalition
    return await session.scalar(sa.select(coalition).where(col(coalition.slug) == slug))


def listing(actor: Actor, *, status: models.CoalitionStatus | None = None) -> sa.Select[Any]:
    coalition = models.Coalition
    statement = sa.select(coalition)
    if status is not None:
        statement = statement.where(col(coalition.status) == status)
    return statement


def visibility_plan_threshold(coalition: models.Coalition) -> Decimal:
    """The USD value from which an open commitment needs a visibility plan."""
    threshold = coalition.visibility_plan_threshold_usd
    return models.VISIBILITY_PLAN_THRESHOLD_USD if threshold is None else threshold


def require_open(coalition: models.Coalition) -> None:
    if coalition.status is models.CoalitionStatus.CLOSED:
        raise CoalitionClosed(f"The coalition '{coalition.name}' is closed.")


def _check_workstream(draft: WorkstreamDraft) -> None:
    checks = Checks()
    checks.text("name", draft.name, required=True)
    checks.required("kind", draft.kind)
    checks.required("status", draft.status)
    checks.text("description", draft.description, limit=LONG_TEXT)
    checks.text("target_metric", draft.target_metric)
    checks.positive("target_value", draft.target_value)
    checks.done()


async def create_workstream(
    session: AsyncSession, actor: Actor, *, coalition_id: int, draft: WorkstreamDraft
) -> models.Workstream:
    access.require_secretariat_admin(actor)
    coalition = await get(session, actor, coalition_id=coalition_id)
    require_open(coalition)
    _check_workstream(draft)
    workstream = models.Workstream
    taken = sa.select(col(workstream.id)).where(
        col(workstream.coalition_id) == coalition_id, col(workstream.name) == draft.name
    )
    if await session.scalar(taken) is not None:
        message = "The coalition already has a workstream with this name."
        raise InvalidInput([FieldIssue("name", DUPLICATE, message)])
    created = models.Workstream(coalition_id=coalition_id, **asdict(draft))
    session.add(created)
    await audit.record(session, actor, action="workstream.created", entity=created, before=None)
    return created


async def update_workstream(
    session: AsyncSession, actor: Actor, *, workstream_id: int, changes: dict[str, Any]
) -> models.Workstream:
    access.require_secretariat_admin(actor)
    workstream = await get_workstream(session, actor, workstream_id=workstream_id)
    draft = drafts.merged(WorkstreamDraft, workstream, changes)
    _check_workstream(draft)
    before = audit.snapshot(workstream)
    drafts.apply(workstream, draft)
    await audit.record(
        session, actor, action="workstream.updated", entity=workstream, before=before
    )
    return workstream


async def get_workstream(
    session: AsyncSession, actor: Actor, *, workstream_id: int
) -> models.Workstream:
    workstream = await session.get(models.Workstream, workstream_id)
    if workstream is None:
        raise NotFound("No workstream with this id.")
    return workstream
