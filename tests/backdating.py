"""Test setup for delivery tracking: days counted back from today, and commitments,
workstreams and memberships moved into the past.

The services stamp `created_at` and `last_progress_at` with the present; tracking judges
how long ago they were, so tests set them directly (setup, not behaviour).
"""

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models

TODAY = dt.date.today()
UNSET: Any = object()


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def instant(days: int) -> dt.datetime:
    """Noon UTC, `days` ago."""
    return dt.datetime.combine(ago(days), dt.time(12), dt.UTC)


async def backdate(
    session: AsyncSession, row: Any, *, recorded: int | None = None, progress: Any = UNSET
) -> None:
    """Move a commitment (or workstream, membership) `recorded` days into the past and set
    a commitment's last progress `progress` days ago (None: never)."""
    values: dict[str, Any] = {}
    if recorded is not None:
        values["created_at"] = instant(recorded)
    if progress is not UNSET:
        values["last_progress_at"] = None if progress is None else instant(progress)
    table = models.table_of(type(row))
    await session.execute(sa.update(table).where(table.c.id == row.id).values(**values))
    await session.commit()
