"""SQL building blocks that read the same on SQLite and PostgreSQL."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler


class UtcDate(sa.sql.expression.ColumnElement[Any]):
    """The UTC calendar day of a UTCDateTime column."""

    inherit_cache = True
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
