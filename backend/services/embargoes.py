"""Embargoes end by themselves: what was kept back is announced once its time has come."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.services import activities, commitments

BATCH = 500


def _due(model: Any) -> sa.Select[Any]:
    # Rows are locked (and skipped when another process holds them), so two processes
    # never announce the same item twice.
    return (
        sa.select(model)
        .where(model.announced_at.is_(None), model.embargo_until <= models.utcnow())
        .order_by(model.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )


async def announce_due(session: AsyncSession) -> int:
    """Announce every commitment and activity whose embargo has ended; how many it did."""
    announced = 0
    for commitment in await session.scalars(_due(models.Commitment)):
        await commitments.announce(session, commitment)
        announced += 1
    for activity in await session.scalars(_due(models.Activity)):
        await activities.announce(session, activity)
        announced += 1
    return announced


def next_end_query(after: Any) -> sa.Select[Any]:
    """The first embargo end after `after` (a value or a bound parameter)."""
    ends = sa.union_all(
        *(
            sa.select(col(model.embargo_until).label("end")).where(col(model.embargo_until) > after)
            for model in (models.Commitment, models.Activity)
        )
    ).subquery()
    return sa.select(sa.func.min(ends.c.end))
