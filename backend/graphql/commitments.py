"""Commitments and their in-kind lines: types and queries (writes: commitment_writes.py)."""

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from backend import models
from backend.actors import Actor
from backend.errors import DomainError
from backend.graphql import errors, money, relay
from backend.graphql.context import Context
from backend.services import access, commitments

if TYPE_CHECKING:
    from backend.graphql.coalitions import Coalition, Workstream
    from backend.graphql.deliveries import Delivery
    from backend.graphql.organisations import Organisation
    from backend.graphql.visibility_plans import VisibilityPlan

from backend.graphql import coalitions as coalition_types
from backend.graphql import deliveries as delivery_types
from backend.graphql import organisations as organisation_types

CommitmentInfo = Info[Context, None]


@strawberry.type(description="A quantity of non-cash help, valued apart from cash totals.")
class InKindLine(relay.Node):
    category: models.InKindCategory = strawberry.field(description="What kind of help.")
    description: str = strawberry.field(description="What exactly is offered.")
    quantity: Decimal = strawberry.field(description="How much, in `unit`.")
    unit: str = strawberry.field(description="GB, device, seat, expert_day, airtime_minute, ...")
    fair_value: Decimal | None = strawberry.field(
        description="Fair-market value; null when not given or when confidential to the viewer."
    )
    fair_value_currency: str | None = strawberry.field(description="ISO 4217 currency of it.")
    valuation_method: str | None = strawberry.field(description="How the value was set.")
    fair_value_usd: Decimal | None = strawberry.field(
        description="`fairValue` in US dollars at the rate pinned when the line was recorded; "
        "null when there is no value, no rate was known (unconverted), or it is hidden."
    )
    usd_rate: Decimal | None = strawberry.field(description="US dollars per unit of currency.")
    usd_rate_date: dt.date | None = strawberry.field(description="Day of the pinned rate.")
    usd_rate_source: str | None = strawberry.field(description="Who published the rate.")
    free_of_charge: bool = strawberry.field(description="Given free, not at a discount.")
    free_until: dt.date | None = strawberry.field(description="Free until this day.")

    @classmethod
    def from_model(cls, line: models.InKindLine, *, show_values: bool) -> "InKindLine":
        return cls(
            id=relay.to_global_id("InKindLine", line.id),
            category=line.category,
            description=line.description,
            quantity=money.quantity(line.quantity),
            unit=line.unit,
            fair_value=money.amount(line.fair_value) if show_values else None,
            fair_value_currency=line.fair_value_currency,
            valuation_method=line.valuation_method,
            fair_value_usd=money.amount(line.fair_value_usd) if show_values else None,
            usd_rate=money.quantity(line.usd_rate),
            usd_rate_date=line.usd_rate_date,
            usd_rate_source=line.usd_rate_source,
            free_of_charge=line.free_of_charge,
            free_until=line.free_until,
        )


@strawberry.type(description="One organisation's promise to a coalition: a pledge once recorded.")
class Commitment(relay.Node):
    ref: str = strawberry.field(description="Short reference, e.g. CMT-3F2A19C0D1.")
    title: str = strawberry.field(description="What is promised, in a line.")
    description: str | None = strawberry.field(description="Details.")
    stage: models.Stage = strawberry.field(description="Where it is in its life.")
    resource_kind: models.ResourceKind = strawberry.field(description="Cash, in-kind or both.")
    amount: Decimal | None = strawberry.field(
        description="The cash part in `currency`; null for CONFIDENTIAL ones unless the viewer "
        "is the owner or the secretariat."
    )
    currency: str | None = strawberry.field(description="ISO 4217 code of `amount`.")
    value_date: dt.date | None = strawberry.field(description="Date the amount is valued at.")
    earmarking: str | None = strawberry.field(description="IATI EarmarkingCategory, 1 to 4.")
    amount_usd: Decimal | None = strawberry.field(
        description="`amount` in US dollars at the pinned rate; null when no rate was known "
        "(unconverted) or the amount is hidden."
    )
    usd_rate: Decimal | None = strawberry.field(description="US dollars per unit of currency.")
    usd_rate_date: dt.date | None = strawberry.field(description="Day of the pinned rate.")
    usd_rate_source: str | None = strawberry.field(description="Who published the rate.")
    countries: list[str] = strawberry.field(description="Target countries, ISO 3166-1 alpha-2.")
    sdg_targets: list[str] = strawberry.field(description="SDG targets, e.g. 4.1.")
    sectors: list[str] = strawberry.field(
        description="OECD DAC 5-digit purpose codes, e.g. 11220 Primary education."
    )
    start_date: dt.date | None = strawberry.field(description="When delivery starts.")
    end_date: dt.date | None = strawberry.field(description="When delivery ends.")
    visibility: models.Visibility = strawberry.field(description="Who sees it, and its figures.")
    embargo_until: dt.datetime | None = strawberry.field(
        description="Hidden from all but the owner and the secretariat until then."
    )
    announced_at: dt.datetime | None = strawberry.field(description="When it went public.")
    last_progress_at: dt.datetime | None = strawberry.field(
        description="Last stage change or delivery."
    )
    closing_reason: str | None = strawberry.field(description="Why it was withdrawn or cancelled.")
    version: int = strawberry.field(description="Pass back on writes; a stale one is refused.")
    created_at: dt.datetime = strawberry.field(description="When it was recorded.")
    updated_at: dt.datetime = strawberry.field(description="When it last changed.")
    model: strawberry.Private[models.Commitment]
    show_values: strawberry.Private[bool]

    @classmethod
    def from_model(cls, commitment: models.Commitment, viewer: Actor) -> "Commitment":
        show = access.can_see_amounts(viewer, commitment)
        return cls(
            id=relay.to_global_id("Commitment", commitment.id),
            ref=commitment.ref,
            title=commitment.title,
            description=commitment.description,
            stage=commitment.stage,
            resource_kind=commitment.resource_kind,
            amount=money.amount(commitment.amount) if show else None,
            currency=commitment.currency,
            value_date=commitment.value_date,
            earmarking=commitment.earmarking,
            amount_usd=money.amount(commitment.amount_usd) if show else None,
            usd_rate=money.quantity(commitment.usd_rate),
            usd_rate_date=commitment.usd_rate_date,
            usd_rate_source=commitment.usd_rate_source,
            countries=list(commitment.countries),
            sdg_targets=list(commitment.sdg_targets),
            sectors=list(commitment.sectors),
            start_date=commitment.start_date,
            end_date=commitment.end_date,
            visibility=commitment.visibility,
            embargo_until=commitment.embargo_until,
            announced_at=commitment.announced_at,
            last_progress_at=commitment.last_progress_at,
            closing_reason=commitment.closing_reason,
            version=commitment.version,
            created_at=commitment.created_at,
            updated_at=commitment.updated_at,
            model=commitment,
            show_values=show,
        )

    @strawberry.field(description="The pledging organisation.")
    async def organisation(
        self, info: CommitmentInfo
    ) -> Annotated["Organisation", strawberry.lazy("backend.graphql.organisations")]:
        organisation = await info.context.loaders.organisation.load(self.model.organisation_id)
        assert organisation is not None
        return organisation_types.Organisation.from_model(organisation)

    @strawberry.field(description="The coalition it was made to.")
    async def coalition(
        self, info: CommitmentInfo
    ) -> Annotated["Coalition", strawberry.lazy("backend.graphql.coalitions")]:
        coalition = await info.context.loaders.coalition.load(self.model.coalition_id)
        assert coalition is not None
        return coalition_types.Coalition.from_model(coalition)

    @strawberry.field(description="The workstream it counts towards, if any.")
    async def workstream(
        self, info: CommitmentInfo
    ) -> Annotated["Workstream", strawberry.lazy("backend.graphql.coalitions")] | None:
        if self.model.workstream_id is None:
            return None
        workstream = await info.context.loaders.workstream.load(self.model.workstream_id)
        return coalition_types.Workstream.from_model(workstream) if workstream else None

    @strawberry.field(
        description="Pass-through money: the other member's commitment this cash is part of "
        "(counted there, once, in coalition totals); null for none or when you may not see it."
    )
    async def funded_through(self, info: CommitmentInfo) -> "Commitment | None":
        if self.model.funded_through_id is None:
            return None
        channel = await info.context.loaders.commitment.load(self.model.funded_through_id)
        return Commitment.from_model(channel, info.context.actor) if channel else None

    @strawberry.field(description="The in-kind lines, in the order given.")
    async def in_kind(self, info: CommitmentInfo) -> list[InKindLine]:
        rows = await info.context.loaders.in_kind_lines_of_commitment.load(self.model.id)
        return [InKindLine.from_model(row, show_values=self.show_values) for row in rows]

    @strawberry.field(
        description="Its visibility plan; null when it has none or for readers other than "
        "its owner and the secretariat."
    )
    async def visibility_plan(
        self, info: CommitmentInfo
    ) -> Annotated["VisibilityPlan", strawberry.lazy("backend.graphql.visibility_plans")] | None:
        from backend.graphql import visibility_plans as plan_types

        return await plan_types.of_commitment(info, self.model)

    @strawberry.field(description="Deliveries against it, newest first.")
    async def deliveries(
        self, info: CommitmentInfo
    ) -> list[Annotated["Delivery", strawberry.lazy("backend.graphql.deliveries")]]:
        rows = await info.context.loaders.deliveries_of_commitment.load(self.model.id)
        return [
            delivery_types.Delivery.from_model(row, show_values=self.show_values) for row in rows
        ]


@relay.node_resolver("Commitment")
async def resolve_node(info: CommitmentInfo, id: int) -> Commitment | None:
    commitment = await info.context.loaders.commitment.load(id)
    return Commitment.from_model(commitment, info.context.actor) if commitment else None


@strawberry.input(description="Narrows a list of commitments; all given criteria must hold.")
class CommitmentFilter:
    coalition_id: strawberry.ID | None = strawberry.field(
        default=None, description="Made to this coalition."
    )
    workstream_id: strawberry.ID | None = strawberry.field(
        default=None, description="Counting towards this workstream."
    )
    organisation_id: strawberry.ID | None = strawberry.field(
        default=None, description="Made by this organisation."
    )
    organisation_type: str | None = strawberry.field(default=None, description="IATI type code.")
    stages: list[models.Stage] | None = strawberry.field(default=None, description="Any of these.")
    resource_kind: models.ResourceKind | None = strawberry.field(
        default=None, description="Cash, in-kind or both."
    )
    country: str | None = strawberry.field(default=None, description="Targets this country.")
    sdg_target: str | None = strawberry.field(default=None, description="Targets this, e.g. 4.1.")
    created_from: dt.datetime | None = strawberry.field(default=None, description="Inclusive.")
    created_until: dt.datetime | None = strawberry.field(default=None, description="Exclusive.")


@strawberry.enum(description="How to order commitments.")
class CommitmentOrder(Enum):
    NEWEST_FIRST = "NEWEST_FIRST"
    OLDEST_FIRST = "OLDEST_FIRST"
    TITLE = "TITLE"


ORDERINGS = {
    CommitmentOrder.NEWEST_FIRST: relay.Ordering(
        "newest", models.Commitment.created_at, descending=True, is_datetime=True
    ),
    CommitmentOrder.OLDEST_FIRST: relay.Ordering(
        "oldest", models.Commitment.created_at, descending=False, is_datetime=True
    ),
    CommitmentOrder.TITLE: relay.Ordering("title", models.Commitment.title, descending=False),
}


def criteria_of(filter: CommitmentFilter | None) -> commitments.CommitmentFilter:
    if filter is None:
        return commitments.CommitmentFilter()
    return commitments.CommitmentFilter(
        coalition_id=relay.decode_optional_id(
            filter.coalition_id, "Coalition", field="filter.coalition_id"
        ),
        workstream_id=relay.decode_optional_id(
            filter.workstream_id, "Workstream", field="filter.workstream_id"
        ),
        organisation_id=relay.decode_optional_id(
            filter.organisation_id, "Organisation", field="filter.organisation_id"
        ),
        organisation_type=filter.organisation_type,
        stages=list(filter.stages or []),
        resource_kind=filter.resource_kind,
        country=filter.country,
        sdg_target=filter.sdg_target,
        created_from=filter.created_from,
        created_until=filter.created_until,
    )


async def commitment_page(
    info: CommitmentInfo,
    criteria: commitments.CommitmentFilter,
    *,
    first: int,
    after: str | None,
    order: CommitmentOrder = CommitmentOrder.NEWEST_FIRST,
) -> relay.Connection[Commitment]:
    actor = info.context.actor
    try:
        return await relay.connection(
            info,
            commitments.listing(actor, criteria),
            ordering=ORDERINGS[order],
            id_column=models.Commitment.id,
            first=first,
            after=after,
            build=lambda row: Commitment.from_model(row, actor),
        )
    except DomainError as error:
        raise errors.for_query(error) from error


@strawberry.type
class Query:
    @strawberry.field(description="Commitments the viewer may see, filtered and ordered.")
    async def commitments(
        self,
        info: CommitmentInfo,
        first: int = 20,
        after: str | None = None,
        filter: CommitmentFilter | None = None,
        order_by: CommitmentOrder = CommitmentOrder.NEWEST_FIRST,
    ) -> relay.Connection[Commitment]:
        try:
            criteria = criteria_of(filter)
        except DomainError as error:
            raise errors.for_query(error) from error
        return await commitment_page(info, criteria, first=first, after=after, order=order_by)


@relay.node_resolver("InKindLine")
async def resolve_in_kind_line(info: CommitmentInfo, id: int) -> InKindLine | None:
    line = await info.context.loaders.in_kind_line.load(id)
    if line is None:
        return None
    commitment = await info.context.loaders.commitment.load(line.commitment_id)
    if commitment is None:
        return None
    return InKindLine.from_model(
        line, show_values=access.can_see_amounts(info.context.actor, commitment)
    )
