"""The private-sector pipeline, for the secretariat: engagement opportunities, the query
listing a coalition's, and their writes (backend/graphql/pipeline_writes.py)."""

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from backend import models
from backend.errors import DomainError
from backend.graphql import errors, money, relay
from backend.graphql.context import Context
from backend.services import access, pipeline

if TYPE_CHECKING:
    from backend.graphql.coalitions import Coalition
    from backend.graphql.commitments import Commitment
    from backend.graphql.memberships import Membership
    from backend.graphql.organisations import Organisation

from backend.graphql import coalitions as coalition_types
from backend.graphql import commitments as commitment_types
from backend.graphql import memberships as membership_types
from backend.graphql import organisations as organisation_types

PipelineInfo = Info[Context, None]


@strawberry.type(description="The secretariat's due-diligence record of a prospect.")
class DueDiligence:
    decision: models.DueDiligenceDecision = strawberry.field(
        description="PENDING until decided; CLEARED or CLEARED_WITH_CONDITIONS let the "
        "opportunity convert while still valid."
    )
    risk_rating: models.RiskRating | None = strawberry.field(description="How risky.")
    conditions: str | None = strawberry.field(description="The conditions of a clearance.")
    valid_until: dt.date | None = strawberry.field(description="The last day the clearance holds.")
    decided_by: str | None = strawberry.field(description="Who decided.")
    decided_at: dt.datetime | None = strawberry.field(description="When it was decided.")


@strawberry.type(
    description="A private-sector prospect the secretariat is cultivating for a coalition. "
    "Seen by the secretariat only: `node(id:)` is null for everyone else."
)
class EngagementOpportunity(relay.Node):
    title: str = strawberry.field(description="What the opportunity is, in a line.")
    stage: models.OpportunityStage = strawberry.field(description="Where it stands.")
    donor_kind: models.DonorKind = strawberry.field(description="Corporate or individual.")
    motivations: list[models.Motivation] = strawberry.field(
        description="Why the prospect would engage."
    )
    estimated_value: Decimal | None = strawberry.field(description="What it may bring.")
    currency: str | None = strawberry.field(description="ISO 4217 code of `estimatedValue`.")
    probability: int | None = strawberry.field(description="Chance of agreement, in percent.")
    next_step: str | None = strawberry.field(description="What happens next.")
    next_step_on: dt.date | None = strawberry.field(description="When the next step is due.")
    due_diligence: DueDiligence = strawberry.field(description="The due-diligence record.")
    created_at: dt.datetime = strawberry.field(description="When it was opened.")
    updated_at: dt.datetime = strawberry.field(description="When it last changed.")
    model: strawberry.Private[models.EngagementOpportunity]

    @classmethod
    def from_model(cls, opportunity: models.EngagementOpportunity) -> "EngagementOpportunity":
        return cls(
            id=relay.to_global_id("EngagementOpportunity", opportunity.id),
            title=opportunity.title,
            stage=opportunity.stage,
            donor_kind=opportunity.donor_kind,
            motivations=pipeline.motivations_of(opportunity),
            estimated_value=money.amount(opportunity.estimated_value),
            currency=opportunity.currency,
            probability=opportunity.probability,
            next_step=opportunity.next_step,
            next_step_on=opportunity.next_step_on,
            due_diligence=DueDiligence(
                decision=opportunity.due_diligence_decision,
                risk_rating=opportunity.risk_rating,
                conditions=opportunity.due_diligence_conditions,
                valid_until=opportunity.due_diligence_valid_until,
                decided_by=opportunity.due_diligence_decided_by,
                decided_at=opportunity.due_diligence_decided_at,
            ),
            created_at=opportunity.created_at,
            updated_at=opportunity.updated_at,
            model=opportunity,
        )

    @strawberry.field(description="The coalition the prospect would join or give to.")
    async def coalition(
        self, info: PipelineInfo
    ) -> Annotated["Coalition", strawberry.lazy("backend.graphql.coalitions")]:
        coalition = await info.context.loaders.coalition.load(self.model.coalition_id)
        assert coalition is not None
        return coalition_types.Coalition.from_model(coalition)

    @strawberry.field(description="The prospective partner.")
    async def prospect_organisation(
        self, info: PipelineInfo
    ) -> Annotated["Organisation", strawberry.lazy("backend.graphql.organisations")]:
        organisation = await info.context.loaders.organisation.load(
            self.model.prospect_organisation_id
        )
        assert organisation is not None
        return organisation_types.Organisation.from_model(organisation)

    @strawberry.field(description="The membership it converted into, if it did.")
    async def converted_membership(
        self, info: PipelineInfo
    ) -> Annotated["Membership", strawberry.lazy("backend.graphql.memberships")] | None:
        if self.model.converted_membership_id is None:
            return None
        async with info.context.reading() as session:
            membership = await session.get(models.Membership, self.model.converted_membership_id)
        return membership_types.Membership.from_model(membership) if membership else None

    @strawberry.field(description="The commitment it converted into, if it did.")
    async def converted_commitment(
        self, info: PipelineInfo
    ) -> Annotated["Commitment", strawberry.lazy("backend.graphql.commitments")] | None:
        if self.model.converted_commitment_id is None:
            return None
        commitment = await info.context.loaders.commitment.load(self.model.converted_commitment_id)
        if commitment is None:
            return None
        return commitment_types.Commitment.from_model(commitment, info.context.actor)


@relay.node_resolver("EngagementOpportunity")
async def resolve_node(info: PipelineInfo, id: int) -> EngagementOpportunity | None:
    try:
        async with info.context.reading() as session:
            opportunity = await pipeline.get(session, info.context.actor, opportunity_id=id)
    except DomainError:
        return None
    return EngagementOpportunity.from_model(opportunity)


NEWEST_FIRST = relay.Ordering(
    "created", models.EngagementOpportunity.created_at, descending=True, is_datetime=True
)


@strawberry.type
class Query:
    @strawberry.field(
        description="A coalition's engagement opportunities, newest first; `stage` narrows "
        "them (secretariat only: refused with PERMISSION_DENIED to anyone else)."
    )
    async def opportunities(
        self,
        info: PipelineInfo,
        coalition_id: strawberry.ID,
        stage: models.OpportunityStage | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> relay.Connection[EngagementOpportunity]:
        # Refused before the id is read, so the answer to a partner never depends on it.
        try:
            access.require_secretariat(info.context.actor)
            decoded = relay.decode_id(coalition_id, "Coalition", field="coalition_id")
            return await relay.connection(
                info,
                pipeline.listing(info.context.actor, coalition_id=decoded, stage=stage),
                ordering=NEWEST_FIRST,
                id_column=models.EngagementOpportunity.id,
                first=first,
                after=after,
                build=EngagementOpportunity.from_model,
            )
        except DomainError as error:
            raise errors.for_query(error) from error
