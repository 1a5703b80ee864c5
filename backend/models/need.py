"""Needs: what a country asks the coalition for (a ministry or the secretariat posts it)."""

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.models.base import JSONDocument, Money, UTCDateTime, enum_type, utcnow
from backend.models.commitment import InKindCategory


class NeedStatus(StrEnum):
    """OPEN -> PARTIALLY_MATCHED -> MATCHED -> FULFILLED, derived from accepted matches and
    their deliveries; CANCELLED is the one status set by hand, and it is final."""

    OPEN = "OPEN"
    PARTIALLY_MATCHED = "PARTIALLY_MATCHED"
    MATCHED = "MATCHED"
    FULFILLED = "FULFILLED"
    CANCELLED = "CANCELLED"


class NeedPriority(StrEnum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class TargetGroup(StrEnum):
    LEARNERS = "LEARNERS"
    TEACHERS = "TEACHERS"
    GIRLS = "GIRLS"
    LEARNERS_WITH_DISABILITIES = "LEARNERS_WITH_DISABILITIES"


class Need(SQLModel, table=True):
    __tablename__ = "needs"
    __table_args__ = (sa.Index("ix_needs_coalition_status", "coalition_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=40, unique=True)
    coalition_id: int = Field(foreign_key="coalitions.id")
    # The ministry that asks; None when the secretariat posts the need itself.
    organisation_id: int | None = Field(default=None, foreign_key="organisations.id", index=True)
    country: str = Field(max_length=2)
    category: InKindCategory = Field(sa_type=enum_type(InKindCategory))
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_type=sa.Text)
    quantity: Decimal = Field(sa_type=Money)
    unit: str = Field(max_length=40)
    # ISO 639-1 codes, lower case, in the order given.
    languages: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    target_groups: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    offline_required: bool = False
    low_bandwidth: bool = False
    device_type: str | None = Field(default=None, max_length=100)
    priority: NeedPriority = Field(default=NeedPriority.MEDIUM, sa_type=enum_type(NeedPriority))
    needed_by: dt.date | None = None
    status: NeedStatus = Field(default=NeedStatus.OPEN, sa_type=enum_type(NeedStatus))
    posted_by: str = Field(max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
