"""The secretariat's dashboard: a coalition's figures (`Coalition.dashboard`) or every
coalition's (`portfolio`), computed in SQL by backend.reports for what the viewer may see."""

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from backend import models
from backend.actors import Actor
from backend.errors import BAD_RANGE, DomainError, FieldIssue, InvalidInput
from backend.graphql import errors, money, plan_tracking, tracking
from backend.graphql import figures as figure_types
from backend.graphql.context import Context
from backend.reports import in_kind, monthly, stages, unconverted
from backend.reports.figures import Breakdown
from backend.reports.scope import Scope
from backend.reports.tracking import Staleness
from backend.services import access

if TYPE_CHECKING:
    from backend.graphql.plan_tracking import OverdueActionList, UnplannedCommitmentList
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
PLAN_TRACKING = "backend.graphql.plan_tracking"


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

    # -- Money figures and breakdowns (backend/graphql/figures.py, backend/reports) --------
    # Figure sets selected together load as one SQL statement (FigureBatch).
    figure_batch: strawberry.Private[figure_types.FigureBatch | None] = None

    def _figures(self, info: DashboardInfo) -> figure_types.FigureBatch:
        if self.figure_batch is None:
            self.figure_batch = figure_types.FigureBatch(self.scope, info.context.reading)
        return self.figure_batch

    @strawberry.field(description="Every counted commitment's figures together.")
    async def totals(self, info: DashboardInfo) -> figure_types.Figures:
        return figure_types.Figures.of(await self._figures(info).one(Breakdown.TOTAL))

    @strawberry.field(
        description="Commitments whose cash passes through another counted commitment "
        "(`fundedThrough`): counted here, their cash only at the channel."
    )
    async def pass_through(self, info: DashboardInfo) -> figure_types.PassThrough:
        total = await self._figures(info).one(Breakdown.TOTAL)
        return figure_types.PassThrough(
            count=total.pass_through_count, amount_usd=money.amount(total.pass_through_usd)
        )

    @strawberry.field(
        description="Private-sector organisations' (IATI types 70-73) share of committed "
        "cash, four places; null when nothing is committed."
    )
    async def private_sector_share(self, info: DashboardInfo) -> Decimal | None:
        return await self._figures(info).private_sector_share()

    @strawberry.field(description="By workstream; the null key holds commitments with none.")
    async def by_workstream(self, info: DashboardInfo) -> list[figure_types.BreakdownRow]:
        return await self._figures(info).breakdown(Breakdown.WORKSTREAM)

    @strawberry.field(description="By IATI organisation type of the committing organisation.")
    async def by_organisation_type(self, info: DashboardInfo) -> list[figure_types.BreakdownRow]:
        return await self._figures(info).breakdown(Breakdown.ORGANISATION_TYPE)

    @strawberry.field(description="By target country, split evenly over each one's countries.")
    async def by_country(self, info: DashboardInfo) -> list[figure_types.BreakdownRow]:
        return await self._figures(info).breakdown(Breakdown.COUNTRY)

    @strawberry.field(description="By SDG goal, carrying the shares of its targets.")
    async def by_sdg_goal(self, info: DashboardInfo) -> list[figure_types.BreakdownRow]:
        return await self._figures(info).breakdown(Breakdown.SDG_GOAL)

    @strawberry.field(description="By SDG target, split evenly over each one's targets.")
    async def by_sdg_target(self, info: DashboardInfo) -> list[figure_types.BreakdownRow]:
        return await self._figures(info).breakdown(Breakdown.SDG_TARGET)

    @strawberry.field(description="By IATI earmarking category (1-4) of the cash part.")
    async def by_earmarking(self, info: DashboardInfo) -> list[figure_types.BreakdownRow]:
        return await self._figures(info).breakdown(Breakdown.EARMARKING)

    @strawberry.field(
        description="MULTI_YEAR (end date 365 days or more after the start), UNDER_ONE_YEAR, "
        "or UNKNOWN (a date missing)."
    )
    async def by_duration(self, info: DashboardInfo) -> list[figure_types.BreakdownRow]:
        return await self._figures(info).breakdown(Breakdown.DURATION)

    @strawberry.field(
        description="Organisations ranked by committed USD (cash plus in-kind value), ties by "
        "name; only those with figures you may see. `first`: at most 100."
    )
    async def top_partners(
        self, info: DashboardInfo, first: int = 10
    ) -> list[figure_types.PartnerRank]:
        return await self._figures(info).partners(first)

    @strawberry.field(description="In-kind help by category, with quantities per unit.")
    async def by_in_kind_category(
        self, info: DashboardInfo
    ) -> list[figure_types.InKindCategoryRow]:
        async with info.context.reading() as session:
            rows = await in_kind.by_category(session, self.scope)
        return [figure_types.InKindCategoryRow.of(row) for row in rows]

    @strawberry.field(
        description="Figures per calendar month: commitments by value date, deliveries by "
        "day; every month from the first to the last with figures (or the period's bounds) "
        "is listed, zeros included."
    )
    async def monthly(self, info: DashboardInfo) -> list[figure_types.MonthFigures]:
        async with info.context.reading() as session:
            rows = await monthly.monthly(session, self.scope)
        return [figure_types.MonthFigures.of(row) for row in rows]

    @strawberry.field(
        description="Money left out of every USD figure because no rate was known, latest "
        "first (`first`: at most 100). Amounts confidential to you are not listed."
    )
    async def unconverted(
        self, info: DashboardInfo, first: int = 100
    ) -> list[figure_types.UnconvertedAmount]:
        figure_types.check_first(first)
        async with info.context.reading() as session:
            rows = await unconverted.listed(session, self.scope, first=first)
        return [figure_types.UnconvertedAmount.of(row) for row in rows]

    @strawberry.field(description="Unconverted money summed per kind of row and currency.")
    async def unconverted_by_currency(
        self, info: DashboardInfo
    ) -> list[figure_types.UnconvertedSum]:
        async with info.context.reading() as session:
            sums = await unconverted.by_currency(session, self.scope)
        return [
            figure_types.UnconvertedSum(
                kind=row.kind, currency=row.currency, amount=money.amount(row.amount), rows=row.rows
            )
            for row in sums
        ]

    # -- end of money figures and breakdowns ---------------------------------------------
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

    # Visibility plans (backend/graphql/plan_tracking.py): the secretariat's follow-up,
    # refused to anyone else; judged on `asOf` like delivery tracking.
    @strawberry.field(
        description="Open commitments (PLEDGED, COMMITTED, IN_DELIVERY) worth their "
        "coalition's `visibilityPlanThresholdUsd` or more (cash plus in-kind value, in US "
        "dollars) that have no visibility plan, the most valuable first. The secretariat "
        "only: null with PERMISSION_DENIED for anyone else."
    )
    async def commitments_without_plan(
        self, info: DashboardInfo, first: int = 20
    ) -> Annotated["UnplannedCommitmentList", strawberry.lazy(PLAN_TRACKING)] | None:
        return await plan_tracking.unplanned_list(info, self.scope, first)

    @strawberry.field(
        description="Communication actions still PLANNED whose planned day is before "
        "`asOf`, the most overdue first. The secretariat only: null with PERMISSION_DENIED "
        "for anyone else."
    )
    async def overdue_actions(
        self, info: DashboardInfo, first: int = 20
    ) -> Annotated["OverdueActionList", strawberry.lazy(PLAN_TRACKING)] | None:
        return await plan_tracking.overdue_action_list(info, self.scope, first)


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
