"""Visibility plans: the acknowledgement, logo rules and communication actions the
secretariat requires for a voluntary contribution (a commitment) or for a workstream.

Access: a commitment's plan is written by its owning organisation's admins and editors
(``require_partner_writer``) and by the secretariat's administrators; a workstream's plan by
the secretariat's administrators only. Plans are read by the commitment's owner and the
secretariat; anyone else reads no plan (``None``), coalition members included.

Actions move PLANNED -> PUBLISHED | CANCELLED; any other move is refused with
INVALID_TRANSITION. Publishing an action of a plan that needs donor approval is refused
(DONOR_APPROVAL_REQUIRED) until the approval is recorded.
"""

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.actors import Actor
from backend.errors import BAD_RANGE, FieldIssue, InvalidInput, InvalidTransition, NotFound
from backend.services import access, audit, feed
from backend.services.validation import LONG_TEXT, Checks
from events import messages

DONOR_APPROVAL_REQUIRED = "DONOR_APPROVAL_REQUIRED"
# Where an action may go from each status; the rest are refused.
MOVES: dict[models.ActionStatus, set[models.ActionStatus]] = {
    models.ActionStatus.PLANNED: {models.ActionStatus.PUBLISHED, models.ActionStatus.CANCELLED},
    models.ActionStatus.PUBLISHED: set(),
    models.ActionStatus.CANCELLED: set(),
}


@dataclass(frozen=True)
class PlanDraft:
    acknowledgement: str
    logo_rules: str | None = None
    donor_approval_required: bool = False


@dataclass(frozen=True)
class ActionDraft:
    kind: models.CommunicationKind
    title: str
    planned_on: dt.date


async def set_for_commitment(
    session: AsyncSession, actor: Actor, *, commitment_id: int, draft: PlanDraft
) -> models.VisibilityPlan:
    """Create or replace the commitment's plan (its actions stay)."""
    commitment = await _commitment(session, commitment_id)
    _require_commitment_writer(actor, commitment)
    _check_plan(draft)
    subject = col(models.VisibilityPlan.commitment_id) == commitment_id
    new = models.VisibilityPlan(
        coalition_id=commitment.coalition_id, commitment_id=commitment_id, acknowledgement=""
    )
    return await _save(session, actor, await _plan_of(session, subject, new), draft)


async def set_for_workstream(
    session: AsyncSession, actor: Actor, *, workstream_id: int, draft: PlanDraft
) -> models.VisibilityPlan:
    access.require_secretariat_admin(actor)
    workstream = await session.get(models.Workstream, workstream_id)
    if workstream is None:
        raise NotFound("No workstream with this id.")
    _check_plan(draft)
    subject = col(models.VisibilityPlan.workstream_id) == workstream_id
    new = models.VisibilityPlan(
        coalition_id=workstream.coalition_id, workstream_id=workstream_id, acknowledgement=""
    )
    return await _save(session, actor, await _plan_of(session, subject, new), draft)


@dataclass(frozen=True)
class _Found:
    plan: models.VisibilityPlan
    existed: bool


async def _plan_of(
    session: AsyncSession, subject: sa.ColumnElement[bool], new: models.VisibilityPlan
) -> _Found:
    """The subject's plan, or `new` stored in its place. Of two writers creating the first
    plan at once, the second meets the first's row at the unique key: it then replaces
    that plan's texts, as a later write would, instead of failing."""
    existing = await session.scalar(sa.select(models.VisibilityPlan).where(subject))
    if existing is not None:
        return _Found(existing, existed=True)
    try:
        async with session.begin_nested():
            session.add(new)
            await session.flush()
    except sa.exc.IntegrityError:
        concurrent = await session.scalar(sa.select(models.VisibilityPlan).where(subject))
        if concurrent is None:
            raise
        return _Found(concurrent, existed=True)
    return _Found(new, existed=False)


async def record_donor_approval(
    session: AsyncSession,
    actor: Actor,
    *,
    plan_id: int,
    approved_by: str,
    approved_at: dt.datetime | None = None,
) -> models.VisibilityPlan:
    plan = await _writable_plan(session, actor, plan_id)
    checks = Checks()
    checks.text("approved_by", approved_by, required=True)
    if not plan.donor_approval_required:
        checks.fail("plan_id", BAD_RANGE, "This plan needs no donor approval.")
    checks.done()
    before = audit.snapshot(plan)
    plan.donor_approved_by = approved_by.strip()
    plan.donor_approved_at = approved_at or models.utcnow()
    plan.updated_at = models.utcnow()
    session.add(plan)
    await audit.record(
        session, actor, action="visibility_plan.donor_approved", entity=plan, before=before
    )
    return plan


async def add_action(
    session: AsyncSession, actor: Actor, *, plan_id: int, draft: ActionDraft
) -> models.CommunicationAction:
    await _writable_plan(session, actor, plan_id)
    _check_action(draft)
    action = models.CommunicationAction(
        plan_id=plan_id, kind=draft.kind, title=draft.title.strip(), planned_on=draft.planned_on
    )
    session.add(action)
    await audit.record(
        session, actor, action="communication_action.added", entity=action, before=None
    )
    return action


async def update_action(
    session: AsyncSession, actor: Actor, *, action_id: int, draft: ActionDraft
) -> models.CommunicationAction:
    """Change a PLANNED action's kind, title or date; published and cancelled ones are final."""
    action = await _writable_action(session, actor, action_id)
    if action.status is not models.ActionStatus.PLANNED:
        raise InvalidTransition(f"The action is {action.status.value} and cannot change.")
    _check_action(draft)
    before = audit.snapshot(action)
    action.kind, action.title, action.planned_on = draft.kind, draft.title.strip(), draft.planned_on
    session.add(action)
    await audit.record(
        session, actor, action="communication_action.updated", entity=action, before=before
    )
    return action


async def publish_action(
    session: AsyncSession,
    actor: Actor,
    *,
    action_id: int,
    published_on: dt.date | None = None,
    link: str | None = None,
) -> models.CommunicationAction:
    action = await _writable_action(session, actor, action_id)
    plan = await session.get(models.VisibilityPlan, action.plan_id)
    assert plan is not None
    _require_move(action, models.ActionStatus.PUBLISHED)
    if plan.donor_approval_required and plan.donor_approved_at is None:
        raise InvalidTransition(
            "The donor has not approved this plan yet; record the approval first.",
            code=DONOR_APPROVAL_REQUIRED,
        )
    checks = Checks()
    checks.url("link", link)
    checks.done()
    before = audit.snapshot(action)
    action.status = models.ActionStatus.PUBLISHED
    action.published_on = published_on or models.utcnow().date()
    action.link = link
    session.add(action)
    await audit.record(
        session, actor, action="communication_action.published", entity=action, before=before
    )
    await _announce(session, action, plan)
    return action


async def cancel_action(
    session: AsyncSession, actor: Actor, *, action_id: int
) -> models.CommunicationAction:
    action = await _writable_action(session, actor, action_id)
    _require_move(action, models.ActionStatus.CANCELLED)
    before = audit.snapshot(action)
    action.status = models.ActionStatus.CANCELLED
    session.add(action)
    await audit.record(
        session, actor, action="communication_action.cancelled", entity=action, before=before
    )
    return action


async def for_commitment(
    session: AsyncSession, actor: Actor, commitment: models.Commitment
) -> models.VisibilityPlan | None:
    """The commitment's plan for its owner and the secretariat; None for everyone else."""
    if not reads_commitment_plan(actor, commitment):
        return None
    return await session.scalar(
        sa.select(models.VisibilityPlan).where(
            col(models.VisibilityPlan.commitment_id) == commitment.id
        )
    )


def reads_commitment_plan(actor: Actor, commitment: models.Commitment) -> bool:
    return actor.is_secretariat or actor.belongs_to(commitment.organisation_id)


async def for_workstream(
    session: AsyncSession, actor: Actor, *, workstream_id: int
) -> models.VisibilityPlan | None:
    """Workstream plans are the secretariat's: None for everyone else."""
    if not actor.is_secretariat:
        return None
    return await session.scalar(
        sa.select(models.VisibilityPlan).where(
            col(models.VisibilityPlan.workstream_id) == workstream_id
        )
    )


async def _save(
    session: AsyncSession, actor: Actor, found: _Found, draft: PlanDraft
) -> models.VisibilityPlan:
    plan, existed = found.plan, found.existed
    before = audit.snapshot(plan) if existed else None
    plan.acknowledgement = draft.acknowledgement.strip()
    plan.logo_rules = draft.logo_rules
    if not draft.donor_approval_required or not plan.donor_approval_required:
        # Approval answers the question asked: a plan newly needing it needs it afresh.
        plan.donor_approved_at = plan.donor_approved_by = None
    plan.donor_approval_required = draft.donor_approval_required
    plan.updated_at = models.utcnow()
    session.add(plan)
    await audit.record(
        session,
        actor,
        action="visibility_plan.updated" if existed else "visibility_plan.created",
        entity=plan,
        before=before,
    )
    return plan


def _check_plan(draft: PlanDraft) -> None:
    checks = Checks()
    checks.text("acknowledgement", draft.acknowledgement, required=True, limit=LONG_TEXT)
    checks.text("logo_rules", draft.logo_rules, limit=LONG_TEXT)
    checks.done()


def _check_action(draft: ActionDraft) -> None:
    checks = Checks()
    checks.text("title", draft.title, required=True)
    checks.required("planned_on", draft.planned_on)
    checks.done()


def _require_move(action: models.CommunicationAction, target: models.ActionStatus) -> None:
    if target not in MOVES[action.status]:
        raise InvalidTransition(f"An action {action.status.value} cannot become {target.value}.")


async def _commitment(session: AsyncSession, commitment_id: int) -> models.Commitment:
    commitment = await session.get(models.Commitment, commitment_id)
    if commitment is None:
        raise NotFound("No commitment with this id.")
    return commitment


def _require_commitment_writer(actor: Actor, commitment: models.Commitment) -> None:
    access.require_partner_writer(
        actor, organisation_id=commitment.organisation_id, coalition_id=commitment.coalition_id
    )


async def _writable_plan(
    session: AsyncSession, actor: Actor, plan_id: int
) -> models.VisibilityPlan:
    plan = await session.get(models.VisibilityPlan, plan_id)
    if plan is None:
        raise NotFound("No visibility plan with this id.")
    if plan.commitment_id is None:
        access.require_secretariat_admin(actor)
    else:
        _require_commitment_writer(actor, await _commitment(session, plan.commitment_id))
    return plan


async def _writable_action(
    session: AsyncSession, actor: Actor, action_id: int
) -> models.CommunicationAction:
    action = await session.get(models.CommunicationAction, action_id)
    if action is None:
        raise NotFound("No communication action with this id.")
    await _writable_plan(session, actor, action.plan_id)
    return action


async def set_plan(
    session: AsyncSession,
    actor: Actor,
    *,
    commitment_id: int | None,
    workstream_id: int | None,
    draft: PlanDraft,
) -> models.VisibilityPlan:
    """`set_for_commitment` or `set_for_workstream`: exactly one of the two ids."""
    if (commitment_id is None) == (workstream_id is None):
        raise InvalidInput(
            [FieldIssue("commitment_id", BAD_RANGE, "Give a commitment or a workstream.")]
        )
    if commitment_id is not None:
        return await set_for_commitment(session, actor, commitment_id=commitment_id, draft=draft)
    assert workstream_id is not None
    return await set_for_workstream(session, actor, workstream_id=workstream_id, draft=draft)


async def _announce(
    session: AsyncSession, action: models.CommunicationAction, plan: models.VisibilityPlan
) -> None:
    """A published action is news with the visibility of what it acknowledges: its
    commitment's (embargo included), or everyone's for a workstream."""
    assert action.id is not None and action.published_on is not None
    commitment = (
        await session.get(models.Commitment, plan.commitment_id) if plan.commitment_id else None
    )
    workstream = (
        await session.get(models.Workstream, plan.workstream_id) if plan.workstream_id else None
    )
    organisation = (
        await session.get(models.Organisation, commitment.organisation_id) if commitment else None
    )
    feed.record(
        session,
        type=messages.EventType.COMMUNICATION_PUBLISHED,
        subject_type="CommunicationAction",
        subject_id=action.id,
        coalition_id=plan.coalition_id,
        organisation_id=commitment.organisation_id if commitment else None,
        visibility=commitment.visibility if commitment else models.Visibility.PUBLIC,
        embargo_until=commitment.embargo_until if commitment else None,
        message=messages.CommunicationMessage(
            id=action.id,
            kind=action.kind.value,
            title=action.title,
            published_on=action.published_on,
            link=action.link,
            commitment_ref=commitment.ref if commitment else None,
            commitment_title=commitment.title if commitment else None,
            workstream=workstream.name if workstream else None,
            organisation=feed.organisation_ref(organisation) if organisation else None,
        ),
    )
