"""Delivery tracking on the dashboard: overdue, stale and over-delivered commitments, stale
members and workstream progress, computed in SQL by backend/reports (README "Delivery
tracking"). The resolvers here only check `first`, read and map."""

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from backend.errors import DomainError
from backend.graphql import errors, money
from backend.graphql.context import Context
from backend.reports import over_delivery, overdue, staleness, tracking, workstream_progress
from backend.reports.scope import Scope
from backend.services import access, pages

if TYPE_CHECKING:
    from backend.graphql.coalitions import Coalition, Workstream
    from backend.graphql.commitments import Commitment, InKindLine
    from backend.graphql.memberships import Membership
    from backend.graphql.organisations import Organisation

from backend.graphql import coalitions as coalition_types
from backend.graphql import commitments as commitment_types
from backend.graphql import memberships as membership_types
from backend.graphql import organisations as organisation_types

TrackingInfo = Info[Context, None]
CommitmentType = Annotated["Commitment", strawberry.lazy("backend.graphql.commitments")]

strawberry.enum(
    tracking.Staleness,
    description="The UN SDG Partnerships Platform's traffic light: GREEN, reported in the "
    "last 365 days; YELLOW, last report 365 to 729 days ago; RED, 730 days or more.",
)


@strawberry.enum(description="What of a commitment was over-delivered.")
class DeliveredPart(StrEnum):
    CASH = "CASH"
    IN_KIND = "IN_KIND"


@strawberry.type(description="How many are green, yellow and red.")
class StalenessCounts:
    green: int = strawberry.field(description="Reported in the last 365 days.")
    yellow: int = strawberry.field(description="Last report 365 to 729 days ago.")
    red: int = strawberry.field(description="Last report 730 days ago or more.")

    @classmethod
    def of(cls, counts: dict[tracking.Staleness, int]) -> "StalenessCounts":
        return cls(
            green=counts[tracking.Staleness.GREEN],
            yellow=counts[tracking.Staleness.YELLOW],
            red=counts[tracking.Staleness.RED],
        )


@strawberry.type(description="An open commitment past its end date.")
class OverdueCommitment:
    commitment: CommitmentType = strawberry.field(description="The commitment.")
    days_overdue: int = strawberry.field(description="Days from its end date to the as-of day.")
    amount_usd: Decimal | None = strawberry.field(
        description="Its cash part in US dollars (pledged, for a PLEDGED one); null without "
        "one, when unconverted, or when its amounts are hidden from you."
    )
    delivered_usd: Decimal | None = strawberry.field(
        description="Cash delivered against it up to the as-of day, in US dollars (REPORTED "
        "and CONFIRMED deliveries with a USD figure); null when its amounts are hidden."
    )


@strawberry.type(description="Overdue commitments, most overdue first.")
class OverdueList:
    total_count: int = strawberry.field(description="How many are overdue.")
    items: list[OverdueCommitment] = strawberry.field(description="The first of them.")


@strawberry.type(description="An open commitment and its last report.")
class StaleCommitment:
    commitment: CommitmentType = strawberry.field(description="The commitment.")
    last_report_on: dt.date = strawberry.field(
        description="Latest of its deliveries' days, its last progress and the day recorded."
    )
    days_since_report: int = strawberry.field(description="Days from it to the as-of day.")
    colour: tracking.Staleness = strawberry.field(description="Its traffic light.")


@strawberry.type(description="Open commitments of a colour, stalest first.")
class StaleCommitmentList:
    total_count: int = strawberry.field(description="How many have that colour.")
    items: list[StaleCommitment] = strawberry.field(description="The stalest of them.")


@strawberry.type(description="An ACTIVE member and its last report in the coalition.")
class StaleMember:
    membership: Annotated["Membership", strawberry.lazy("backend.graphql.memberships")] = (
        strawberry.field(description="The membership.")
    )
    organisation: Annotated["Organisation", strawberry.lazy("backend.graphql.organisations")] = (
        strawberry.field(description="The member.")
    )
    last_report_on: dt.date = strawberry.field(
        description="The latest report over its commitments there you may see (any stage), "
        "or the day it joined when it has none."
    )
    days_since_report: int = strawberry.field(description="Days from it to the as-of day.")
    colour: tracking.Staleness = strawberry.field(description="Its traffic light.")
    coalition_id: strawberry.Private[int]

    @strawberry.field(description="The coalition it is a member of.")
    async def coalition(
        self, info: TrackingInfo
    ) -> Annotated["Coalition", strawberry.lazy("backend.graphql.coalitions")]:
        coalition = await info.context.loaders.coalition.load(self.coalition_id)
        assert coalition is not None
        return coalition_types.Coalition.from_model(coalition)


@strawberry.type(description="ACTIVE members of a colour, stalest first.")
class StaleMemberList:
    total_count: int = strawberry.field(description="How many have that colour.")
    items: list[StaleMember] = strawberry.field(description="The stalest of them.")


@strawberry.type(
    description="More delivered than promised: a firm commitment's cash, or one of its "
    "in-kind lines. Flagged, never capped."
)
class OverDelivery:
    commitment: CommitmentType = strawberry.field(description="The commitment.")
    part: DeliveredPart = strawberry.field(description="Its cash part, or an in-kind line.")
    line: Annotated["InKindLine", strawberry.lazy("backend.graphql.commitments")] | None = (
        strawberry.field(description="The in-kind line; null for cash.")
    )
    unit: str = strawberry.field(description="USD for cash, else the line's unit.")
    promised: Decimal = strawberry.field(
        description="The commitment's amount in US dollars, or the line's quantity."
    )
    delivered: Decimal = strawberry.field(
        description="REPORTED and CONFIRMED deliveries up to the as-of day, in the same unit."
    )
    ratio: Decimal | None = strawberry.field(
        description="delivered / promised, four places; null for a promise of zero."
    )


@strawberry.type(description="Over-delivered cash parts and lines, the most over first.")
class OverDeliveryList:
    total_count: int = strawberry.field(description="How many are over-delivered.")
    items: list[OverDelivery] = strawberry.field(description="The first of them.")


@strawberry.type(
    description="A workstream's progress against its target, cumulative up to the as-of "
    "day, over the commitments you may see."
)
class WorkstreamProgress:
    workstream: Annotated["Workstream", strawberry.lazy("backend.graphql.coalitions")] = (
        strawberry.field(description="The workstream.")
    )
    target_metric: str | None = strawberry.field(description="e.g. teachers trained.")
    target_value: Decimal | None = strawberry.field(description="e.g. 1000000.")
    target_date: dt.date | None = strawberry.field(description="When the target is due.")
    reach: int = strawberry.field(
        description="Beneficiaries of its REPORTED and CONFIRMED deliveries, attributed by "
        "share (co-reported reach counts once), rounded half up to whole people."
    )
    percent_of_target: Decimal | None = strawberry.field(
        description="reach / targetValue x 100, two places; null without a target value."
    )
    committed_usd: Decimal = strawberry.field(
        description="Cash of its firm commitments (COMMITTED, IN_DELIVERY, FULFILLED) in US "
        "dollars, by the totals' rules (no unconverted, hidden or passed-through amounts)."
    )
    delivered_usd: Decimal = strawberry.field(
        description="Cash delivered against its commitments, in US dollars, by the same rules."
    )
    withheld_count: int = strawberry.field(
        description="Its commitments whose amounts are hidden from you, left out of the figures."
    )
    days_left: int | None = strawberry.field(
        description="Days from the as-of day to the target date (negative once passed)."
    )
    on_track: bool | None = strawberry.field(
        description="Whether the share of the target reached is at least the share of the "
        "time elapsed from the day the workstream was created to its target date; null "
        "without a target value, a target date, or a target date after that day."
    )


def check_first(info: TrackingInfo, first: int) -> None:
    try:
        pages.check_first(first, limit=info.context.settings.max_page_size)
    except DomainError as error:
        raise errors.for_query(error) from error


async def overdue_list(info: TrackingInfo, scope: Scope, first: int) -> OverdueList:
    check_first(info, first)
    async with info.context.reading() as session:
        found = await overdue.overdue(session, scope, first=first)
    actor = info.context.actor
    return OverdueList(
        total_count=found.total,
        items=[
            OverdueCommitment(
                commitment=commitment_types.Commitment.from_model(row.commitment, actor),
                days_overdue=row.days_overdue,
                amount_usd=money.amount(row.amount_usd),
                delivered_usd=money.amount(row.delivered_usd),
            )
            for row in found.rows
        ],
    )


async def commitment_staleness(info: TrackingInfo, scope: Scope) -> StalenessCounts:
    async with info.context.reading() as session:
        return StalenessCounts.of(await staleness.commitment_counts(session, scope))


async def stale_commitment_list(
    info: TrackingInfo, scope: Scope, colour: tracking.Staleness | None, first: int
) -> StaleCommitmentList:
    check_first(info, first)
    async with info.context.reading() as session:
        found = await staleness.stale_commitments(session, scope, colour=colour, first=first)
    actor = info.context.actor
    return StaleCommitmentList(
        total_count=found.total,
        items=[
            StaleCommitment(
                commitment=commitment_types.Commitment.from_model(row.commitment, actor),
                last_report_on=row.last_report_on,
                days_since_report=row.days_since,
                colour=row.colour,
            )
            for row in found.rows
        ],
    )


async def member_staleness(info: TrackingInfo, scope: Scope) -> StalenessCounts:
    async with info.context.reading() as session:
        return StalenessCounts.of(await staleness.member_counts(session, scope))


async def stale_member_list(
    info: TrackingInfo, scope: Scope, colour: tracking.Staleness | None, first: int
) -> StaleMemberList:
    check_first(info, first)
    async with info.context.reading() as session:
        found = await staleness.stale_members(session, scope, colour=colour, first=first)
    return StaleMemberList(
        total_count=found.total,
        items=[
            StaleMember(
                membership=membership_types.Membership.from_model(row.membership),
                organisation=organisation_types.Organisation.from_model(row.organisation),
                last_report_on=row.last_report_on,
                days_since_report=row.days_since,
                colour=row.colour,
                coalition_id=row.membership.coalition_id,
            )
            for row in found.rows
        ],
    )


async def over_delivered_list(info: TrackingInfo, scope: Scope, first: int) -> OverDeliveryList:
    check_first(info, first)
    async with info.context.reading() as session:
        found = await over_delivery.over_delivered(session, scope, first=first)
    actor = info.context.actor
    items = []
    for row in found.rows:
        line = row.line
        items.append(
            OverDelivery(
                commitment=commitment_types.Commitment.from_model(row.commitment, actor),
                part=DeliveredPart.CASH if line is None else DeliveredPart.IN_KIND,
                line=None
                if line is None
                else commitment_types.InKindLine.from_model(
                    line, show_values=access.can_see_amounts(actor, row.commitment)
                ),
                unit="USD" if line is None else line.unit,
                promised=money.amount(row.promised)
                if line is None
                else money.quantity(row.promised),
                delivered=money.amount(row.delivered)
                if line is None
                else money.quantity(row.delivered),
                ratio=row.ratio,
            )
        )
    return OverDeliveryList(total_count=found.total, items=items)


async def workstream_progress_of(info: TrackingInfo, scope: Scope) -> list[WorkstreamProgress]:
    async with info.context.reading() as session:
        found = await workstream_progress.workstream_progress(session, scope)
    return [
        WorkstreamProgress(
            workstream=coalition_types.Workstream.from_model(row.workstream),
            target_metric=row.workstream.target_metric,
            target_value=money.quantity(row.workstream.target_value),
            target_date=row.workstream.target_date,
            reach=row.reach,
            percent_of_target=row.percent_of_target,
            committed_usd=money.amount(row.committed_usd),
            delivered_usd=money.amount(row.delivered_usd),
            withheld_count=row.withheld,
            days_left=row.days_left,
            on_track=row.on_track,
        )
        for row in found
    ]
