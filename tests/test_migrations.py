import asyncio

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from backend import migrations


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts=migrations.context_options(connection.dialect.name)
    )
    return list(compare_metadata(context, SQLModel.metadata))


async def _schema(database_url: str) -> tuple[set[str], list[object]]:
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    return tables, differences


def test_revisions_form_one_line_of_history() -> None:
    scripts = ScriptDirectory.from_config(migrations.alembic_config("sqlite://"))

    heads = scripts.get_heads()

    assert len(heads) == 1, f"merge the heads {heads} into one revision"


async def test_the_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)

    assert differences == []


async def test_downgrade_to_base_then_upgrade_to_head(scratch_database_url: str) -> None:
    config = migrations.alembic_config(scratch_database_url)
    await asyncio.to_thread(command.upgrade, config, "head")

    await asyncio.to_thread(command.downgrade, config, "base")
    tables_after_downgrade, _ = await _schema(scratch_database_url)
    await asyncio.to_thread(command.upgrade, config, "head")
    tables_after_upgrade, differences = await _schema(scratch_database_url)

    assert tables_after_downgrade == {"alembic_version"}
    assert tables_after_upgrade == {*SQLModel.metadata.tables, "alembic_version"}
    assert differences == []
