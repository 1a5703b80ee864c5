"""Expected GraphQL results and database checks that many tests share."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from backend import models

NOT_FOUND = {"__typename": "NotFound", "code": "NOT_FOUND"}
DENIED = {"__typename": "PermissionDenied", "code": "PERMISSION_DENIED"}


def invalid(*fields: tuple[str, str]) -> dict[str, Any]:
    """A ValidationFailed result naming each refused (field, code)."""
    issues = [{"field": field, "code": code} for field, code in fields]
    return {"__typename": "ValidationFailed", "code": "INVALID_INPUT", "fields": issues}


async def table_sizes(session: AsyncSession) -> dict[str, int]:
    """Rows in every table, to show that a refused mutation wrote nothing at all."""
    tables = SQLModel.metadata.sorted_tables
    sizes = [
        sa.select(sa.func.count()).select_from(table).scalar_subquery().label(table.name)
        for table in tables
    ]
    row = (await session.execute(sa.select(*sizes))).one()
    # End the read transaction: SQLite would keep showing this snapshot to the next count.
    await session.commit()
    return dict(row._mapping)


async def recorded_events(session: AsyncSession, type: str | None = None) -> list[tuple[Any, ...]]:
    """The outbox's feed events (of `type`, if given), in the order they were recorded:
    (type, subject_type, subject_id, coalition_id, organisation_id, visibility, payload)."""
    event = models.FeedEvent
    statement = sa.select(
        event.type,
        event.subject_type,
        event.subject_id,
        event.coalition_id,
        event.organisation_id,
        event.visibility,
        event.payload,
    ).order_by(col(event.id))
    if type is not None:
        statement = statement.where(col(event.type) == type)
    return [tuple(row) for row in await session.execute(statement)]
