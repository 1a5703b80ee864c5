"""SQL building blocks that read the same on SQLite and PostgreSQL.

Each names its parts in `_traverse_internals`, so statements using it get a cache key and
SQLAlchemy compiles them once (without one, every execution compiles anew).
"""

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from backend.models.base import MONEY_SCALE


class UtcDate(sa.sql.expression.ColumnElement[Any]):
    """The UTC calendar day of a UTCDateTime column."""

    inherit_cache = True
    type = sa.Date()
    _traverse_internals = [("instant", InternalTraversal.dp_clauseelement)]

    def __init__(self, instant: Any) -> None:
        self.instant = instant


@compiles(UtcDate, "postgresql")
def _utc_date_postgresql(element: UtcDate, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.instant, **kw)} AT TIME ZONE 'UTC') AS DATE)"


@compiles(UtcDate)
def _utc_date_sqlite(element: UtcDate, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTCDateTime as naive UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff'.
    return f"date({compiler.process(element.instant, **kw)})"


class DaysBetween(sa.sql.expression.ColumnElement[Any]):
    """Whole days from `earlier` to `later` (two dates), negative when `later` is earlier."""

    inherit_cache = True
    type = sa.Integer()
    _traverse_internals = [
        ("later", InternalTraversal.dp_clauseelement),
        ("earlier", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, later: Any, earlier: Any) -> None:
        self.later = _date(later)
        self.earlier = _date(earlier)


@compiles(DaysBetween, "postgresql")
def _days_between_postgresql(element: DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later = compiler.process(element.later, **kw)
    earlier = compiler.process(element.earlier, **kw)
    return f"(CAST({later} AS DATE) - CAST({earlier} AS DATE))"


@compiles(DaysBetween)
def _days_between_sqlite(element: DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    # julianday() of two calendar days differs by a whole number, exact in a double.
    later = compiler.process(element.later, **kw)
    earlier = compiler.process(element.earlier, **kw)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


class Latest(sa.sql.expression.ColumnElement[Any]):
    """The latest of some days, ignoring nulls; the first must never be null."""

    inherit_cache = True
    type = sa.Date()
    _traverse_internals = [("days", InternalTraversal.dp_clauseelement_list)]

    def __init__(self, first: Any, *others: Any) -> None:
        self.days = [_date(day) for day in (first, *others)]


@compiles(Latest, "postgresql")
def _latest_postgresql(element: Latest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"GREATEST({', '.join(compiler.process(day, **kw) for day in element.days)})"


@compiles(Latest)
def _latest_sqlite(element: Latest, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite's max(a, b) is NULL when either is; PostgreSQL's GREATEST skips nulls. Standing
    # in the first (never null) for a null one gives GREATEST's answer.
    first, *others = (compiler.process(day, **kw) for day in element.days)
    if not others:
        return first  # max() of one argument would be SQLite's aggregate
    return f"max({', '.join([first, *(f'coalesce({day}, {first})' for day in others)])})"


class InMoneyUnits(sa.sql.expression.ColumnElement[Any]):
    """A whole number as a Money column holds it on this database, so the two compare
    exactly: itself on PostgreSQL (NUMERIC), times 10^4 on SQLite (a count of 10^-4)."""

    inherit_cache = True
    type = sa.BigInteger()
    _traverse_internals = [("whole", InternalTraversal.dp_clauseelement)]

    def __init__(self, whole: Any) -> None:
        self.whole = whole


@compiles(InMoneyUnits, "postgresql")
def _in_money_units_postgresql(element: InMoneyUnits, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.whole, **kw)})"


@compiles(InMoneyUnits)
def _in_money_units_sqlite(element: InMoneyUnits, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(({compiler.process(element.whole, **kw)}) * {10**MONEY_SCALE})"


class Ratio(sa.sql.expression.ColumnElement[Any]):
    """`part / whole` of two figures of the same kind, to sort by (null when whole is 0);
    the exact ratio shown is worked out from the figures themselves."""

    inherit_cache = True
    type = sa.Float()
    _traverse_internals = [
        ("part", InternalTraversal.dp_clauseelement),
        ("whole", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, part: Any, whole: Any) -> None:
        self.part = part
        self.whole = whole


@compiles(Ratio, "postgresql")
def _ratio_postgresql(element: Ratio, compiler: SQLCompiler, **kw: Any) -> str:
    part = compiler.process(element.part, **kw)
    whole = compiler.process(element.whole, **kw)
    return f"(CAST({part} AS NUMERIC) / NULLIF({whole}, 0))"


@compiles(Ratio)
def _ratio_sqlite(element: Ratio, compiler: SQLCompiler, **kw: Any) -> str:
    # Money and quantities are integers of the same scale here: their ratio is the figures'.
    part = compiler.process(element.part, **kw)
    whole = compiler.process(element.whole, **kw)
    return f"(CAST({part} AS REAL) / NULLIF({whole}, 0))"


def _date(day: Any) -> Any:
    """A column or expression as it is; a Python date as a bound DATE parameter."""
    if isinstance(day, dt.date):
        return sa.literal(day, sa.Date())
    return day
