import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.models.base import JSONDocument, UTCDateTime, enum_type, utcnow
from backend.models.commitment import Visibility


class ActivityKind(StrEnum):
    EVENT = "EVENT"
    DEBATE = "DEBATE"
    LAUNCH = "LAUNCH"
    TRAINING = "TRAINING"
    REPORT = "REPORT"
    NEWS = "NEWS"


class Activity(SQLModel, table=True):
    """Something that happened in a coalition: an event, debate, launch, training, report."""

    __tablename__ = "activities"
    __table_args__ = (
        sa.Index("ix_activities_coalition_occurred", "coalition_id", "occurred_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    coalition_id: int = Field(foreign_key="coalitions.id")
    workstream_id: int | None = Field(default=None, foreign_key="workstreams.id")
    # The organisation that published it; `organisation_ids` lists everyone involved.
    organisation_id: int | None = Field(default=None, foreign_key="organisations.id", index=True)
    organisation_ids: list[int] = Field(default_factory=list, sa_type=JSONDocument)
    kind: ActivityKind = Field(sa_type=enum_type(ActivityKind))
    title: str = Field(max_length=200)
    summary: str | None = Field(default=None, sa_type=sa.Text)
    occurred_at: dt.datetime = Field(sa_type=UTCDateTime)
    countries: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    links: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    visibility: Visibility = Field(default=Visibility.PUBLIC, sa_type=enum_type(Visibility))
    embargo_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When it went public: at publication, or when its embargo ended.
    announced_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_by: str = Field(max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
