"""Running a compiled read's statement: one value from one statement, in one round trip.

On PostgreSQL the statement goes to asyncpg directly. SQLAlchemy compiles it once into
asyncpg's SQL (`$1`, `$2`, …), and a request only puts its values in order. Going through
SQLAlchemy's engine instead costs more than PostgreSQL's own work on the portal's smaller
reads: a connection checkout, an execution context, the parameters processed again and a
result object for one value. The pool is the compiled reads' own: in autocommit (one
statement is one snapshot: no BEGIN or ROLLBACK), without the per-checkout ping. A dead
connection fails that one read, which the resolvers then answer through the main pool.

On SQLite (embedded: no round trip to save) the statement goes through the application's
engine, with the hub's formatting functions registered on each connection.
"""

import asyncio
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.compiler import ExpandedState, SQLCompiler

from backend.graphql.compiled import json_sql

QueryLogger = Callable[[Any], None]


class Statements(Protocol):
    async def value(self, select: sa.Select[Any], values: dict[str, Any]) -> Any:
        """The one value the statement selects, with `values` bound."""

    async def close(self) -> None: ...


def for_engine(engine: AsyncEngine, *, pool_size: int) -> Statements:
    if engine.dialect.name == "postgresql":
        return AsyncpgStatements(engine.url, engine.dialect, pool_size=pool_size)
    return EngineStatements(engine)


class EngineStatements:
    """Through the application's engine (SQLite)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def value(self, select: sa.Select[Any], values: dict[str, Any]) -> Any:
        async with self.engine.connect() as connection:
            if self.engine.dialect.name == "sqlite":
                await _register_functions(connection)
            return (await connection.execute(select, values)).scalar_one()

    async def close(self) -> None:
        """The engine is the application's: it closes it."""


@dataclass(frozen=True)
class DriverStatement:
    """A statement compiled once for asyncpg: its SQL, the order of its parameters, and
    the values of the parameters that carry their own (literals SQLAlchemy bound)."""

    compiled: SQLCompiler
    # None when a request binds a list (`stage IN (…)` of a filter): its length sets the
    # SQL, which is then written per request.
    fixed: ExpandedState | None

    @classmethod
    def of(cls, select: sa.Select[Any], dialect: Dialect) -> "DriverStatement":
        compiled = select.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        if any(parameter.required for parameter in compiled.post_compile_params):
            return cls(compiled, None)
        # Lists the statement carries (`status NOT IN (…)` of a rule) are written into the
        # SQL once, here.
        return cls(
            compiled, compiled.construct_expanded_state(compiled.construct_params(_check=False))
        )

    def arguments(self, values: dict[str, Any]) -> tuple[str, list[Any]]:
        """The SQL to send and its positional arguments, processed as SQLAlchemy would."""
        if self.fixed is None:
            state = self.compiled.construct_expanded_state(self.compiled.construct_params(values))
            given: Mapping[str, Any] = state.parameters
        else:
            state = self.fixed
            given = {**state.parameters, **values}
        processors = state.processors
        return state.statement, [
            processors[name](given[name]) if name in processors else given[name]
            for name in state.positiontup or ()
        ]


class AsyncpgStatements:
    """Straight to asyncpg (PostgreSQL), on a pool of its own, made on first use."""

    def __init__(self, url: sa.URL, dialect: Dialect, *, pool_size: int) -> None:
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.dialect = dialect
        self.pool_size = pool_size
        # Called with every query a pool connection sends (asyncpg's query loggers):
        # register before the first read.
        self.query_loggers: list[QueryLogger] = []
        self._compiled: weakref.WeakKeyDictionary[sa.Select[Any], DriverStatement] = (
            weakref.WeakKeyDictionary()
        )
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def value(self, select: sa.Select[Any], values: dict[str, Any]) -> Any:
        statement = self._compiled.get(select)
        if statement is None:
            statement = self._compiled[select] = DriverStatement.of(select, self.dialect)
        sql, arguments = statement.arguments(values)
        pool = self._pool or await self._open()
        return await pool.fetchval(sql, *arguments)

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=1,
                    max_size=self.pool_size,
                    init=self._init,
                    reset=_nothing_to_reset,
                )
        return self._pool

    async def _init(self, connection: asyncpg.Connection) -> None:
        for logger in self.query_loggers:
            connection.add_query_logger(logger)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


async def _nothing_to_reset(_: asyncpg.Connection) -> None:
    """These connections only ever run one read at a time, without transactions, session
    settings, listeners or locks: nothing to undo on release (asyncpg's default reset is
    a round trip per read)."""


async def _register_functions(connection: AsyncConnection) -> None:
    # `info` lives as long as the database connection: register once per connection.
    raw = await connection.get_raw_connection()
    if raw.info.get("hub_functions"):
        return
    dbapi = raw.dbapi_connection

    def register(_: Any) -> None:
        for name, (arity, function) in json_sql.FUNCTIONS.items():
            dbapi.create_function(name, arity, function, deterministic=True)  # type: ignore[union-attr]

    await connection.run_sync(register)
    raw.info["hub_functions"] = True
