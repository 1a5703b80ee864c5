"""The secretariat's dashboard: a coalition's figures (`Coalition.dashboard`) or every
coalition's (`portfolio`), computed in SQL by backend.reports for what the viewer may see."""

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from backend import models
from backend.actors import Actor
from backend.errors import BAD_RANGE, DomainError, FieldIssue, InvalidInput
from backend.graphql import errors, tracking
from backend.graphql.context import Context
from backend.reports import stages
from backend.reports.scope import Scope
from backend.reports.tracking import Staleness
from backend.services import access

if TYPE_CHECKING:
    from backend.graphql.tracking import (
        OverDeliveryList,
        OverdueList,
        StaleCommitmentList,
        StaleMemberList,
        StalenessCounts,
        WorkstreamProgress,
    )

DashboardInfo = Info[Context, None]
# backend/graphql/tracking.py maps commitments, members and workstreams, whose modules
# import this one: its types are named lazily.
TRACKING = "backend.graphql.tracking"


@strawberry.type(description="How many commitments are at one stage.")
class StageCount:
    stage: models.Stage = strawberry.field(description="The stage.")
    count: int = strawberry.field(description="Commitments at it.")


@strawberry.type(
    description="Figures for a coalition or the whole portfolio, over what the viewer may "
    "see. Commitments are dated by their value date (or the day recorded), deliveries by "
    "the day made; others' confidential amounts never enter a partner's figures."
)
class Dashboard:
    period_from: dt.date | None = strawberry.field(description="First day counted, if any.")
    period_to: dt.date | None = strawberry.field(description="Last day counted, if any.")
    as_of: dt.date = strawberry.field(
        description="The day staleness and overdue commitments are judged on: `to`, or today."
    )
    scope: strawberry.Private[Scope]

    @strawberry.field(
        description="Commitments at each stage, every stage listed; withdrawn and cancelled "
        "ones are counted here but leave every total."
    )
    async def counts_by_stage(self, info: DashboardInfo) -> list[StageCount]:
        async with info.context.reading() as session:
            counts = await stages.counts_by_stage(session, self.scope)
        return [StageCount(stage=stage, count=count) for stage, count in counts.items()]

    # Delivery tracking (backend/graphql/tracking.py): judged on `asOf`, over the
    # commitments on the books then — the period's start does not apply.
    @strawberry.field(
        description="Open commitments (PLEDGED, COMMITTED, IN_DELIVERY) whose end date is "
        "before `asOf`, most overdue first."
    )
    async def overdue(
        self, info: DashboardInfo, first: int = 20
    ) -> Annotated["OverdueList", strawberry.lazy(TRACKING)]:
        return await tracking.overdue_list(info, self.scope, first)

    @strawberry.field(
        description="Open commitments by traffic light: days from their last report (a "
        "delivery, a stage change or the day recorded) to `asOf`."
    )
    async def staleness(
        self, info: DashboardInfo
    ) -> Annotated["StalenessCounts", strawberry.lazy(TRACKING)]:
        return await tracking.commitment_staleness(info, self.scope)

    @strawberry.field(
        description="Open commitments of `colour` (default: YELLOW and RED), stalest first."
    )
    async def stale_commitments(
        self, info: DashboardInfo, colour: Staleness | None = None, first: int = 20
    ) -> Annotated["StaleCommitmentList", strawberry.lazy(TRACKING)]:
        return await tracking.stale_commitment_list(info, self.scope, colour, first)

    @strawberry.field(
        description="ACTIVE members by traffic light: days from their latest report over "
        "their commitments in the coalition (any stage), or from joining, to `asOf`."
    )
    async def member_staleness(
        self, info: DashboardInfo
    ) -> Annotated["StalenessCounts", strawberry.lazy(TRACKING)]:
        return await tracking.member_staleness(info, self.scope)

    @strawberry.field(
        description="ACTIVE members of `colour` (default: YELLOW and RED), stalest first."
    )
    async def stale_members(
        self, info: DashboardInfo, colour: Staleness | None = None, first: int = 20
    ) -> Annotated["StaleMemberList", strawberry.lazy(TRACKING)]:
        return await tracking.stale_member_list(info, self.scope, colour, first)

    @strawberry.field(
        description="Firm commitments delivered beyond their cash amount or an in-kind "
        "line's quantity, the most over first. Flagged, never capped."
    )
    async def over_delivered(
        self, info: DashboardInfo, first: int = 20
    ) -> Annotated["OverDeliveryList", strawberry.lazy(TRACKING)]:
        return await tracking.over_delivered_list(info, self.scope, first)

    @strawberry.field(
        description="Each workstream's reach and money against its target, cumulative up to "
        "`asOf`, with whether it is on track."
    )
    async def workstream_progress(
        self, info: DashboardInfo
    ) -> list[Annotated["WorkstreamProgress", strawberry.lazy(TRACKING)]]:
        return await tracking.workstream_progress_of(info, self.scope)


def scope_for(
    actor: Actor,
    *,
    coalition_ids: list[int] | None,
    period_from: dt.date | None,
    period_to: dt.date | None,
) -> Scope:
    """The viewer's scope; InvalidInput when the period ends before it starts."""
    if period_from is not None and period_to is not None and period_to < period_from:
        raise InvalidInput([FieldIssue("to", BAD_RANGE, "The period ends before it starts.")])
    reader = access.reader_of(actor)
    return Scope(
        listed=lambda commitment: access.listed(reader, commitment),
        amounts_shown=lambda commitment: access.amounts_shown(reader, commitment),
        coalition_ids=coalition_ids,
        period_from=period_from,
        period_to=period_to,
    )


def dashboard_for(
    actor: Actor,
    *,
    coalition_ids: list[int] | None,
    period_from: dt.date | None,
    period_to: dt.date | None,
) -> Dashboard:
    try:
        scope = scope_for(
            actor, coalition_ids=coalition_ids, period_from=period_from, period_to=period_to
        )
    except DomainError as error:
        raise errors.for_query(error) from error
    return Dashboard(
        period_from=period_from, period_to=period_to, as_of=scope.judged_on, scope=scope
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="Every coalition's figures together (the secretariat): `from` and `to` "
        "bound the period, both inclusive."
    )
    def portfolio(
        self,
        info: DashboardInfo,
        from_: Annotated[dt.date | None, strawberry.argument(name="from")] = None,
        to: dt.date | None = None,
    ) -> Dashboard:
        try:
            access.require_secretariat(info.context.actor)
        except DomainError as error:
            raise errors.for_query(error) from error
        return dashboard_for(
            info.context.actor, coalition_ids=None, period_from=from_, period_to=to
        )
