"""In-kind help by category: lines, values in USD, and quantities per unit (never summed
across units), from one statement.

Quantities and values count only commitments whose figures the reader may add up (a
withheld commitment is counted, nothing more); deliveries count when REPORTED or CONFIRMED
in the period. Pass-through links move cash only, so in-kind lines always count here.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.reports import facts
from backend.reports.scope import Scope
from backend.reports.sql import Units, from_units

COUNTS = ("lines", "commitments", "withheld")
FIGURES = (
    "pledged_quantity",
    "committed_quantity",
    "delivered_quantity",
    "pledged_usd",
    "committed_usd",
    "delivered_usd",
)


@dataclass(frozen=True)
class Quantities:
    unit: str
    pledged: Decimal
    committed: Decimal
    delivered: Decimal


@dataclass(frozen=True)
class Category:
    category: models.InKindCategory
    lines: int
    commitments: int
    withheld: int
    pledged_usd: Decimal
    committed_usd: Decimal
    delivered_usd: Decimal
    # By unit, in unit order.
    quantities: list[Quantities]


def _per_line(scope: Scope) -> Any:
    """Each in-kind line of a counted commitment with what it adds (in units; null where
    the reader may not add it up), and its deliveries in the period."""
    rows = facts.counted(scope)
    line = facts.in_kind_lines()
    delivery = facts.deliveries()
    delivered = (
        sa.select(
            delivery.c.in_kind_line_id,
            sa.func.sum(Units(delivery.c.quantity)).label("quantity"),
            sa.func.sum(Units(delivery.c.in_kind_value_usd)).label("value"),
        )
        .where(
            delivery.c.in_kind_line_id.is_not(None),
            delivery.c.status != models.DeliveryStatus.DISPUTED,
            facts.delivered_in_period(scope, delivery),
            facts.of_coalitions(scope, delivery.c.commitment_id),
        )
        .group_by(delivery.c.in_kind_line_id)
        .subquery("delivered")
    )
    shown = rows.c.shown
    pledged = sa.and_(shown, rows.c.stage == models.Stage.PLEDGED)
    firm = sa.and_(shown, facts.firm(rows.c.stage))
    return (
        sa.select(
            line.c.category,
            line.c.unit,
            rows.c.id.label("commitment_id"),
            sa.case((sa.not_(shown), rows.c.id)).label("withheld_id"),
            Units(sa.case((pledged, line.c.quantity))).label("pledged_quantity"),
            Units(sa.case((firm, line.c.quantity))).label("committed_quantity"),
            sa.case((shown, delivered.c.quantity)).label("delivered_quantity"),
            Units(sa.case((pledged, line.c.fair_value_usd))).label("pledged_usd"),
            Units(sa.case((firm, line.c.fair_value_usd))).label("committed_usd"),
            sa.case((shown, delivered.c.value)).label("delivered_usd"),
        )
        .select_from(
            line.join(rows, rows.c.id == line.c.commitment_id).outerjoin(
                delivered, delivered.c.in_kind_line_id == line.c.id
            )
        )
        .cte("per_line")
    )


def _branches(scope: Scope) -> list[sa.Select[Any]]:
    """By (category, unit), and by category (unit NULL)."""
    lines = _per_line(scope)
    branches = []
    for by_unit in (True, False):
        unit = lines.c.unit if by_unit else sa.cast(sa.null(), sa.String())
        keys = [lines.c.category, lines.c.unit] if by_unit else [lines.c.category]
        branches.append(
            sa.select(
                lines.c.category.label("category"),
                unit.label("unit"),
                sa.func.count().label("lines"),
                sa.func.count(sa.distinct(lines.c.commitment_id)).label("commitments"),
                sa.func.count(sa.distinct(lines.c.withheld_id)).label("withheld"),
                *(sa.func.sum(lines.c[name]).label(name) for name in FIGURES),
            ).group_by(*keys)
        )
    return branches


async def by_category(session: AsyncSession, scope: Scope) -> list[Category]:
    statement = sa.union_all(*_branches(scope))
    categories: dict[str, dict[str, Any]] = {}
    quantities: dict[str, list[Quantities]] = {}
    for row in await session.execute(statement):
        if row.unit is None:
            categories[row.category] = row._asdict()
            continue
        if row.commitments == row.withheld:
            # Only withheld lines in this unit: nothing of them may show, not even the unit.
            continue
        quantities.setdefault(row.category, []).append(
            Quantities(
                unit=row.unit,
                pledged=from_units(row.pledged_quantity),
                committed=from_units(row.committed_quantity),
                delivered=from_units(row.delivered_quantity),
            )
        )
    return [
        Category(
            category=models.InKindCategory(category),
            lines=int(row["lines"]),
            commitments=int(row["commitments"]),
            withheld=int(row["withheld"]),
            pledged_usd=from_units(row["pledged_usd"]),
            committed_usd=from_units(row["committed_usd"]),
            delivered_usd=from_units(row["delivered_usd"]),
            quantities=sorted(quantities.get(category, []), key=lambda q: q.unit),
        )
        for category, row in sorted(categories.items())
    ]
