import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.models.base import JSONDocument, UTCDateTime, utcnow


class AuditRecord(SQLModel, table=True):
    """Who changed what and when, with the entity before and after; one per mutation."""

    __tablename__ = "audit_records"
    __table_args__ = (sa.Index("ix_audit_records_entity", "entity_type", "entity_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_name: str = Field(max_length=200)
    actor_role: str = Field(max_length=40)
    actor_organisation_id: int | None = Field(default=None, foreign_key="organisations.id")
    actor_token_id: int | None = Field(default=None, foreign_key="api_tokens.id")
    action: str = Field(max_length=60)
    entity_type: str = Field(max_length=40)
    entity_id: int
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONDocument)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONDocument)
