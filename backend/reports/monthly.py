"""The dashboard's time series: USD figures per calendar month, gaps filled with zeros.

Commitments are dated by `valued_on`, deliveries by `delivered_on`. The months listed run
from the first to the last month where a figure entered the series (a month holding only
others' withheld amounts is no month with data), or from and to the period's bounds when it
has them; every month between is listed, zeros included. All of it is one statement: the
months are counted through with a recursive CTE.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.reports import facts
from backend.reports.scope import Scope
from backend.reports.sql import MonthIndex, Units, from_units

SERIES = ("pledged", "committed", "delivered", "in_kind_delivered")


@dataclass(frozen=True)
class Month:
    month: str
    pledged_usd: Decimal
    committed_usd: Decimal
    delivered_usd: Decimal
    in_kind_delivered_usd: Decimal


def label(index: int) -> str:
    """YYYY-MM of a `MonthIndex`."""
    year, month = divmod(index, 12)
    return f"{year:04d}-{month + 1:02d}"


def index_of(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _entries(scope: Scope) -> Any:
    """(month, pledged, committed, delivered, in-kind delivered) in units: a row for each
    figure that enters the series."""
    rows = facts.counted(scope)
    cash = facts.cash_counts(rows)
    zero = sa.literal(0, sa.BigInteger())
    money = rows.c.amount_usd
    pledges = sa.select(
        MonthIndex(rows.c.valued_on).label("month"),
        Units(sa.case((rows.c.stage == models.Stage.PLEDGED, money), else_=0)).label("pledged"),
        Units(sa.case((facts.firm(rows.c.stage), money), else_=0)).label("committed"),
        zero.label("delivered"),
        zero.label("in_kind_delivered"),
    ).where(cash, money.is_not(None))
    delivery = facts.deliveries()
    cash_delivered = sa.and_(cash, delivery.c.amount_usd.is_not(None))
    goods_delivered = sa.and_(rows.c.shown, delivery.c.in_kind_value_usd.is_not(None))
    handed_over = (
        sa.select(
            MonthIndex(delivery.c.delivered_on).label("month"),
            zero,
            zero,
            Units(sa.case((cash_delivered, delivery.c.amount_usd), else_=0)),
            Units(sa.case((goods_delivered, delivery.c.in_kind_value_usd), else_=0)),
        )
        .select_from(delivery.join(rows, rows.c.id == delivery.c.commitment_id))
        .where(
            delivery.c.status != models.DeliveryStatus.DISPUTED,
            facts.delivered_in_period(scope, delivery),
            sa.or_(cash_delivered, goods_delivered),
        )
    )
    return sa.union_all(pledges, handed_over).cte("entries")


async def monthly(session: AsyncSession, scope: Scope) -> list[Month]:
    entries = _entries(scope)
    first = index_of(scope.period_from) if scope.period_from else None
    last = index_of(scope.period_to) if scope.period_to else None
    lowest = sa.func.coalesce(sa.literal(first, sa.Integer()), sa.func.min(entries.c.month))
    highest = sa.func.coalesce(sa.literal(last, sa.Integer()), sa.func.max(entries.c.month))
    bounds = sa.select(
        sa.func.coalesce(lowest, highest).label("low"),
        sa.func.coalesce(highest, lowest).label("high"),
    ).cte("bounds")
    months = (
        sa.select(bounds.c.low.label("month"), bounds.c.high.label("high"))
        .where(bounds.c.low.is_not(None))
        .cte("months", recursive=True)
    )
    months = months.union_all(
        sa.select((months.c.month + 1).label("month"), months.c.high).where(
            months.c.month < months.c.high
        )
    )
    statement = (
        sa.select(
            months.c.month,
            *(sa.func.coalesce(sa.func.sum(entries.c[name]), 0).label(name) for name in SERIES),
        )
        .select_from(months.outerjoin(entries, entries.c.month == months.c.month))
        .group_by(months.c.month)
        .order_by(months.c.month)
    )
    return [
        Month(
            month=label(int(row.month)),
            pledged_usd=from_units(row.pledged),
            committed_usd=from_units(row.committed),
            delivered_usd=from_units(row.delivered),
            in_kind_delivered_usd=from_units(row.in_kind_delivered),
        )
        for row in await session.execute(statement)
    ]
