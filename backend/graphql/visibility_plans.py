"""Visibility plans and their communication actions: types and mutations."""

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend import models
from backend.errors import DomainError
from backend.graphql import errors, relay
from backend.graphql.context import Context
from backend.services import visibility_plans

PlanInfo = Info[Context, None]


@strawberry.type(description="A press release, social post, event or report mention planned.")
class CommunicationAction:
    id: strawberry.ID = strawberry.field(description="Global id (CommunicationAction).")
    kind: models.CommunicationKind = strawberry.field(description="What kind of action.")
    title: str = strawberry.field(description="What it is, in a line.")
    planned_on: dt.date = strawberry.field(description="When it is planned.")
    status: models.ActionStatus = strawberry.field(description="PLANNED -> PUBLISHED | CANCELLED.")
    published_on: dt.date | None = strawberry.field(description="When it was published.")
    link: str | None = strawberry.field(description="Where it was published.")

    @classmethod
    def from_model(cls, action: models.CommunicationAction) -> "CommunicationAction":
        return cls(
            id=relay.to_global_id("CommunicationAction", action.id),
            kind=action.kind,
            title=action.title,
            planned_on=action.planned_on,
            status=action.status,
            published_on=action.published_on,
            link=action.link,
        )


@strawberry.type(
    description="How a commitment or workstream is acknowledged, and the communication "
    "actions planned for it. Seen by the commitment's owner and the secretariat."
)
class VisibilityPlan:
    id: strawberry.ID = strawberry.field(description="Global id (VisibilityPlan).")
    acknowledgement: str = strawberry.field(description="The acknowledgement text to use.")
    logo_rules: str | None = strawberry.field(description="How logos may be used.")
    donor_approval_required: bool = strawberry.field(
        description="Whether the donor approves before any action is published."
    )
    donor_approved_at: dt.datetime | None = strawberry.field(description="When it approved.")
    donor_approved_by: str | None = strawberry.field(description="Who approved, for the donor.")
    model: strawberry.Private[models.VisibilityPlan]

    @classmethod
    def from_model(cls, plan: models.VisibilityPlan) -> "VisibilityPlan":
        return cls(
            id=relay.to_global_id("VisibilityPlan", plan.id),
            acknowledgement=plan.acknowledgement,
            logo_rules=plan.logo_rules,
            donor_approval_required=plan.donor_approval_required,
            donor_approved_at=plan.donor_approved_at,
            donor_approved_by=plan.donor_approved_by,
            model=plan,
        )

    @strawberry.field(description="Its communication actions, by planned date.")
    async def actions(self, info: PlanInfo) -> list[CommunicationAction]:
        assert self.model.id is not None
        rows = await info.context.loaders.actions_of_plan.load(self.model.id)
        return [CommunicationAction.from_model(row) for row in rows]


async def of_commitment(info: PlanInfo, commitment: models.Commitment) -> VisibilityPlan | None:
    """The commitment's plan, batched over a page of commitments; None for readers other
    than its owner and the secretariat (`visibility_plans.reads_commitment_plan`)."""
    if not visibility_plans.reads_commitment_plan(info.context.actor, commitment):
        return None
    assert commitment.id is not None
    plan = await info.context.loaders.plan_of_commitment.load(commitment.id)
    return VisibilityPlan.from_model(plan) if plan else None


async def of_workstream(info: PlanInfo, workstream_id: int) -> VisibilityPlan | None:
    async with info.context.reading() as session:
        plan = await visibility_plans.for_workstream(
            session, info.context.actor, workstream_id=workstream_id
        )
    return VisibilityPlan.from_model(plan) if plan else None


@strawberry.input(description="A visibility plan for a commitment or a workstream (one of them).")
class SetVisibilityPlanInput:
    commitment_id: strawberry.ID | None = strawberry.field(
        default=None, description="The commitment; its owner or the secretariat."
    )
    workstream_id: strawberry.ID | None = strawberry.field(
        default=None, description="The workstream; the secretariat only."
    )
    acknowledgement: str = strawberry.field(description="The acknowledgement text.")
    logo_rules: str | None = strawberry.field(default=None, description="How logos may be used.")
    donor_approval_required: bool = strawberry.field(
        default=False, description="Actions wait for the donor's approval."
    )


@strawberry.input(description="Record that the donor approved a plan.")
class RecordDonorApprovalInput:
    plan_id: strawberry.ID = strawberry.field(description="The plan.")
    approved_by: str = strawberry.field(description="Who approved, for the donor.")
    approved_at: dt.datetime | None = strawberry.field(
        default=None, description="When; defaults to now."
    )


@strawberry.input(description="A new communication action of a plan.")
class AddCommunicationActionInput:
    plan_id: strawberry.ID = strawberry.field(description="The plan.")
    kind: models.CommunicationKind = strawberry.field(description="What kind of action.")
    title: str = strawberry.field(description="What it is, in a line.")
    planned_on: dt.date = strawberry.field(description="When it is planned.")


@strawberry.input(description="A PLANNED action's new kind, title and date.")
class UpdateCommunicationActionInput:
    id: strawberry.ID = strawberry.field(description="The action.")
    kind: models.CommunicationKind = strawberry.field(description="What kind of action.")
    title: str = strawberry.field(description="What it is, in a line.")
    planned_on: dt.date = strawberry.field(description="When it is planned.")


@strawberry.input(description="A PLANNED action, published.")
class PublishCommunicationActionInput:
    id: strawberry.ID = strawberry.field(description="The action.")
    published_on: dt.date | None = strawberry.field(
        default=None, description="When; defaults to today."
    )
    link: str | None = strawberry.field(default=None, description="Where it was published.")


@strawberry.input(description="A PLANNED action, cancelled.")
class CancelCommunicationActionInput:
    id: strawberry.ID = strawberry.field(description="The action.")


PlanResult = Annotated[
    VisibilityPlan
    | errors.ValidationFailed
    | errors.NotFound
    | errors.PermissionDenied
    | errors.Conflict,
    strawberry.union("VisibilityPlanResult", description="The plan, or why not."),
]
ActionResult = Annotated[
    CommunicationAction
    | errors.ValidationFailed
    | errors.NotFound
    | errors.PermissionDenied
    | errors.Conflict,
    strawberry.union("CommunicationActionResult", description="The action, or why not."),
]


def _action_draft(
    input: AddCommunicationActionInput | UpdateCommunicationActionInput,
) -> visibility_plans.ActionDraft:
    return visibility_plans.ActionDraft(
        kind=input.kind, title=input.title, planned_on=input.planned_on
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create or replace a commitment's or workstream's plan.")
    async def set_visibility_plan(
        self, info: PlanInfo, input: SetVisibilityPlanInput
    ) -> PlanResult:
        try:
            draft = visibility_plans.PlanDraft(
                acknowledgement=input.acknowledgement,
                logo_rules=input.logo_rules,
                donor_approval_required=input.donor_approval_required,
            )
            commitment_id = relay.decode_optional_id(
                input.commitment_id, "Commitment", field="commitment_id"
            )
            workstream_id = relay.decode_optional_id(
                input.workstream_id, "Workstream", field="workstream_id"
            )
            async with info.context.transaction() as session:
                plan = await visibility_plans.set_plan(
                    session,
                    info.context.actor,
                    commitment_id=commitment_id,
                    workstream_id=workstream_id,
                    draft=draft,
                )
        except DomainError as error:
            return errors.from_domain(error)
        return VisibilityPlan.from_model(plan)

    @strawberry.mutation(description="Record that the donor approved the plan.")
    async def record_donor_approval(
        self, info: PlanInfo, input: RecordDonorApprovalInput
    ) -> PlanResult:
        try:
            plan_id = relay.decode_id(input.plan_id, "VisibilityPlan", field="plan_id")
            async with info.context.transaction() as session:
                plan = await visibility_plans.record_donor_approval(
                    session,
                    info.context.actor,
                    plan_id=plan_id,
                    approved_by=input.approved_by,
                    approved_at=input.approved_at,
                )
        except DomainError as error:
            return errors.from_domain(error)
        return VisibilityPlan.from_model(plan)

    @strawberry.mutation(description="Plan a communication action.")
    async def add_communication_action(
        self, info: PlanInfo, input: AddCommunicationActionInput
    ) -> ActionResult:
        try:
            plan_id = relay.decode_id(input.plan_id, "VisibilityPlan", field="plan_id")
            async with info.context.transaction() as session:
                action = await visibility_plans.add_action(
                    session, info.context.actor, plan_id=plan_id, draft=_action_draft(input)
                )
        except DomainError as error:
            return errors.from_domain(error)
        return CommunicationAction.from_model(action)

    @strawberry.mutation(description="Change a PLANNED communication action.")
    async def update_communication_action(
        self, info: PlanInfo, input: UpdateCommunicationActionInput
    ) -> ActionResult:
        try:
            action_id = relay.decode_id(input.id, "CommunicationAction", field="id")
            async with info.context.transaction() as session:
                action = await visibility_plans.update_action(
                    session, info.context.actor, action_id=action_id, draft=_action_draft(input)
                )
        except DomainError as error:
            return errors.from_domain(error)
        return CommunicationAction.from_model(action)

    @strawberry.mutation(
        description="Mark a PLANNED action published (refused with DONOR_APPROVAL_REQUIRED "
        "until the donor's approval is recorded, when the plan needs it)."
    )
    async def publish_communication_action(
        self, info: PlanInfo, input: PublishCommunicationActionInput
    ) -> ActionResult:
        try:
            action_id = relay.decode_id(input.id, "CommunicationAction", field="id")
            async with info.context.transaction() as session:
                action = await visibility_plans.publish_action(
                    session,
                    info.context.actor,
                    action_id=action_id,
                    published_on=input.published_on,
                    link=input.link,
                )
        except DomainError as error:
            return errors.from_domain(error)
        return CommunicationAction.from_model(action)

    @strawberry.mutation(description="Cancel a PLANNED action.")
    async def cancel_communication_action(
        self, info: PlanInfo, input: CancelCommunicationActionInput
    ) -> ActionResult:
        try:
            action_id = relay.decode_id(input.id, "CommunicationAction", field="id")
            async with info.context.transaction() as session:
                action = await visibility_plans.cancel_action(
                    session, info.context.actor, action_id=action_id
                )
        except DomainError as error:
            return errors.from_domain(error)
        return CommunicationAction.from_model(action)
