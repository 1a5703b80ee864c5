import datetime as dt
from enum import StrEnum

from sqlmodel import Field, SQLModel

from backend.models.base import UTCDateTime, enum_type, utcnow


class Role(StrEnum):
    SECRETARIAT_ADMIN = "SECRETARIAT_ADMIN"
    SECRETARIAT_ANALYST = "SECRETARIAT_ANALYST"
    PARTNER_ADMIN = "PARTNER_ADMIN"
    PARTNER_EDITOR = "PARTNER_EDITOR"
    PARTNER_VIEWER = "PARTNER_VIEWER"

    @property
    def is_secretariat(self) -> bool:
        return self in (Role.SECRETARIAT_ADMIN, Role.SECRETARIAT_ANALYST)


class ApiToken(SQLModel, table=True):
    """A bearer token for one user; only its SHA-256 hash and a visible prefix are kept."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16, unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    # The person or system holding the token; shown in audit records and deliveries.
    name: str = Field(max_length=200)
    # Empty for the secretariat's tokens.
    organisation_id: int | None = Field(default=None, foreign_key="organisations.id", index=True)
    role: Role = Field(sa_type=enum_type(Role))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
