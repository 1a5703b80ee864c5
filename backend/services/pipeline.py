"""The private-sector pipeline: engagement opportunities, their stages and due diligence,
and their conversion into a membership or a commitment.

Access: the secretariat only — its analysts read (``require_secretariat``), its
administrators write (``require_secretariat_admin``). Partners read and write nothing here,
and nothing here is sent to the feed: a prospect must not learn what the secretariat
thinks of it, nor a competitor who is being courted. The membership or commitment an
opportunity converts into is an ordinary one, announced as such by its own service.

Stages move forward one at a time, IDENTIFIED -> ... -> AGREED; any open stage may go to
DECLINED or ON_HOLD, and ON_HOLD resumes at any open stage (or is DECLINED). AGREED and
DECLINED are final. Converting needs AGREED and a due-diligence clearance still valid today.
"""

import datetime as dt
import itertools
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.actors import Actor
from backend.errors import BAD_RANGE, DUPLICATE, REQUIRED, Conflict, InvalidTransition, NotFound
from backend.services import access, audit, coalitions, commitments, fx, memberships, organisations
from backend.services.validation import LONG_TEXT, Checks

Stage = models.OpportunityStage
Decision = models.DueDiligenceDecision

NOT_AGREED = "NOT_AGREED"
DUE_DILIGENCE_NOT_CLEARED = "DUE_DILIGENCE_NOT_CLEARED"
DUE_DILIGENCE_EXPIRED = "DUE_DILIGENCE_EXPIRED"
ALREADY_CONVERTED = "ALREADY_CONVERTED"

# The way to an agreement, in order; every stage before AGREED is open.
FORWARD = (
    Stage.IDENTIFIED,
    Stage.RESEARCH,
    Stage.DUE_DILIGENCE,
    Stage.CULTIVATION,
    Stage.PROPOSAL,
    Stage.NEGOTIATION,
    Stage.AGREED,
)
OPEN_STAGES = frozenset(FORWARD[:-1])
# Where an opportunity may go from each stage; the rest are refused.
MOVES: dict[models.OpportunityStage, frozenset[models.OpportunityStage]] = {
    **{
        stage: frozenset({following, Stage.DECLINED, Stage.ON_HOLD})
        for stage, following in itertools.pairwise(FORWARD)
    },
    Stage.ON_HOLD: OPEN_STAGES | {Stage.DECLINED},
    Stage.AGREED: frozenset(),
    Stage.DECLINED: frozenset(),
}
CLEARED = frozenset({Decision.CLEARED, Decision.CLEARED_WITH_CONDITIONS})


@dataclass(frozen=True)
class OpportunityDraft:
    title: str
    donor_kind: models.DonorKind
    motivations: list[models.Motivation] = field(default_factory=list)
    estimated_value: Decimal | None = None
    currency: str | None = None
    probability: int | None = None
    next_step: str | None = None
    next_step_on: dt.date | None = None


@dataclass(frozen=True)
class DueDiligenceDraft:
    decision: models.DueDiligenceDecision
    risk_rating: models.RiskRating | None = None
    conditions: str | None = None
    valid_until: dt.date | None = None
    # Who decided, for the record; the actor's name if not given.
    decided_by: str | None = None


async def open_opportunity(
    session: AsyncSession,
    actor: Actor,
    *,
    coalition_id: int,
    prospect_organisation_id: int,
    draft: OpportunityDraft,
) -> models.EngagementOpportunity:
    access.require_secretariat_admin(actor)
    await coalitions.get(session, actor, coalition_id=coalition_id)
    await organisations.get(session, actor, organisation_id=prospect_organisation_id)
    _check(draft)
    opportunity = models.EngagementOpportunity(
        coalition_id=coalition_id,
        prospect_organisation_id=prospect_organisation_id,
        title="",
        donor_kind=draft.donor_kind,
    )
    _apply(opportunity, draft)
    session.add(opportunity)
    await audit.record(
        session, actor, action="engagement_opportunity.opened", entity=opportunity, before=None
    )
    return opportunity


async def update_opportunity(
    session: AsyncSession, actor: Actor, *, opportunity_id: int, changes: dict[str, Any]
) -> models.EngagementOpportunity:
    """Change the texts, estimate, probability or next step; omitted fields stay."""
    opportunity = await _writable(session, actor, opportunity_id)
    if "motivations" in changes and changes["motivations"] is None:
        changes = {**changes, "motivations": []}
    draft = replace(_draft_of(opportunity), **changes)
    _check(draft)
    before = audit.snapshot(opportunity)
    _apply(opportunity, draft)
    opportunity.updated_at = models.utcnow()
    session.add(opportunity)
    await audit.record(
        session, actor, action="engagement_opportunity.updated", entity=opportunity, before=before
    )
    return opportunity


async def move_stage(
    session: AsyncSession,
    actor: Actor,
    *,
    opportunity_id: int,
    stage: models.OpportunityStage,
) -> models.EngagementOpportunity:
    opportunity = await _writable(session, actor, opportunity_id)
    if stage not in MOVES[opportunity.stage]:
        raise InvalidTransition(
            f"An opportunity at {opportunity.stage.value} cannot move to {stage.value}."
        )
    before = audit.snapshot(opportunity)
    opportunity.stage = stage
    opportunity.updated_at = models.utcnow()
    session.add(opportunity)
    await audit.record(
        session,
        actor,
        action="engagement_opportunity.stage_moved",
        entity=opportunity,
        before=before,
    )
    return opportunity


async def record_due_diligence(
    session: AsyncSession,
    actor: Actor,
    *,
    opportunity_id: int,
    draft: DueDiligenceDraft,
) -> models.EngagementOpportunity:
    """Replace the opportunity's due-diligence record with this decision."""
    opportunity = await _writable(session, actor, opportunity_id)
    _check_due_diligence(draft)
    before = audit.snapshot(opportunity)
    decided = draft.decision is not Decision.PENDING
    decided_by = (draft.decided_by or "").strip() or actor.name
    opportunity.due_diligence_decision = draft.decision
    opportunity.risk_rating = draft.risk_rating
    opportunity.due_diligence_conditions = draft.conditions
    opportunity.due_diligence_valid_until = draft.valid_until
    opportunity.due_diligence_decided_by = decided_by if decided else None
    opportunity.due_diligence_decided_at = models.utcnow() if decided else None
    opportunity.updated_at = models.utcnow()
    session.add(opportunity)
    await audit.record(
        session,
        actor,
        action="engagement_opportunity.due_diligence_recorded",
        entity=opportunity,
        before=before,
    )
    return opportunity


async def convert_to_membership(
    session: AsyncSession,
    actor: Actor,
    *,
    opportunity_id: int,
    draft: memberships.MembershipDraft,
) -> models.EngagementOpportunity:
    """Admit the prospect to the opportunity's coalition (the membership service's rules)."""
    opportunity = await _writable(session, actor, opportunity_id)
    if opportunity.converted_membership_id is not None:
        raise Conflict("This opportunity is a membership already.", code=ALREADY_CONVERTED)
    _require_convertible(opportunity)
    membership = await memberships.admit(
        session,
        actor,
        coalition_id=opportunity.coalition_id,
        organisation_id=opportunity.prospect_organisation_id,
        draft=draft,
    )
    return await _converted(session, actor, opportunity, membership_id=membership.id)


async def convert_to_commitment(
    session: AsyncSession,
    actor: Actor,
    *,
    opportunity_id: int,
    terms: dict[str, Any],
    rate_window_days: int = fx.DEFAULT_WINDOW_DAYS,
) -> models.EngagementOpportunity:
    """Record the prospect's pledge to the opportunity's coalition: `terms` are the
    commitment draft's fields; its coalition and organisation are the opportunity's,
    whatever `terms` say."""
    opportunity = await _writable(session, actor, opportunity_id)
    if opportunity.converted_commitment_id is not None:
        raise Conflict("This opportunity is a commitment already.", code=ALREADY_CONVERTED)
    _require_convertible(opportunity)
    draft = commitments.CommitmentDraft(
        **{
            **terms,
            "coalition_id": opportunity.coalition_id,
            "organisation_id": opportunity.prospect_organisation_id,
        }
    )
    commitment = await commitments.pledge(
        session, actor, draft=draft, rate_window_days=rate_window_days
    )
    return await _converted(session, actor, opportunity, commitment_id=commitment.id)


async def get(
    session: AsyncSession, actor: Actor, *, opportunity_id: int
) -> models.EngagementOpportunity:
    access.require_secretariat(actor)
    opportunity = await session.get(models.EngagementOpportunity, opportunity_id)
    if opportunity is None:
        raise NotFound("No engagement opportunity with this id.")
    return opportunity


def listing(
    actor: Actor, *, coalition_id: int, stage: models.OpportunityStage | None = None
) -> sa.Select[Any]:
    """A coalition's opportunities, as a statement for `pages.fetch`."""
    access.require_secretariat(actor)
    opportunity = models.EngagementOpportunity
    statement = sa.select(opportunity).where(col(opportunity.coalition_id) == coalition_id)
    if stage is not None:
        statement = statement.where(col(opportunity.stage) == stage)
    return statement


def motivations_of(opportunity: models.EngagementOpportunity) -> list[models.Motivation]:
    return [models.Motivation(value) for value in opportunity.motivations]


async def _writable(
    session: AsyncSession, actor: Actor, opportunity_id: int
) -> models.EngagementOpportunity:
    access.require_secretariat_admin(actor)
    return await get(session, actor, opportunity_id=opportunity_id)


def _require_convertible(opportunity: models.EngagementOpportunity) -> None:
    if opportunity.stage is not Stage.AGREED:
        raise InvalidTransition(
            f"The opportunity is at {opportunity.stage.value}; only AGREED ones convert.",
            code=NOT_AGREED,
        )
    if opportunity.due_diligence_decision not in CLEARED:
        raise InvalidTransition(
            "Due diligence has not cleared this prospect.", code=DUE_DILIGENCE_NOT_CLEARED
        )
    valid_until = opportunity.due_diligence_valid_until
    if valid_until is None or valid_until < models.utcnow().date():
        raise InvalidTransition(
            "The due-diligence clearance has expired; review it again.",
            code=DUE_DILIGENCE_EXPIRED,
        )


async def _converted(
    session: AsyncSession,
    actor: Actor,
    opportunity: models.EngagementOpportunity,
    *,
    membership_id: int | None = None,
    commitment_id: int | None = None,
) -> models.EngagementOpportunity:
    before = audit.snapshot(opportunity)
    if membership_id is not None:
        opportunity.converted_membership_id = membership_id
    if commitment_id is not None:
        opportunity.converted_commitment_id = commitment_id
    opportunity.updated_at = models.utcnow()
    session.add(opportunity)
    action = (
        "engagement_opportunity.converted_to_membership"
        if membership_id is not None
        else "engagement_opportunity.converted_to_commitment"
    )
    await audit.record(session, actor, action=action, entity=opportunity, before=before)
    return opportunity


def _draft_of(opportunity: models.EngagementOpportunity) -> OpportunityDraft:
    return OpportunityDraft(
        title=opportunity.title,
        donor_kind=opportunity.donor_kind,
        motivations=motivations_of(opportunity),
        estimated_value=opportunity.estimated_value,
        currency=opportunity.currency,
        probability=opportunity.probability,
        next_step=opportunity.next_step,
        next_step_on=opportunity.next_step_on,
    )


def _apply(opportunity: models.EngagementOpportunity, draft: OpportunityDraft) -> None:
    opportunity.title = draft.title.strip()
    opportunity.donor_kind = draft.donor_kind
    opportunity.motivations = [motivation.value for motivation in draft.motivations]
    opportunity.estimated_value = draft.estimated_value
    opportunity.currency = draft.currency
    opportunity.probability = draft.probability
    opportunity.next_step = draft.next_step
    opportunity.next_step_on = draft.next_step_on


def _check(draft: OpportunityDraft) -> None:
    checks = Checks()
    checks.text("title", draft.title, required=True)
    checks.required("donor_kind", draft.donor_kind)
    seen: set[models.Motivation] = set()
    for index, motivation in enumerate(draft.motivations):
        if motivation in seen:
            checks.fail(f"motivations.{index}", DUPLICATE, "Named already.")
        seen.add(motivation)
    checks.positive("estimated_value", draft.estimated_value)
    checks.currency("currency", draft.currency)
    if draft.estimated_value is not None and draft.currency is None:
        checks.fail("currency", REQUIRED, "Give the currency of the estimated value.")
    if draft.probability is not None and not 0 <= draft.probability <= 100:
        checks.fail("probability", BAD_RANGE, "A percent, from 0 to 100.")
    checks.text("next_step", draft.next_step, limit=LONG_TEXT)
    checks.done()


def _check_due_diligence(draft: DueDiligenceDraft) -> None:
    checks = Checks()
    checks.required("decision", draft.decision)
    conditional = draft.decision is Decision.CLEARED_WITH_CONDITIONS
    checks.text("conditions", draft.conditions, required=conditional, limit=LONG_TEXT)
    checks.text("decided_by", draft.decided_by)
    if draft.decision in CLEARED:
        # A clearance says how risky the prospect is and until when it holds.
        checks.required("risk_rating", draft.risk_rating)
        checks.required("valid_until", draft.valid_until)
    checks.done()
