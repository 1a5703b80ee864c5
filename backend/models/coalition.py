import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.models.base import JSONDocument, Money, UTCDateTime, enum_type, utcnow

# The secretariat asks for a visibility plan from a voluntary contribution of this much
# (USD) unless the coalition sets its own threshold.
VISIBILITY_PLAN_THRESHOLD_USD = Decimal("100000")


class CoalitionKind(StrEnum):
    COALITION = "COALITION"
    MOVEMENT = "MOVEMENT"
    FUND = "FUND"


class CoalitionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"


class WorkstreamKind(StrEnum):
    FLAGSHIP = "FLAGSHIP"
    MISSION = "MISSION"
    EMERGENCY_CALL = "EMERGENCY_CALL"
    ACTION_NETWORK = "ACTION_NETWORK"


class WorkstreamStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"


class MembershipStatus(StrEnum):
    APPLIED = "APPLIED"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    WITHDRAWN = "WITHDRAWN"
    REJECTED = "REJECTED"


class MembershipRole(StrEnum):
    MEMBER = "MEMBER"
    WORKSTREAM_LEAD = "WORKSTREAM_LEAD"
    CHAMPION = "CHAMPION"
    OBSERVER = "OBSERVER"


class Coalition(SQLModel, table=True):
    __tablename__ = "coalitions"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    name: str = Field(max_length=200)
    kind: CoalitionKind = Field(sa_type=enum_type(CoalitionKind))
    host_organisation_id: int | None = Field(default=None, foreign_key="organisations.id")
    launched_on: dt.date | None = None
    status: CoalitionStatus = Field(
        default=CoalitionStatus.ACTIVE, sa_type=enum_type(CoalitionStatus)
    )
    description: str | None = Field(default=None, sa_type=sa.Text)
    # UNSDG goal codes ("4", "17"), kept in the order the secretariat gave them.
    sdg_goals: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    # What members must attest before the secretariat lists their offers (models.Attestation).
    offer_attestations_required: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    # Open commitments worth this much or more (USD, cash plus in-kind value) need a
    # visibility plan; null: VISIBILITY_PLAN_THRESHOLD_USD.
    visibility_plan_threshold_usd: Decimal | None = Field(default=None, sa_type=Money)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Workstream(SQLModel, table=True):
    """A flagship, mission, emergency call or action network inside a coalition."""

    __tablename__ = "workstreams"
    __table_args__ = (sa.UniqueConstraint("coalition_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    coalition_id: int = Field(foreign_key="coalitions.id", index=True)
    name: str = Field(max_length=200)
    kind: WorkstreamKind = Field(sa_type=enum_type(WorkstreamKind))
    description: str | None = Field(default=None, sa_type=sa.Text)
    target_metric: str | None = Field(default=None, max_length=200)
    target_value: Decimal | None = Field(default=None, sa_type=Money)
    target_date: dt.date | None = None
    status: WorkstreamStatus = Field(
        default=WorkstreamStatus.ACTIVE, sa_type=enum_type(WorkstreamStatus)
    )
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("coalition_id", "organisation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    coalition_id: int = Field(foreign_key="coalitions.id", index=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    status: MembershipStatus = Field(sa_type=enum_type(MembershipStatus))
    role: MembershipRole = Field(default=MembershipRole.MEMBER, sa_type=enum_type(MembershipRole))
    joined_on: dt.date | None = None
    left_on: dt.date | None = None
    # Names of the principles the member accepted, e.g. "learner-data-privacy".
    principles_accepted: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    # Workstream ids the member takes part in (all inside the same coalition).
    workstream_ids: list[int] = Field(default_factory=list, sa_type=JSONDocument)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
