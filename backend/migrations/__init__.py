"""Alembic, driven from code: the database URL comes from Settings, never from an .ini file.

`upgrade()` runs the async migrations with `asyncio.run()`, so call it from synchronous code
only; from inside a running event loop use `await asyncio.to_thread(migrations.upgrade, url)`.

A new revision, after changing backend/models (then read it and fix what autogenerate got
wrong before committing it):

    .venv/bin/python -c 'from backend import migrations; migrations.revision("what changed")'
"""

import tempfile
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config

from backend.models import base

HERE = Path(__file__).parent


def alembic_config(database_url: str) -> Config:
    # The URL travels in `attributes`, not in an option: options go through ConfigParser
    # interpolation, which would choke on the `%` of a percent-encoded password.
    config = Config(attributes={"database_url": database_url})
    config.set_main_option("script_location", str(HERE))
    # Date first, so `ls versions/` reads as the history of the schema.
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    config.set_main_option("path_separator", "os")
    # Generated revisions come out sorted and formatted, so reading them is reading the diff.
    hooks = {
        "hooks": "ruff_imports, ruff_format",
        "ruff_imports.type": "module",
        "ruff_imports.module": "ruff",
        "ruff_imports.options": "check -q --fix --select I,F401 REVISION_SCRIPT_FILENAME",
        "ruff_format.type": "module",
        "ruff_format.module": "ruff",
        "ruff_format.options": "format -q REVISION_SCRIPT_FILENAME",
    }
    for name, value in hooks.items():
        config.set_section_option("post_write_hooks", name, value)
    return config


def upgrade(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def revision(message: str) -> None:
    """Autogenerate a revision against a scratch SQLite database brought to head."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'scratch.db'}"
        upgrade(url)
        command.revision(alembic_config(url), message=message, autogenerate=True)


def render_item(kind: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render the project's column types by name, so a revision reads like the model.

    script.py.mako imports `backend.models.base` for these.
    """
    if kind != "type":
        return False
    if isinstance(item, base.Money | base.Rate | base.UTCDateTime):
        return f"backend.models.base.{type(item).__name__}()"
    if item is base.JSONDocument:
        # Alembic's own rendering of the JSONB variant names `Text()` without importing it.
        return "backend.models.base.JSONDocument"
    if isinstance(item, sa.Enum) and not item.native_enum and not item.create_constraint:
        # `enum_type` columns are plain VARCHARs to the database; which values are valid is
        # the model's business, so a revision must not pin the members of the day.
        return f"sa.String(length={item.length})"
    return False


def context_options(dialect_name: str) -> dict[str, Any]:
    """The options env.py and the schema-drift test both configure Alembic with."""
    return {
        # SQLite alters a table by copying it; batch mode writes revisions that do that.
        "render_as_batch": dialect_name == "sqlite",
        # Plain `compare_type=True` judges the TypeDecorators in base.py rightly: Alembic
        # compiles each model type for the connected dialect before comparing, so Money is
        # BIGINT on SQLite and NUMERIC(20, 4) on PostgreSQL, the same DDL the revision ran,
        # and a column of any other type is still reported. No custom comparator needed.
        "compare_type": True,
        "render_item": render_item,
    }
