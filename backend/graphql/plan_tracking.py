"""Visibility plans on the dashboard, for the secretariat only: open commitments worth their
coalition's threshold or more with no plan, and overdue communication actions, computed in
SQL by backend/reports/plan_tracking.py (README "Visibility plans")."""

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from backend.errors import DomainError
from backend.graphql import errors, money
from backend.graphql.context import Context
from backend.graphql.tracking import check_first
from backend.reports import plan_tracking
from backend.reports.scope import Scope
from backend.services import access

if TYPE_CHECKING:
    from backend.graphql.coalitions import Workstream
    from backend.graphql.commitments import Commitment

from backend.graphql import coalitions as coalition_types
from backend.graphql import commitments as commitment_types
from backend.graphql import visibility_plans as plan_types

PlanTrackingInfo = Info[Context, None]
CommitmentType = Annotated["Commitment", strawberry.lazy("backend.graphql.commitments")]


@strawberry.type(
    description="An open commitment worth its coalition's threshold or more, with no plan."
)
class UnplannedCommitment:
    commitment: CommitmentType = strawberry.field(description="The commitment.")
    value_usd: Decimal = strawberry.field(
        description="Its cash plus its in-kind lines' fair values, in US dollars (money with "
        "no rate adds nothing)."
    )
    threshold_usd: Decimal = strawberry.field(
        description="Its coalition's `visibilityPlanThresholdUsd` it was judged against."
    )


@strawberry.type(description="Commitments needing a visibility plan, the most valuable first.")
class UnplannedCommitmentList:
    total_count: int = strawberry.field(description="How many need one.")
    items: list[UnplannedCommitment] = strawberry.field(description="The first of them.")


@strawberry.type(description="A communication action still PLANNED after its planned day.")
class OverdueAction:
    action: plan_types.CommunicationAction = strawberry.field(description="The action.")
    plan: plan_types.VisibilityPlan = strawberry.field(description="Its plan.")
    commitment: CommitmentType | None = strawberry.field(
        description="The plan's commitment; null for a workstream's plan."
    )
    workstream: Annotated["Workstream", strawberry.lazy("backend.graphql.coalitions")] | None = (
        strawberry.field(description="The plan's workstream; null for a commitment's plan.")
    )
    days_overdue: int = strawberry.field(description="Days from its planned day to the as-of day.")


@strawberry.type(description="Overdue communication actions, the most overdue first.")
class OverdueActionList:
    total_count: int = strawberry.field(description="How many are overdue.")
    items: list[OverdueAction] = strawberry.field(description="The first of them.")


def require_secretariat(info: PlanTrackingInfo) -> None:
    try:
        access.require_secretariat(info.context.actor)
    except DomainError as error:
        raise errors.for_query(error) from error


async def unplanned_list(
    info: PlanTrackingInfo, scope: Scope, first: int
) -> UnplannedCommitmentList:
    require_secretariat(info)
    check_first(info, first)
    async with info.context.reading() as session:
        found = await plan_tracking.unplanned(session, scope, first=first)
    actor = info.context.actor
    return UnplannedCommitmentList(
        total_count=found.total,
        items=[
            UnplannedCommitment(
                commitment=commitment_types.Commitment.from_model(row.commitment, actor),
                value_usd=money.amount(row.value_usd),
                threshold_usd=money.amount(row.threshold_usd),
            )
            for row in found.rows
        ],
    )


async def overdue_action_list(
    info: PlanTrackingInfo, scope: Scope, first: int
) -> OverdueActionList:
    require_secretariat(info)
    check_first(info, first)
    async with info.context.reading() as session:
        found = await plan_tracking.overdue_actions(session, scope, first=first)
    actor = info.context.actor
    return OverdueActionList(
        total_count=found.total,
        items=[
            OverdueAction(
                action=plan_types.CommunicationAction.from_model(row.action),
                plan=plan_types.VisibilityPlan.from_model(row.plan),
                commitment=None
                if row.commitment is None
                else commitment_types.Commitment.from_model(row.commitment, actor),
                workstream=None
                if row.workstream is None
                else coalition_types.Workstream.from_model(row.workstream),
                days_overdue=row.days_overdue,
            )
            for row in found.rows
        ],
    )
