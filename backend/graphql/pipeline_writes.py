"""Pipeline mutations (secretariat admins): open and update an opportunity, move its
stage, record due diligence, convert it into a membership or a commitment."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend import models
from backend.errors import DomainError
from backend.graphql import errors, inputs, relay
from backend.graphql.commitment_writes import InKindLineInput
from backend.graphql.context import Context
from backend.graphql.pipeline import EngagementOpportunity
from backend.services import memberships, pipeline
from backend.services.commitment_rules import InKindDraft

WriteInfo = Info[Context, None]
OPPORTUNITY = "EngagementOpportunity"


@strawberry.input(description="A new engagement opportunity, at IDENTIFIED.")
class OpenOpportunityInput:
    coalition_id: strawberry.ID = strawberry.field(description="The coalition it is for.")
    prospect_organisation_id: strawberry.ID = strawberry.field(
        description="The prospective partner."
    )
    title: str = strawberry.field(description="What the opportunity is, in a line.")
    donor_kind: models.DonorKind = strawberry.field(description="Corporate or individual.")
    motivations: list[models.Motivation] = strawberry.field(
        default_factory=list, description="Why the prospect would engage."
    )
    estimated_value: Decimal | None = strawberry.field(
        default=None, description="What it may bring; more than zero."
    )
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217; required with a value."
    )
    probability: int | None = strawberry.field(default=None, description="Percent, 0 to 100.")
    next_step: str | None = strawberry.field(default=None, description="What happens next.")
    next_step_on: dt.date | None = strawberry.field(default=None, description="When.")


@strawberry.input(description="Changes to an opportunity; omitted fields stay as they are.")
class UpdateOpportunityInput:
    id: strawberry.ID = strawberry.field(description="The opportunity.")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="In a line.")
    donor_kind: models.DonorKind | None = strawberry.field(
        default=strawberry.UNSET, description="Corporate or individual."
    )
    motivations: list[models.Motivation] | None = strawberry.field(
        default=strawberry.UNSET, description="Why the prospect would engage; replaces the list."
    )
    estimated_value: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="What it may bring; null for unknown."
    )
    currency: str | None = strawberry.field(default=strawberry.UNSET, description="ISO 4217.")
    probability: int | None = strawberry.field(
        default=strawberry.UNSET, description="Percent, 0 to 100."
    )
    next_step: str | None = strawberry.field(
        default=strawberry.UNSET, description="What happens next."
    )
    next_step_on: dt.date | None = strawberry.field(default=strawberry.UNSET, description="When.")


@strawberry.input(description="Move an opportunity to another stage.")
class MoveOpportunityStageInput:
    id: strawberry.ID = strawberry.field(description="The opportunity.")
    stage: models.OpportunityStage = strawberry.field(
        description="The next stage on, DECLINED or ON_HOLD; from ON_HOLD, any open stage."
    )


@strawberry.input(description="The due-diligence decision on an opportunity's prospect.")
class RecordDueDiligenceInput:
    id: strawberry.ID = strawberry.field(description="The opportunity.")
    decision: models.DueDiligenceDecision = strawberry.field(description="The decision.")
    risk_rating: models.RiskRating | None = strawberry.field(
        default=None, description="Required with a clearance."
    )
    conditions: str | None = strawberry.field(
        default=None, description="Required with CLEARED_WITH_CONDITIONS."
    )
    valid_until: dt.date | None = strawberry.field(
        default=None, description="The clearance's last day; required with a clearance."
    )
    decided_by: str | None = strawberry.field(
        default=None, description="Who decided; the token's holder if not given."
    )


@strawberry.input(description="Admit an AGREED, cleared opportunity's prospect as a member.")
class ConvertOpportunityToMembershipInput:
    id: strawberry.ID = strawberry.field(description="The opportunity.")
    role: models.MembershipRole = strawberry.field(
        default=models.MembershipRole.MEMBER, description="The member's role."
    )
    joined_on: dt.date | None = strawberry.field(default=None, description="Defaults to today.")
    principles_accepted: list[str] = strawberry.field(
        default_factory=list, description="Principles the member signed."
    )


@strawberry.input(
    description="Record an AGREED, cleared opportunity's pledge: the prospect's commitment "
    "to the opportunity's coalition."
)
class ConvertOpportunityToCommitmentInput:
    id: strawberry.ID = strawberry.field(description="The opportunity.")
    title: str = strawberry.field(description="What is promised, in a line.")
    resource_kind: models.ResourceKind = strawberry.field(description="Cash, in-kind or both.")
    description: str | None = strawberry.field(default=None, description="Details.")
    workstream_id: strawberry.ID | None = strawberry.field(
        default=None, description="Counts towards."
    )
    amount: Decimal | None = strawberry.field(default=None, description="Cash part, more than 0.")
    currency: str | None = strawberry.field(default=None, description="ISO 4217 code.")
    value_date: dt.date | None = strawberry.field(
        default=None, description="Day the amount is valued at (and its USD rate); today if none."
    )
    in_kind: list[InKindLineInput] = strawberry.field(
        default_factory=list, description="In-kind lines (IN_KIND and MIXED)."
    )
    countries: list[str] = strawberry.field(default_factory=list, description="ISO 3166-1 alpha-2.")
    start_date: dt.date | None = strawberry.field(default=None, description="When delivery starts.")
    end_date: dt.date | None = strawberry.field(default=None, description="Not before start.")
    visibility: models.Visibility = strawberry.field(
        default=models.Visibility.PUBLIC, description="Who sees it, and its figures."
    )
    embargo_until: dt.datetime | None = strawberry.field(
        default=None, description="Keep it from everyone but the owner and secretariat until then."
    )


OpportunityResult = Annotated[
    EngagementOpportunity
    | errors.ValidationFailed
    | errors.NotFound
    | errors.PermissionDenied
    | errors.Conflict,
    strawberry.union("EngagementOpportunityResult", description="The opportunity, or why not."),
]


def _commitment_terms(input: ConvertOpportunityToCommitmentInput) -> dict[str, object]:
    terms = inputs.changes_of(input)
    terms["workstream_id"] = relay.decode_optional_id(
        input.workstream_id, "Workstream", field="workstream_id"
    )
    terms["in_kind"] = [InKindDraft(**vars(line)) for line in input.in_kind]
    return terms


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Open an engagement opportunity (secretariat admins).")
    async def open_opportunity(
        self, info: WriteInfo, input: OpenOpportunityInput
    ) -> OpportunityResult:
        try:
            coalition_id = relay.decode_id(input.coalition_id, "Coalition", field="coalition_id")
            prospect_id = relay.decode_id(
                input.prospect_organisation_id, "Organisation", field="prospect_organisation_id"
            )
            draft = pipeline.OpportunityDraft(
                **inputs.changes_of(input, exclude=("coalition_id", "prospect_organisation_id"))
            )
            async with info.context.transaction() as session:
                opportunity = await pipeline.open_opportunity(
                    session,
                    info.context.actor,
                    coalition_id=coalition_id,
                    prospect_organisation_id=prospect_id,
                    draft=draft,
                )
        except DomainError as error:
            return errors.from_domain(error)
        return EngagementOpportunity.from_model(opportunity)

    @strawberry.mutation(
        description="Change an opportunity's texts, estimate, probability or next step."
    )
    async def update_opportunity(
        self, info: WriteInfo, input: UpdateOpportunityInput
    ) -> OpportunityResult:
        try:
            opportunity_id = relay.decode_id(input.id, OPPORTUNITY, field="id")
            async with info.context.transaction() as session:
                opportunity = await pipeline.update_opportunity(
                    session,
                    info.context.actor,
                    opportunity_id=opportunity_id,
                    changes=inputs.changes_of(input),
                )
        except DomainError as error:
            return errors.from_domain(error)
        return EngagementOpportunity.from_model(opportunity)

    @strawberry.mutation(
        description="IDENTIFIED -> RESEARCH -> DUE_DILIGENCE -> CULTIVATION -> PROPOSAL -> "
        "NEGOTIATION -> AGREED, one stage at a time; DECLINED or ON_HOLD from any open stage; "
        "ON_HOLD resumes at any open stage. AGREED and DECLINED are final."
    )
    async def move_opportunity_stage(
        self, info: WriteInfo, input: MoveOpportunityStageInput
    ) -> OpportunityResult:
        try:
            opportunity_id = relay.decode_id(input.id, OPPORTUNITY, field="id")
            async with info.context.transaction() as session:
                opportunity = await pipeline.move_stage(
                    session, info.context.actor, opportunity_id=opportunity_id, stage=input.stage
                )
        except DomainError as error:
            return errors.from_domain(error)
        return EngagementOpportunity.from_model(opportunity)

    @strawberry.mutation(description="Record the due-diligence decision, replacing the last.")
    async def record_due_diligence(
        self, info: WriteInfo, input: RecordDueDiligenceInput
    ) -> OpportunityResult:
        try:
            opportunity_id = relay.decode_id(input.id, OPPORTUNITY, field="id")
            draft = pipeline.DueDiligenceDraft(**inputs.changes_of(input))
            async with info.context.transaction() as session:
                opportunity = await pipeline.record_due_diligence(
                    session, info.context.actor, opportunity_id=opportunity_id, draft=draft
                )
        except DomainError as error:
            return errors.from_domain(error)
        return EngagementOpportunity.from_model(opportunity)

    @strawberry.mutation(
        description="Admit the prospect to the coalition. Refused (Conflict) with NOT_AGREED, "
        "DUE_DILIGENCE_NOT_CLEARED, DUE_DILIGENCE_EXPIRED or ALREADY_CONVERTED."
    )
    async def convert_opportunity_to_membership(
        self, info: WriteInfo, input: ConvertOpportunityToMembershipInput
    ) -> OpportunityResult:
        try:
            opportunity_id = relay.decode_id(input.id, OPPORTUNITY, field="id")
            draft = memberships.MembershipDraft(**inputs.changes_of(input))
            async with info.context.transaction() as session:
                opportunity = await pipeline.convert_to_membership(
                    session, info.context.actor, opportunity_id=opportunity_id, draft=draft
                )
        except DomainError as error:
            return errors.from_domain(error)
        return EngagementOpportunity.from_model(opportunity)

    @strawberry.mutation(
        description="Record the prospect's pledge to the coalition. Refused (Conflict) with "
        "NOT_AGREED, DUE_DILIGENCE_NOT_CLEARED, DUE_DILIGENCE_EXPIRED or ALREADY_CONVERTED."
    )
    async def convert_opportunity_to_commitment(
        self, info: WriteInfo, input: ConvertOpportunityToCommitmentInput
    ) -> OpportunityResult:
        try:
            opportunity_id = relay.decode_id(input.id, OPPORTUNITY, field="id")
            terms = _commitment_terms(input)
            async with info.context.transaction() as session:
                opportunity = await pipeline.convert_to_commitment(
                    session,
                    info.context.actor,
                    opportunity_id=opportunity_id,
                    terms=terms,
                    rate_window_days=info.context.settings.fx_rate_window_days,
                )
        except DomainError as error:
            return errors.from_domain(error)
        return EngagementOpportunity.from_model(opportunity)
