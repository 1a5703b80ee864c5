"""Runs the revisions in versions/ on the URL given to `backend.migrations.alembic_config`."""

import asyncio

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import backend.models  # noqa: F401  (registers every table on SQLModel.metadata)
from backend import migrations

# Every app replica runs `coalition-hub migrate` when it starts; on PostgreSQL the first one
# to take this lock migrates and the others wait, then find the schema already at head.
MIGRATION_LOCK_KEY = 0x4C1B_4D16

config = context.config
target_metadata = SQLModel.metadata
if "database_url" not in config.attributes:
    raise RuntimeError("run migrations through backend.migrations.alembic_config(database_url)")
database_url: str = config.attributes["database_url"]


def run_migrations_offline() -> None:
    url = sa.make_url(database_url)
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **migrations.context_options(url.get_backend_name()),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        **migrations.context_options(connection.dialect.name),
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
