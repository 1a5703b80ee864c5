"""How many commitments are at each stage."""

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.reports.scope import Scope, commitments, in_scope


async def counts_by_stage(session: AsyncSession, scope: Scope) -> dict[models.Stage, int]:
    """Every stage with its count (0 when none), withdrawn and cancelled included: a count
    is history, not a total."""
    commitment = commitments()
    statement = (
        sa.select(commitment.c.stage, sa.func.count())
        .where(in_scope(scope, commitment, closed=True))
        .group_by(commitment.c.stage)
    )
    found = {models.Stage(stage): count for stage, count in await session.execute(statement)}
    return {stage: found.get(stage, 0) for stage in models.Stage}
