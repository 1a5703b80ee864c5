"""The dashboard's money figures and breakdowns as GraphQL types, from backend.reports.

Every figure set a dashboard asks for (totals, breakdowns, top partners) is loaded through
one `FigureBatch`: sibling fields resolve in the same tick, so their breakdowns become one
SQL statement (backend/reports/figures.py), however many are selected.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from backend import codes, models
from backend.errors import BAD_RANGE, FieldIssue, InvalidInput
from backend.graphql import errors, money, relay
from backend.graphql.context import Context
from backend.reports import figures, in_kind, monthly, unconverted
from backend.reports.facts import Duration
from backend.reports.scope import Scope

if TYPE_CHECKING:
    from backend.graphql.organisations import Organisation

from backend.graphql import organisations as organisation_types

FiguresInfo = Info[Context, None]
Reading = Callable[[], AbstractAsyncContextManager[AsyncSession]]
Breakdown = figures.Breakdown
MAX_ROWS = 100

UnconvertedKind = strawberry.enum(
    unconverted.Kind,
    name="UnconvertedKind",
    description="Which money row has no USD value: a commitment's cash, a valued in-kind "
    "line, or a cash delivery.",
)

DURATION_LABELS = {
    Duration.MULTI_YEAR.value: "Multi-year (365 days or more)",
    Duration.UNDER_ONE_YEAR.value: "Under one year",
    Duration.UNKNOWN.value: "Unknown (no start or end date)",
}
# What the row keyed null is called in each breakdown.
UNSPECIFIED = {
    Breakdown.WORKSTREAM: "No workstream",
    Breakdown.EARMARKING: "No earmarking category",
    Breakdown.COUNTRY: "No target country",
    Breakdown.SDG_GOAL: "No SDG target",
    Breakdown.SDG_TARGET: "No SDG target",
}
CODE_LISTS = {
    Breakdown.ORGANISATION_TYPE: "organisation_types",
    Breakdown.EARMARKING: "earmarking_categories",
    Breakdown.COUNTRY: "countries",
    Breakdown.SDG_GOAL: "sdg_goals",
    Breakdown.SDG_TARGET: "sdg_targets",
}


@strawberry.type(description="In-kind help's value in USD, always apart from cash figures.")
class InKindFigures:
    pledged_usd: Decimal = strawberry.field(
        description="Fair value of the in-kind lines of PLEDGED commitments."
    )
    committed_usd: Decimal = strawberry.field(
        description="Fair value of the in-kind lines of firm commitments (COMMITTED, "
        "IN_DELIVERY, FULFILLED)."
    )
    delivered_usd: Decimal = strawberry.field(
        description="Value of in-kind deliveries REPORTED or CONFIRMED in the period."
    )


@strawberry.type(
    description="A figure set in USD at the pinned rates, over the counted commitments: the "
    "viewer may list them, they are dated in the period, and not WITHDRAWN or CANCELLED. "
    "Unconverted amounts (no rate) and others' confidential amounts never enter it; "
    "pass-through cash is counted once, at its channel."
)
class Figures:
    commitments: int = strawberry.field(description="Counted commitments.")
    withheld_count: int = strawberry.field(
        description="Counted commitments whose figures are left out because their amounts "
        "are confidential to you (other organisations' CONFIDENTIAL ones)."
    )
    pledged_usd: Decimal = strawberry.field(
        description="Cash of PLEDGED commitments: non-binding, never counted as funded."
    )
    committed_usd: Decimal = strawberry.field(
        description="Cash of firm commitments (COMMITTED, IN_DELIVERY, FULFILLED); pledges "
        "are not in it."
    )
    delivered_usd: Decimal = strawberry.field(
        description="Cash deliveries REPORTED or CONFIRMED in the period (DISPUTED ones are "
        "not in it)."
    )
    confirmed_usd: Decimal = strawberry.field(description="The CONFIRMED part of `deliveredUsd`.")
    disputed_usd: Decimal = strawberry.field(
        description="Cash deliveries DISPUTED, kept out of `deliveredUsd`."
    )
    delivery_rate: Decimal | None = strawberry.field(
        description="deliveredUsd / committedUsd, four places; null when nothing is committed. "
        "Over 1 when more was delivered than committed."
    )
    in_kind: InKindFigures = strawberry.field(description="In-kind value, apart from cash.")
    reach: int = strawberry.field(
        description="Beneficiaries of non-disputed deliveries in the period, each counted by "
        "its share when co-reported, rounded half up to a whole person."
    )

    @classmethod
    def of(cls, figure_set: figures.Figures) -> "Figures":
        rate = figure_set.delivery_rate
        return cls(
            commitments=figure_set.commitments,
            withheld_count=figure_set.withheld,
            pledged_usd=money.amount(figure_set.pledged_usd),
            committed_usd=money.amount(figure_set.committed_usd),
            delivered_usd=money.amount(figure_set.delivered_usd),
            confirmed_usd=money.amount(figure_set.confirmed_usd),
            disputed_usd=money.amount(figure_set.disputed_usd),
            delivery_rate=None if rate is None else money.quantity(rate),
            in_kind=InKindFigures(
                pledged_usd=money.amount(figure_set.in_kind_pledged_usd),
                committed_usd=money.amount(figure_set.in_kind_committed_usd),
                delivered_usd=money.amount(figure_set.in_kind_delivered_usd),
            ),
            reach=figure_set.reach,
        )


@strawberry.type(description="One row of a breakdown: a group and its figures.")
class BreakdownRow:
    key: str | None = strawberry.field(
        description="The group: a code (organisation type, country, SDG goal or target, "
        "earmarking category, duration) or a workstream's id; null for the commitments "
        "with none (no workstream, no target country, ...)."
    )
    label: str = strawberry.field(description="The group's name, in English.")
    figures: Figures = strawberry.field(
        description="Its figures. A commitment listing several countries or SDG targets "
        "adds an even share of each figure to each (rounded down to 0.0001); the rows of "
        "those breakdowns count it in each."
    )


@strawberry.type(description="Commitments whose cash passes through another counted one.")
class PassThrough:
    count: int = strawberry.field(
        description="Counted commitments whose cash is counted at their channel, not here."
    )
    amount_usd: Decimal = strawberry.field(
        description="Their cash in USD (the part you may see), already inside the channels' "
        "figures."
    )


@strawberry.type(description="A money row left out of every USD figure: no rate was known.")
class UnconvertedAmount:
    kind: unconverted.Kind = strawberry.field(description="What kind of row.")
    commitment_id: strawberry.ID = strawberry.field(description="Its commitment's id.")
    commitment_ref: str = strawberry.field(description="Its commitment's reference.")
    commitment_title: str = strawberry.field(description="Its commitment's title.")
    organisation_name: str = strawberry.field(description="Whose commitment it is.")
    amount: Decimal = strawberry.field(description="The amount, in `currency`.")
    currency: str = strawberry.field(description="ISO 4217 code of `amount`.")
    day: dt.date = strawberry.field(
        description="The day a rate was sought for: the commitment's value date (or the day "
        "it was recorded), or the delivery's day."
    )
    delivery_status: models.DeliveryStatus | None = strawberry.field(
        description="For a delivery, its status."
    )

    @classmethod
    def of(cls, row: unconverted.Unconverted) -> "UnconvertedAmount":
        return cls(
            kind=row.kind,
            commitment_id=strawberry.ID(relay.to_global_id("Commitment", row.commitment_id)),
            commitment_ref=row.commitment_ref,
            commitment_title=row.commitment_title,
            organisation_name=row.organisation_name,
            amount=money.amount(row.amount),
            currency=row.currency,
            day=row.day,
            delivery_status=row.delivery_status,
        )


@strawberry.type(description="Unconverted money of one kind in one currency.")
class UnconvertedSum:
    kind: unconverted.Kind = strawberry.field(description="What kind of rows.")
    currency: str = strawberry.field(description="Their original currency.")
    amount: Decimal = strawberry.field(description="Their sum, in that currency.")
    rows: int = strawberry.field(description="How many rows.")


@strawberry.type(description="In-kind quantities in one unit (never added across units).")
class InKindQuantity:
    unit: str = strawberry.field(description="GB, device, seat, expert_day, ...")
    pledged: Decimal = strawberry.field(description="On the lines of PLEDGED commitments.")
    committed: Decimal = strawberry.field(description="On the lines of firm commitments.")
    delivered: Decimal = strawberry.field(
        description="In deliveries REPORTED or CONFIRMED in the period."
    )


@strawberry.type(description="In-kind help of one category.")
class InKindCategoryRow:
    category: models.InKindCategory = strawberry.field(description="The category.")
    lines: int = strawberry.field(description="In-kind lines of counted commitments.")
    commitments: int = strawberry.field(description="Counted commitments with such lines.")
    withheld_count: int = strawberry.field(
        description="Of those, the ones whose figures are confidential to you (left out)."
    )
    value: InKindFigures = strawberry.field(description="Their value in USD.")
    quantities: list[InKindQuantity] = strawberry.field(description="Quantities by unit.")

    @classmethod
    def of(cls, row: in_kind.Category) -> "InKindCategoryRow":
        return cls(
            category=row.category,
            lines=row.lines,
            commitments=row.commitments,
            withheld_count=row.withheld,
            value=InKindFigures(
                pledged_usd=money.amount(row.pledged_usd),
                committed_usd=money.amount(row.committed_usd),
                delivered_usd=money.amount(row.delivered_usd),
            ),
            quantities=[
                InKindQuantity(
                    unit=quantity.unit,
                    pledged=money.quantity(quantity.pledged),
                    committed=money.quantity(quantity.committed),
                    delivered=money.quantity(quantity.delivered),
                )
                for quantity in row.quantities
            ],
        )


@strawberry.type(description="One calendar month's figures in USD.")
class MonthFigures:
    month: str = strawberry.field(description="YYYY-MM.")
    pledged_usd: Decimal = strawberry.field(
        description="Cash of PLEDGED commitments valued in the month."
    )
    committed_usd: Decimal = strawberry.field(
        description="Cash of firm commitments valued in the month."
    )
    delivered_usd: Decimal = strawberry.field(
        description="Cash delivered (REPORTED or CONFIRMED) in the month."
    )
    in_kind_delivered_usd: Decimal = strawberry.field(
        description="Value of in-kind help delivered in the month."
    )

    @classmethod
    def of(cls, row: monthly.Month) -> "MonthFigures":
        return cls(
            month=row.month,
            pledged_usd=money.amount(row.pledged_usd),
            committed_usd=money.amount(row.committed_usd),
            delivered_usd=money.amount(row.delivered_usd),
            in_kind_delivered_usd=money.amount(row.in_kind_delivered_usd),
        )


@strawberry.type(description="An organisation in the ranking by committed USD.")
class PartnerRank:
    rank: int = strawberry.field(
        description="1 for the most committed (cash plus in-kind value); ties share a rank."
    )
    figures: Figures = strawberry.field(description="The organisation's figures.")
    organisation_id: strawberry.Private[int]

    @strawberry.field(description="The organisation.")
    async def organisation(
        self, info: FiguresInfo
    ) -> Annotated["Organisation", strawberry.lazy("backend.graphql.organisations")]:
        found = await info.context.loaders.organisation.load(self.organisation_id)
        assert found is not None
        return organisation_types.Organisation.from_model(found)


class FigureBatch:
    """A dashboard's figure sets, loaded together: one statement per batch of fields."""

    def __init__(self, scope: Scope, reading: Reading) -> None:
        self.scope = scope
        self.reading = reading
        self.loader: DataLoader[figures.Wanted, list[figures.Row]] = DataLoader(self._load)

    async def _load(self, wanted: Sequence[figures.Wanted]) -> list[list[figures.Row]]:
        async with self.reading() as session:
            found = await figures.figure_sets(session, self.scope, wanted)
        return [found[want] for want in wanted]

    async def rows(self, breakdown: Breakdown, first: int | None = None) -> list[figures.Row]:
        return await self.loader.load(figures.Wanted(breakdown, first))

    async def one(self, breakdown: Breakdown) -> figures.Figures:
        [row] = await self.rows(breakdown)
        return row.figures

    async def breakdown(self, breakdown: Breakdown) -> list[BreakdownRow]:
        rows = await self.rows(breakdown)
        return [
            BreakdownRow(
                key=_key(breakdown, row),
                label=_label(breakdown, row),
                figures=Figures.of(row.figures),
            )
            for row in rows
        ]

    async def partners(self, first: int) -> list[PartnerRank]:
        check_first(first)
        rows = await self.rows(Breakdown.PARTNER, first)
        return [
            PartnerRank(
                rank=row.rank or 0,
                figures=Figures.of(row.figures),
                organisation_id=int(row.key or 0),
            )
            for row in rows
        ]

    async def private_sector_share(self) -> Decimal | None:
        private = await self.one(Breakdown.PRIVATE_SECTOR)
        total = await self.one(Breakdown.TOTAL)
        share = figures.ratio(private.committed_usd, total.committed_usd)
        return None if share is None else money.quantity(share)


def check_first(first: int) -> None:
    if not 0 <= first <= MAX_ROWS:
        message = f"`first` must be between 0 and {MAX_ROWS}."
        error = InvalidInput([FieldIssue(field="first", code=BAD_RANGE, message=message)])
        raise errors.for_query(error)


def _key(breakdown: Breakdown, row: figures.Row) -> str | None:
    if breakdown is Breakdown.WORKSTREAM and row.key is not None:
        return relay.to_global_id("Workstream", int(row.key))
    return row.key


def _label(breakdown: Breakdown, row: figures.Row) -> str:
    if row.key is None:
        return UNSPECIFIED.get(breakdown, "Unspecified")
    if breakdown is Breakdown.WORKSTREAM:
        return row.name or row.key
    if breakdown is Breakdown.DURATION:
        return DURATION_LABELS[row.key]
    return codes.names(CODE_LISTS[breakdown]).get(row.key, row.key)
