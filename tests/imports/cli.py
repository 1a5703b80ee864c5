"""Runs `coalition-hub import ...` and `fx import` on files written by the tests."""

import asyncio
import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from click.testing import Result
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from backend.cli import app
from backend.config import Settings


async def invoke(settings: Settings, *args: str | Path) -> Result:
    # The command runs its own event loop (asyncio.run), so it goes to a thread of its own.
    env = {"HUB_DATABASE_URL": settings.database_url}
    command = [str(arg) for arg in args]
    return await asyncio.to_thread(CliRunner().invoke, app, command, env=env)


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] = ()) -> Path:
    """Rows as CSV under a header of `columns`, else of every key the rows use, in order."""
    header = list(columns) or list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=header)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return path


async def count(session: AsyncSession, model: Any, *where: Any) -> int:
    statement = sa.select(sa.func.count()).select_from(model)
    for condition in where:
        statement = statement.where(condition)
    found = await session.scalar(statement)
    return int(found or 0)


def stderr_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith(("line ", "error:"))]
