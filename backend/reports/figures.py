"""Figure sets — totals and breakdowns — summed in one SQL statement.

Whatever breakdowns a dashboard asks for are computed together, so a dashboard costs one
statement for all of its figure sets however many commitments, deliveries or breakdowns
there are. The money facts (one row per counted commitment, facts.py) are built once, then
summed in as few passes over them as the breakdowns allow:

- a cube, grouped by workstream, organisation type, earmarking and duration, from which the
  totals and those four breakdowns are regrouped (every figure is a plain sum);
- one pass per list breakdown (target countries, SDG targets, SDG goals) over the facts
  expanded into their entries, each commitment's figures split evenly over its entries
  (`EvenShare`, per commitment, as the rule says); a commitment with an empty list goes to
  the row keyed None ("unspecified"); SDG goals carry their targets' shares;
- one pass by organisation for the top partners, ranked with RANK() and cut with
  ROW_NUMBER().
"""

from collections.abc import Collection
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.reports import facts
from backend.reports.scope import Scope
from backend.reports.sql import (
    BeforeDot,
    CodeOrder,
    EvenShare,
    JsonElements,
    JsonLength,
    from_units,
)

# Counted in commitments, not money: summed as they are.
COUNTS = ("commitments", "withheld", "passing")
# In units (facts.Units) in the order every branch selects them; reach in 10^-4 people.
FIGURES = (
    "passing_usd",
    "pledged",
    "committed",
    "delivered",
    "confirmed",
    "disputed",
    "in_kind_pledged",
    "in_kind_committed",
    "in_kind_delivered",
    "reach_units",
)
PRIVATE_SECTOR_PREFIX = "7"


class Breakdown(StrEnum):
    TOTAL = "total"
    # Organisations whose IATI type starts with 7 (private sector, 70-73).
    PRIVATE_SECTOR = "private_sector"
    WORKSTREAM = "workstream"
    ORGANISATION_TYPE = "organisation_type"
    EARMARKING = "earmarking"
    DURATION = "duration"
    COUNTRY = "country"
    SDG_GOAL = "sdg_goal"
    SDG_TARGET = "sdg_target"
    # Organisations ranked by committed USD (cash and in-kind value), `first` of them.
    PARTNER = "partner"


# Regrouped from the cube: key column (None: one row for all).
CUBE_KEYS = {
    Breakdown.TOTAL: None,
    Breakdown.PRIVATE_SECTOR: None,
    Breakdown.WORKSTREAM: "workstream_id",
    Breakdown.ORGANISATION_TYPE: "organisation_type",
    Breakdown.EARMARKING: "earmarking",
    Breakdown.DURATION: "duration",
}
# Split over a list column; SDG goals are the part of each target before the dot.
LISTS = {
    Breakdown.COUNTRY: ("countries", None),
    Breakdown.SDG_TARGET: ("sdg_targets", None),
    Breakdown.SDG_GOAL: ("sdg_targets", BeforeDot),
}


@dataclass(frozen=True)
class Wanted:
    breakdown: Breakdown
    # Top partners only: how many.
    first: int | None = None


@dataclass(frozen=True)
class Figures:
    """A figure set: sums in USD over what the reader may add up."""

    commitments: int
    # Counted commitments whose amounts were left out (others' confidential ones).
    withheld: int
    pass_through_count: int
    pass_through_usd: Decimal
    pledged_usd: Decimal
    committed_usd: Decimal
    delivered_usd: Decimal
    confirmed_usd: Decimal
    disputed_usd: Decimal
    in_kind_pledged_usd: Decimal
    in_kind_committed_usd: Decimal
    in_kind_delivered_usd: Decimal
    # Beneficiaries x share basis points (split rows: sums of rounded-down shares).
    reach_units: int

    @property
    def reach(self) -> int:
        """People reached, rounded half up to a whole person."""
        people = (Decimal(self.reach_units) / 10000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return int(people)

    @property
    def delivery_rate(self) -> Decimal | None:
        return ratio(self.delivered_usd, self.committed_usd)


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole to four places (half up); None when whole is 0."""
    if whole == 0:
        return None
    return (part / whole).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Row:
    # The group: a code, an id as text, or None (no workstream, unspecified, ...).
    key: str | None
    # A name from the database (workstream, organisation) where the key needs one.
    name: str | None
    # Top partners: RANK() by committed USD (ties share a rank).
    rank: int | None
    figures: Figures


async def figure_sets(
    session: AsyncSession, scope: Scope, wanted: Collection[Wanted]
) -> dict[Wanted, list[Row]]:
    """The rows of every wanted breakdown, from one statement."""
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return {}
    # One part number per breakdown: which rows of the UNION ALL are whose.
    lists = any(want.breakdown in LISTS for want in wanted)
    passes = _Passes(facts.money_facts(scope, lists=lists))
    branches: list[Any] = [passes.branch(part, want) for part, want in enumerate(wanted)]
    statement: Any = sa.union_all(*branches) if len(branches) > 1 else branches[0]
    found: dict[Wanted, list[Row]] = {want: [] for want in wanted}
    for record in await session.execute(statement):
        found[wanted[record.part]].append(_row(record))
    return {want: _ordered(want, rows) for want, rows in found.items()}


def _row(record: Any) -> Row:
    figures = Figures(
        commitments=int(record.commitments or 0),
        withheld=int(record.withheld or 0),
        pass_through_count=int(record.passing or 0),
        pass_through_usd=from_units(record.passing_usd),
        pledged_usd=from_units(record.pledged),
        committed_usd=from_units(record.committed),
        delivered_usd=from_units(record.delivered),
        confirmed_usd=from_units(record.confirmed),
        disputed_usd=from_units(record.disputed),
        in_kind_pledged_usd=from_units(record.in_kind_pledged),
        in_kind_committed_usd=from_units(record.in_kind_committed),
        in_kind_delivered_usd=from_units(record.in_kind_delivered),
        reach_units=int(record.reach_units or 0),
    )
    rank = None if record.rank is None else int(record.rank)
    return Row(key=record.key, name=record.name, rank=rank, figures=figures)


def _ordered(want: Wanted, rows: list[Row]) -> list[Row]:
    if want.breakdown is Breakdown.PARTNER:
        # The ranking's own order (ROW_NUMBER): rank, then name in code-point order as
        # CodeOrder sorts in SQL, then id.
        return sorted(rows, key=lambda row: (row.rank, row.name or "", int(row.key or 0)))
    if want.breakdown is Breakdown.WORKSTREAM:
        return sorted(rows, key=lambda row: (row.key is None, row.name or "", row.key or ""))
    return sorted(rows, key=lambda row: (row.key is None, _code_order(row.key)))


def _code_order(key: str | None) -> tuple[tuple[int, int, str], ...]:
    # "4.10" after "4.9", "17" after "4": numbers compare as numbers.
    parts = (key or "").split(".")
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in parts)


def _row_select(
    part: int,
    key: Any,
    sums: dict[str, Any],
    *,
    name: Any = None,
    rank: Any = None,
) -> sa.Select[Any]:
    """A branch's SELECT list, the same shape in every branch of the UNION ALL."""

    def typed(value: Any, type_: Any) -> Any:
        # Typed NULLs: PostgreSQL resolves a UNION's column types from its first branches.
        return sa.cast(sa.null() if value is None else value, type_)

    return sa.select(
        sa.literal(part, sa.Integer()).label("part"),
        typed(key, sa.String()).label("key"),
        typed(name, sa.String()).label("name"),
        typed(rank, sa.BigInteger()).label("rank"),
        *(sums[column].label(column) for column in (*COUNTS, *FIGURES)),
    )


def _summed(source: Any, *, counted: bool = False) -> dict[str, Any]:
    """SUM() of every count and figure column of `source`; with `counted`, commitments are
    its rows (the facts), not a column of sums."""
    columns = [column for column in (*COUNTS, *FIGURES) if not counted or column != "commitments"]
    sums: dict[str, Any] = {column: sa.func.sum(source.c[column]) for column in columns}
    if counted:
        sums["commitments"] = sa.func.count()
    return sums


class _Passes:
    """The passes over the facts a statement needs, each built once (as a CTE) however many
    branches read it."""

    def __init__(self, base: Any) -> None:
        self.base = base
        self._cube: Any = None

    def branch(self, part: int, want: Wanted) -> Any:
        kind = want.breakdown
        if kind in CUBE_KEYS:
            return self._from_cube(part, kind)
        if kind in LISTS:
            column, derive = LISTS[kind]
            return self._split(part, column, derive)
        return self._partners(part, want.first or 10)

    # -- the cube -------------------------------------------------------------------------

    def cube(self) -> Any:
        if self._cube is None:
            base = self.base
            keys = [base.c[column] for column in CUBE_KEYS.values() if column is not None]
            sums = _summed(base, counted=True)
            self._cube = (
                sa.select(*keys, *(sums[column].label(column) for column in (*COUNTS, *FIGURES)))
                .group_by(*keys)
                .cte("cube")
            )
        return self._cube

    def _from_cube(self, part: int, kind: Breakdown) -> Any:
        cube = self.cube()
        column = CUBE_KEYS[kind]
        if column is None:
            statement = _row_select(part, None, _summed(cube)).select_from(cube)
            if kind is Breakdown.PRIVATE_SECTOR:
                statement = statement.where(
                    cube.c.organisation_type.startswith(PRIVATE_SECTOR_PREFIX)
                )
            return statement
        key = cube.c[column]
        grouped = _row_select(part, key, _summed(cube)).select_from(cube).group_by(key)
        if kind is not Breakdown.WORKSTREAM:
            return grouped
        rows = grouped.subquery("by_workstream")
        workstream = models.table_of(models.Workstream)
        columns = [workstream.c.name.label("name") if c.key == "name" else c for c in rows.c]
        return sa.select(*columns).select_from(
            rows.outerjoin(workstream, sa.cast(workstream.c.id, sa.String()) == rows.c.key)
        )

    # -- lists ----------------------------------------------------------------------------

    def _split(self, part: int, column: str, derive: Any) -> Any:
        """Each commitment's figures in even shares over its entries (`{column}_parts`,
        rounded down per commitment); a list naming an entry twice (or a goal's targets)
        gives it two shares but counts the commitment once. Empty lists: keyed null."""
        base = self.base
        parts = base.c[f"{column}_parts"]
        element = JsonElements(base.c[column]).table_valued("value").alias(f"entry_{part}")
        key = derive(element.c.value) if derive is not None else element.c.value
        sums = {
            "commitments": sa.func.count(sa.distinct(base.c.id)),
            "withheld": sa.func.count(sa.distinct(sa.case((base.c.withheld == 1, base.c.id)))),
            "passing": sa.func.count(sa.distinct(sa.case((base.c.passing == 1, base.c.id)))),
            **{figure: sa.func.sum(EvenShare(base.c[figure], parts)) for figure in FIGURES},
        }
        listed = (
            _row_select(part, key, sums).select_from(base.join(element, sa.true())).group_by(key)
        )
        empty = JsonLength(base.c[column]) == 0
        unspecified = (
            _row_select(part, None, _summed(base, counted=True))
            .select_from(base)
            .where(empty)
            # One row when there are such commitments, none otherwise (an aggregate without
            # GROUP BY always gives a row).
            .group_by(empty)
        )
        return sa.union_all(listed, unspecified).subquery(f"split_{part}").select()

    # -- top partners ---------------------------------------------------------------------

    def _partners(self, part: int, first: int) -> Any:
        """Organisations by committed USD, cash plus in-kind value, ties by name: those with
        figures the reader may add up (an organisation whose every amount is withheld is not
        ranked, or its presence would move others)."""
        base = self.base
        sums = _summed(base, counted=True)
        grouped = (
            sa.select(
                base.c.organisation_id,
                *(sums[column].label(column) for column in (*COUNTS, *FIGURES)),
            )
            .group_by(base.c.organisation_id)
            .having(sa.func.sum(base.c.withheld) < sa.func.count())
            .subquery("by_organisation")
        )
        organisation = facts.organisations()
        committed = sa.func.coalesce(grouped.c.committed, 0) + sa.func.coalesce(
            grouped.c.in_kind_committed, 0
        )
        ranked = (
            _row_select(
                part,
                grouped.c.organisation_id,
                {column: grouped.c[column] for column in (*COUNTS, *FIGURES)},
                name=organisation.c.name,
                rank=sa.func.rank().over(order_by=committed.desc()),
            )
            .add_columns(
                sa.func.row_number()
                .over(
                    order_by=(
                        committed.desc(),
                        CodeOrder(organisation.c.name),
                        grouped.c.organisation_id,
                    )
                )
                .label("position")
            )
            .select_from(grouped.join(organisation, organisation.c.id == grouped.c.organisation_id))
            .subquery("ranked")
        )
        columns = [column for column in ranked.c if column.key != "position"]
        return sa.select(*columns).where(ranked.c.position <= first)
