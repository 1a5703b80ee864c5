"""Visibility plans: how a voluntary contribution (a commitment) or a workstream is
acknowledged in public, and the communication actions planned for it."""

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.models.base import UTCDateTime, enum_type, utcnow


class CommunicationKind(StrEnum):
    PRESS_RELEASE = "PRESS_RELEASE"
    SOCIAL_POST = "SOCIAL_POST"
    EVENT_MENTION = "EVENT_MENTION"
    REPORT_MENTION = "REPORT_MENTION"


class ActionStatus(StrEnum):
    """PLANNED -> PUBLISHED | CANCELLED; both ends are final."""

    PLANNED = "PLANNED"
    PUBLISHED = "PUBLISHED"
    CANCELLED = "CANCELLED"


class VisibilityPlan(SQLModel, table=True):
    """The plan of exactly one commitment or one workstream (at most one plan each)."""

    __tablename__ = "visibility_plans"
    __table_args__ = (
        sa.CheckConstraint(
            "(commitment_id IS NULL) <> (workstream_id IS NULL)",
            name="ck_visibility_plans_one_subject",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    coalition_id: int = Field(foreign_key="coalitions.id", index=True)
    commitment_id: int | None = Field(default=None, foreign_key="commitments.id", unique=True)
    workstream_id: int | None = Field(default=None, foreign_key="workstreams.id", unique=True)
    acknowledgement: str = Field(sa_type=sa.Text)
    logo_rules: str | None = Field(default=None, sa_type=sa.Text)
    donor_approval_required: bool = False
    donor_approved_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    donor_approved_by: str | None = Field(default=None, max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CommunicationAction(SQLModel, table=True):
    """One planned press release, social post, event or report mention of a plan."""

    __tablename__ = "communication_actions"
    __table_args__ = (sa.Index("ix_communication_actions_status_planned", "status", "planned_on"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="visibility_plans.id", index=True)
    kind: CommunicationKind = Field(sa_type=enum_type(CommunicationKind))
    title: str = Field(max_length=200)
    planned_on: dt.date
    status: ActionStatus = Field(default=ActionStatus.PLANNED, sa_type=enum_type(ActionStatus))
    published_on: dt.date | None = None
    link: str | None = Field(default=None, max_length=2000)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
