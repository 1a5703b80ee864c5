"""Memberships: which organisations belong to which coalition, in which role."""

import datetime as dt
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.actors import Actor
from backend.errors import BAD_RANGE, NOT_ALLOWED, Conflict, NotFound
from backend.services import access, audit, coalitions, drafts, feed, organisations
from backend.services.validation import Checks
from events import messages


@dataclass(frozen=True)
class MembershipDraft:
    status: models.MembershipStatus = models.MembershipStatus.ACTIVE
    role: models.MembershipRole = models.MembershipRole.MEMBER
    joined_on: dt.date | None = None
    left_on: dt.date | None = None
    principles_accepted: list[str] = field(default_factory=list)
    workstream_ids: list[int] = field(default_factory=list)


_LEFT = (models.MembershipStatus.WITHDRAWN, models.MembershipStatus.REJECTED)


def check_fields(draft: MembershipDraft, checks: Checks | None = None) -> None:
    """The checks that need no database; with `checks`, the problems are added to it."""
    found = checks if checks is not None else Checks()
    found.required("status", draft.status)
    found.required("role", draft.role)
    found.date_order("left_on", draft.joined_on, draft.left_on, start_name="joined_on")
    for index, principle in enumerate(draft.principles_accepted):
        found.text(f"principles_accepted.{index}", principle, required=True, limit=100)
    if draft.left_on is not None and draft.status not in _LEFT:
        found.fail("left_on", NOT_ALLOWED, "Only a withdrawn or rejected membership has left.")
    if checks is None:
        found.done()


async def _check(session: AsyncSession, coalition_id: int, draft: MembershipDraft) -> None:
    checks = Checks()
    check_fields(draft, checks)
    if draft.workstream_ids:
        workstream = models.Workstream
        found = set(
            await session.scalars(
                sa.select(col(workstream.id)).where(
                    col(workstream.id).in_(draft.workstream_ids),
                    col(workstream.coalition_id) == coalition_id,
                )
            )
        )
        for index, workstream_id in enumerate(draft.workstream_ids):
            if workstream_id not in found:
                checks.fail(
                    f"workstream_ids.{index}", BAD_RANGE, "No such workstream in this coalition."
                )
    checks.done()


async def admit(
    session: AsyncSession,
    actor: Actor,
    *,
    coalition_id: int,
    organisation_id: int,
    draft: MembershipDraft,
) -> models.Membership:
    """Record an organisation's membership of a coalition (secretariat admins only)."""
    access.require_secretariat_admin(actor)
    coalition = await coalitions.get(session, actor, coalition_id=coalition_id)
    coalitions.require_open(coalition)
    organisation = await organisations.get(session, actor, organisation_id=organisation_id)
    membership = models.Membership
    existing = await session.scalar(
        sa.select(col(membership.id)).where(
            col(membership.coalition_id) == coalition_id,
            col(membership.organisation_id) == organisation_id,
        )
    )
    if existing is not None:
        raise Conflict(
            "The organisation already has a membership here; update it instead.",
            code="ALREADY_MEMBER",
        )
    if draft.status is models.MembershipStatus.ACTIVE and draft.joined_on is None:
        draft = replace(draft, joined_on=dt.date.today())
    await _check(session, coalition_id, draft)
    admitted = models.Membership(
        coalition_id=coalition_id, organisation_id=organisation_id, **asdict(draft)
    )
    session.add(admitted)
    await audit.record(session, actor, action="membership.admitted", entity=admitted, before=None)
    joined = admitted.status is models.MembershipStatus.ACTIVE
    event = (
        messages.EventType.MEMBERSHIP_JOINED if joined else messages.EventType.MEMBERSHIP_CHANGED
    )
    _announce(session, event, admitted, organisation)
    return admitted


async def update(
    session: AsyncSession, actor: Actor, *, membership_id: int, changes: dict[str, Any]
) -> models.Membership:
    access.require_secretariat_admin(actor)
    membership = await get(session, actor, membership_id=membership_id)
    draft = drafts.merged(MembershipDraft, membership, changes)
    if draft.status in _LEFT and draft.left_on is None:
        draft = replace(draft, left_on=dt.date.today())
    if draft.status not in _LEFT and "left_on" not in changes:
        # A member who left and is re-admitted has not left any more.
        draft = replace(draft, left_on=None)
    if draft.status is models.MembershipStatus.ACTIVE and draft.joined_on is None:
        draft = replace(draft, joined_on=dt.date.today())
    await _check(session, membership.coalition_id, draft)
    before = audit.snapshot(membership)
    was_active = membership.status is models.MembershipStatus.ACTIVE
    drafts.apply(membership, draft)
    membership.updated_at = models.utcnow()
    await audit.record(
        session, actor, action="membership.updated", entity=membership, before=before
    )
    organisation = await organisations.get(
        session, actor, organisation_id=membership.organisation_id
    )
    joined = not was_active and membership.status is models.MembershipStatus.ACTIVE
    event = (
        messages.EventType.MEMBERSHIP_JOINED if joined else messages.EventType.MEMBERSHIP_CHANGED
    )
    _announce(session, event, membership, organisation)
    return membership


def _announce(
    session: AsyncSession,
    event: messages.EventType,
    membership: models.Membership,
    organisation: models.Organisation,
) -> None:
    assert membership.id is not None and organisation.id is not None
    if not _public(membership):
        # Applications and rejections are between the applicant and the secretariat: they
        # are not news, so the feed does not carry them.
        return
    feed.record(
        session,
        type=event,
        subject_type="Membership",
        subject_id=membership.id,
        coalition_id=membership.coalition_id,
        organisation_id=organisation.id,
        visibility=models.Visibility.PUBLIC,
        embargo_until=None,
        message=messages.MembershipMessage(
            id=membership.id,
            organisation=feed.organisation_ref(organisation),
            status=membership.status.value,
            role=membership.role.value,
        ),
    )


async def get(session: AsyncSession, actor: Actor, *, membership_id: int) -> models.Membership:
    membership = await session.get(models.Membership, membership_id)
    if membership is None or not _visible(actor, membership):
        raise NotFound("No membership with this id.")
    return membership


def _public(membership: models.Membership) -> bool:
    return membership.status not in (
        models.MembershipStatus.APPLIED,
        models.MembershipStatus.REJECTED,
    )


def _visible(actor: Actor, membership: models.Membership) -> bool:
    return (
        _public(membership) or actor.is_secretariat or actor.belongs_to(membership.organisation_id)
    )


async def active_coalition_ids(session: AsyncSession, *, organisation_id: int) -> frozenset[int]:
    membership = models.Membership
    rows = await session.scalars(
        sa.select(col(membership.coalition_id)).where(
            col(membership.organisation_id) == organisation_id,
            col(membership.status) == models.MembershipStatus.ACTIVE,
        )
    )
    return frozenset(rows)
