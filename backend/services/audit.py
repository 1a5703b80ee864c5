"""The audit trail: one record per change, written in the mutation's transaction."""

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from backend import models
from backend.actors import Actor
from backend.services import access


def snapshot(entity: SQLModel) -> dict[str, Any]:
    """The entity's columns as JSON-safe values, for `before` and `after`."""
    return {name: _json_safe(value) for name, value in entity.model_dump().items()}


def _json_safe(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


async def record(
    session: AsyncSession,
    actor: Actor,
    *,
    action: str,
    entity: SQLModel,
    before: dict[str, Any] | None,
) -> models.AuditRecord:
    await session.flush()
    entry = models.AuditRecord(
        actor_name=actor.name,
        actor_role=actor.role.value if actor.role else "ANONYMOUS",
        actor_organisation_id=actor.organisation_id,
        actor_token_id=actor.token_id,
        action=action,
        entity_type=type(entity).__name__,
        entity_id=entity.id,  # type: ignore[attr-defined]
        before=before,
        after=snapshot(entity),
    )
    session.add(entry)
    return entry


async def trail(
    session: AsyncSession, actor: Actor, *, entity_type: str, entity_id: int
) -> list[models.AuditRecord]:
    access.require_secretariat(actor)
    record = models.AuditRecord
    statement = (
        sa.select(record)
        .where(col(record.entity_type) == entity_type, col(record.entity_id) == entity_id)
        .order_by(col(record.id))
    )
    return list((await session.scalars(statement)).all())
