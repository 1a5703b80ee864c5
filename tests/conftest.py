"""Database fixtures for the whole suite.

HUB_TEST_DATABASE=sqlite (the default) runs on a SQLite file in a temporary folder;
HUB_TEST_DATABASE=postgresql creates a throwaway database on the server named by
HUB_TEST_POSTGRES_URL and drops it at the end. Either way the schema is built by the
Alembic migrations, so every run exercises them. When PostgreSQL is down the tests that need
it skip, unless HUB_REQUIRE_SERVICES=1 (CI), where they fail.
"""

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa
from fastapi import FastAPI
from redis import exceptions as redis_errors
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import backend.models  # noqa: F401  (registers every table on SQLModel.metadata)
from backend import db, migrations
from backend.config import Environment, Settings
from backend.graphql.compiled import reads as compiled_reads
from backend.main import create_app
from tests.required import missing
from tests.servers import LiveServer, serve

DIALECT = os.environ.get("HUB_TEST_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get(
    "HUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)

if DIALECT not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"HUB_TEST_DATABASE must be sqlite or postgresql, not {DIALECT!r}")


def _postgres_unreachable(url: sa.URL, error: Exception) -> NoReturn:
    message = (
        f"PostgreSQL not reachable at {url.render_as_string(hide_password=True)} ({error}); "
        "set HUB_TEST_DATABASE=sqlite or start it"
    )
    missing(message)


@asynccontextmanager
async def _postgres_database() -> AsyncIterator[str]:
    server_url = sa.make_url(POSTGRES_URL)
    # An unreachable host must not hang the run for asyncpg's default minute.
    connect_args = {"timeout": 5} if server_url.get_driver_name() == "asyncpg" else {}
    server = create_async_engine(
        server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool, connect_args=connect_args
    )
    name = f"hub_test_{secrets.token_hex(6)}"
    try:
        try:
            connection = await server.connect()
        except (OSError, sa.exc.DBAPIError) as error:
            _postgres_unreachable(server_url, error)
        try:
            await connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            await connection.close()
        try:
            yield server_url.set(database=name).render_as_string(hide_password=False)
        finally:
            async with server.connect() as connection:
                await connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await server.dispose()


@asynccontextmanager
async def _empty_database(folder: Path) -> AsyncIterator[str]:
    if DIALECT == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'hub.db'}"
    else:
        async with _postgres_database() as url:
            yield url


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """The test database, its schema built by the migrations, emptied after every test."""
    async with _empty_database(tmp_path_factory.mktemp("database")) as url:
        # env.py runs its own event loop, so the migrations go to a thread of their own.
        await asyncio.to_thread(migrations.upgrade, url)
        yield url


@pytest_asyncio.fixture(loop_scope="session")
async def scratch_database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A second, empty database of the same kind, for tests that must not share the schema."""
    async with _empty_database(tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    # No read cache: tests write through factories, which no cache hears of. The suite's
    # own documents read whole worlds at once (visibility on every path in one query), so
    # the cost limit is raised here; tests/graphql/test_limits.py tests it at its default.
    # No rate limits: the suite sends hundreds of requests from 127.0.0.1
    # (test_rate_limits.py turns them on).
    return Settings(
        database_url=database_url,
        env=Environment.DEVELOPMENT,
        read_cache=False,
        max_cost=1_000_000,
        rate_limits=False,
    )


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(settings)
    yield engine
    await engine.dispose()


async def _empty_tables(engine: AsyncEngine) -> None:
    tables = SQLModel.metadata.sorted_tables
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            quote = connection.dialect.identifier_preparer.quote
            names = ", ".join(quote(table.name) for table in tables)
            await connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        # Children before parents: the engine turns SQLite's foreign key checks on.
        for table in reversed(tables):
            await connection.execute(table.delete())
        sequences = await connection.scalar(
            sa.text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")
        )
        if sequences:
            await connection.execute(sa.text("DELETE FROM sqlite_sequence"))


@pytest_asyncio.fixture(loop_scope="session", autouse=True)
async def _empty_tables_after_test(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    # Only tests that use the database (through any fixture, e.g. an app built from
    # `settings`) pay for emptying it, or need the server to be up.
    uses_database = "database_url" in request.fixturenames
    engine = request.getfixturevalue("engine") if uses_database else None
    yield
    if engine is not None:
        await _empty_tables(engine)


@pytest.fixture
def session_factory(engine: AsyncEngine) -> db.SessionFactory:
    return db.create_session_factory(engine)


@pytest_asyncio.fixture(loop_scope="session")
async def session(session_factory: db.SessionFactory) -> AsyncIterator[AsyncSession]:
    async with session_factory() as session:
        yield session


class StatementCounter:
    """How many SQL statements the engine sent; `statements` shows which when an assert fails."""

    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def reset(self) -> None:
        self.count = 0
        self.statements.clear()

    def record(self, *args: Any) -> None:
        # before_cursor_execute(connection, cursor, statement, parameters, context, executemany)
        self.count += 1
        self.statements.append(args[2])


@pytest.fixture
def statement_counter(engine: AsyncEngine) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    listener = counter.record
    sa.event.listen(engine.sync_engine, "before_cursor_execute", listener)
    yield counter
    sa.event.remove(engine.sync_engine, "before_cursor_execute", listener)


class Api:
    """Sends GraphQL documents to the real app over ASGI, as the portal would."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """The response's `data`; fails the test on any GraphQL error."""
        response = await self.post(query, variables, token=token)
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def app(settings: Settings, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    app = create_app(settings, engine=engine)
    yield app
    await compiled_reads.close(app.state.compiled_reads)


@pytest_asyncio.fixture(loop_scope="session")
async def api(app: FastAPI) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield Api(client)


@pytest_asyncio.fixture(loop_scope="session")
async def live_server(settings: Settings, engine: AsyncEngine) -> AsyncIterator[LiveServer]:
    fast = settings.model_copy(update={"relay_interval": 0.2, "ws_init_timeout": 2.0})
    async with serve(create_app(fast, engine=engine)) as server:
        yield server


REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def redis_url() -> str:
    """The test server's URL, once it has answered a PING."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        await client.ping()
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as error:
        missing(f"Redis not reachable at {REDIS_URL} ({error}); start it")
    finally:
        await client.aclose()
    return REDIS_URL


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def redis_run_prefix(redis_url: str) -> AsyncIterator[str]:
    """The key prefix of this run; every key under it is deleted at the end."""
    prefix = f"hub_test_{secrets.token_hex(6)}:"
    yield prefix
    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
def redis_prefix(redis_run_prefix: str) -> str:
    """A prefix of the test's own, inside the run's."""
    return f"{redis_run_prefix}{secrets.token_hex(4)}:"
