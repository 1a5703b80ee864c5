"""SQL building blocks that read the same on SQLite and PostgreSQL.

Each construct names its parts in `_traverse_internals`: that is what SQLAlchemy's statement
cache keys on (without it a statement holding one is compiled anew on every execution).
"""

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from backend.models.base import MONEY_SCALE


class UtcDate(sa.sql.expression.ColumnElement[Any]):
    """The UTC calendar day of a UTCDateTime column."""

    inherit_cache = True
    _traverse_internals = [("instant", InternalTraversal.dp_clauseelement)]
    type = sa.Date()

    def __init__(self, instant: Any) -> None:
        self.instant = instant


@compiles(UtcDate, "postgresql")
def _utc_date_postgresql(element: UtcDate, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.instant, **kw)} AT TIME ZONE 'UTC') AS DATE)"


@compiles(UtcDate)
def _utc_date_sqlite(element: UtcDate, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTCDateTime as naive UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff'.
    return f"date({compiler.process(element.instant, **kw)})"


class JsonElements(sa.sql.functions.FunctionElement[Any]):
    """The text elements of a JSON list column, as a table-valued function: use
    `JsonElements(column).table_valued("value")` and join it on true (json_each on SQLite,
    jsonb_array_elements_text on PostgreSQL; both name the element column `value`)."""

    inherit_cache = True
    name = "json_elements"
    type = sa.String()


@compiles(JsonElements, "postgresql")
def _json_elements_postgresql(element: JsonElements, compiler: SQLCompiler, **kw: Any) -> str:
    return f"jsonb_array_elements_text({compiler.process(element.clauses, **kw)})"


@compiles(JsonElements)
def _json_elements_sqlite(element: JsonElements, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_each({compiler.process(element.clauses, **kw)})"


class JsonLength(sa.sql.expression.ColumnElement[int]):
    """How many entries a JSON list column holds."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]
    type = sa.Integer()

    def __init__(self, column: Any) -> None:
        self.column = column


@compiles(JsonLength, "postgresql")
def _json_length_postgresql(element: JsonLength, compiler: SQLCompiler, **kw: Any) -> str:
    return f"jsonb_array_length({compiler.process(element.column, **kw)})"


@compiles(JsonLength)
def _json_length_sqlite(element: JsonLength, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_array_length({compiler.process(element.column, **kw)})"


class EvenShare(sa.sql.expression.ColumnElement[int]):
    """One of `parts` even shares of an integer figure (`Units`, beneficiary units), rounded
    down: integer division on both databases (figures are never negative). In Money terms
    that is floor(amount x 10^4 / parts) / 10^4."""

    inherit_cache = True
    _traverse_internals = [
        ("units", InternalTraversal.dp_clauseelement),
        ("parts", InternalTraversal.dp_clauseelement),
    ]
    type = sa.BigInteger()

    def __init__(self, units: Any, parts: Any) -> None:
        self.units = units
        self.parts = parts


@compiles(EvenShare)
def _even_share(element: EvenShare, compiler: SQLCompiler, **kw: Any) -> str:
    units = compiler.process(element.units, **kw)
    return f"(({units}) / ({compiler.process(element.parts, **kw)}))"


class DaysBetween(sa.sql.expression.ColumnElement[Any]):
    """`end` minus `start` in days (two DATE columns); null when either is."""

    inherit_cache = True
    _traverse_internals = [
        ("start", InternalTraversal.dp_clauseelement),
        ("end", InternalTraversal.dp_clauseelement),
    ]
    type = sa.Integer()

    def __init__(self, start: Any, end: Any) -> None:
        self.start = start
        self.end = end


@compiles(DaysBetween, "postgresql")
def _days_between_postgresql(element: DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.end, **kw)} - {compiler.process(element.start, **kw)})"


@compiles(DaysBetween)
def _days_between_sqlite(element: DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    end = compiler.process(element.end, **kw)
    start = compiler.process(element.start, **kw)
    return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"


class BeforeDot(sa.sql.expression.ColumnElement[str]):
    """The part of a code before its first dot: an SDG target's goal ("4.1" -> "4")."""

    inherit_cache = True
    _traverse_internals = [("code", InternalTraversal.dp_clauseelement)]
    type = sa.String()

    def __init__(self, code: Any) -> None:
        self.code = code


@compiles(BeforeDot, "postgresql")
def _before_dot_postgresql(element: BeforeDot, compiler: SQLCompiler, **kw: Any) -> str:
    return f"split_part({compiler.process(element.code, **kw)}, '.', 1)"


@compiles(BeforeDot)
def _before_dot_sqlite(element: BeforeDot, compiler: SQLCompiler, **kw: Any) -> str:
    code = compiler.process(element.code, **kw)
    dot = f"instr({code}, '.')"
    return f"(CASE WHEN {dot} > 0 THEN substr({code}, 1, {dot} - 1) ELSE {code} END)"


class CodeOrder(sa.sql.expression.ColumnElement[str]):
    """Text in code-point order on both databases (SQLite compares bytes; a PostgreSQL
    database may sort by its locale), so ties break the same way everywhere."""

    inherit_cache = True
    _traverse_internals = [("text", InternalTraversal.dp_clauseelement)]
    type = sa.String()

    def __init__(self, text: Any) -> None:
        self.text = text


@compiles(CodeOrder, "postgresql")
def _code_order_postgresql(element: CodeOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return f'({compiler.process(element.text, **kw)} COLLATE "C")'


@compiles(CodeOrder)
def _code_order_sqlite(element: CodeOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.text, **kw)


class Units(sa.sql.expression.ColumnElement[int]):
    """A Money figure as an integer count of 10^-4 units — what SQLite stores already, and on
    PostgreSQL a BIGINT, so sums and even shares are integer arithmetic on both databases
    (and faster than NUMERIC). Read the result back with `from_units`."""

    inherit_cache = True
    _traverse_internals = [("money", InternalTraversal.dp_clauseelement)]
    type = sa.BigInteger()

    def __init__(self, money: Any) -> None:
        self.money = money


@compiles(Units, "postgresql")
def _units_postgresql(element: Units, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.money, **kw)}) * {10**MONEY_SCALE} AS BIGINT)"


@compiles(Units)
def _units_sqlite(element: Units, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.money, **kw)


def from_units(units: Any) -> Decimal:
    """A sum of `Units` (an int, or a NUMERIC from PostgreSQL's SUM) as Money: four places."""
    return Decimal(int(units or 0)).scaleb(-MONEY_SCALE)


class MonthIndex(sa.sql.expression.ColumnElement[int]):
    """A day's calendar month as one integer, year x 12 + month - 1, so months can be
    counted through with + 1 on both databases. On PostgreSQL date_part (a float), not
    EXTRACT, which since version 14 computes in NUMERIC, several times slower per row."""

    inherit_cache = True
    _traverse_internals = [("day", InternalTraversal.dp_clauseelement)]
    type = sa.Integer()

    def __init__(self, day: Any) -> None:
        self.day = day


@compiles(MonthIndex, "postgresql")
def _month_index_postgresql(element: MonthIndex, compiler: SQLCompiler, **kw: Any) -> str:
    day = compiler.process(element.day, **kw)
    return (
        f"(CAST(date_part('year', {day}) AS INTEGER) * 12"
        f" + CAST(date_part('month', {day}) AS INTEGER) - 1)"
    )


@compiles(MonthIndex)
def _month_index_sqlite(element: MonthIndex, compiler: SQLCompiler, **kw: Any) -> str:
    day = compiler.process(element.day, **kw)
    return (
        f"(CAST(strftime('%Y', {day}) AS INTEGER) * 12"
        f" + CAST(strftime('%m', {day}) AS INTEGER) - 1)"
    )
