"""The async engine and session factory."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from backend.config import Settings

SessionFactory = async_sessionmaker[AsyncSession]


def _tune_sqlite(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers go on while one writer commits; busy_timeout makes a second writer
    # wait for the lock instead of failing at once; SQLite checks foreign keys only when asked.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_before_first_savepoint(connection: sa.Connection, _name: str) -> None:
    """pysqlite begins a transaction only before a write, and a SAVEPOINT outside one starts
    a transaction of its own that RELEASE commits. A mutation whose first write is inside a
    savepoint (an idempotent pledge) would then keep that write if a later step failed:
    begin the transaction explicitly first, so COMMIT or ROLLBACK decides for all of it."""
    sqlite = connection.connection.driver_connection
    if sqlite is not None and not sqlite.in_transaction:
        connection.exec_driver_sql("BEGIN")


def create_engine(settings: Settings, **options: Any) -> AsyncEngine:
    url = sa.make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 10)
        options.setdefault("pool_pre_ping", True)
        if url.get_driver_name() == "asyncpg":
            # Request-serving queries, tuned for latency on a small shared server:
            # - no JIT: a dashboard over 100,000 commitments passes jit_above_cost, and
            #   compiling its plan took longer (~250 ms) than running it;
            # - no parallel workers: each worker rebuilds the plan's hash tables and
            #   competes with the other requests for the same cores; measured on the
            #   dashboard with the machine busy, a gather made it ~30% slower, not faster.
            connect_args = options.setdefault("connect_args", {})
            server_settings = connect_args.setdefault("server_settings", {})
            server_settings.setdefault("jit", "off")
            server_settings.setdefault("max_parallel_workers_per_gather", "0")
    engine = create_async_engine(url, echo=settings.echo_sql, **options)
    if url.get_backend_name() == "sqlite":
        sa.event.listen(engine.sync_engine, "connect", _tune_sqlite)
        sa.event.listen(engine.sync_engine, "savepoint", _begin_before_first_savepoint)
    return engine


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    # Objects stay readable after COMMIT: the resolver builds its result after the transaction.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
