"""The private-sector pipeline: engagement opportunities with prospective partners, each
with the due-diligence record the secretariat keeps before anything is agreed. Secretariat
data only: never shown to partners, never sent to the feed."""

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.models.base import JSONDocument, Money, UTCDateTime, enum_type, utcnow


class OpportunityStage(StrEnum):
    """IDENTIFIED -> ... -> AGREED in order; DECLINED or ON_HOLD from any open stage."""

    IDENTIFIED = "IDENTIFIED"
    RESEARCH = "RESEARCH"
    DUE_DILIGENCE = "DUE_DILIGENCE"
    CULTIVATION = "CULTIVATION"
    PROPOSAL = "PROPOSAL"
    NEGOTIATION = "NEGOTIATION"
    AGREED = "AGREED"
    DECLINED = "DECLINED"
    ON_HOLD = "ON_HOLD"


class DonorKind(StrEnum):
    CORPORATE = "CORPORATE"
    INDIVIDUAL = "INDIVIDUAL"
    CORPORATE_FOUNDATION = "CORPORATE_FOUNDATION"


class Motivation(StrEnum):
    """Why the prospect would engage; corporate and individual donors differ."""

    BRAND_CSR = "BRAND_CSR"
    MARKET_ENTRY = "MARKET_ENTRY"
    EMPLOYEE_ENGAGEMENT = "EMPLOYEE_ENGAGEMENT"
    PHILANTHROPY = "PHILANTHROPY"
    TALENT = "TALENT"
    POLICY_INFLUENCE = "POLICY_INFLUENCE"


class DueDiligenceDecision(StrEnum):
    PENDING = "PENDING"
    CLEARED = "CLEARED"
    CLEARED_WITH_CONDITIONS = "CLEARED_WITH_CONDITIONS"
    REJECTED = "REJECTED"


class RiskRating(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class EngagementOpportunity(SQLModel, table=True):
    """One prospect's way into a coalition; converts to a membership and/or a commitment."""

    __tablename__ = "engagement_opportunities"

    id: int | None = Field(default=None, primary_key=True)
    coalition_id: int = Field(foreign_key="coalitions.id", index=True)
    prospect_organisation_id: int = Field(foreign_key="organisations.id", index=True)
    title: str = Field(max_length=200)
    stage: OpportunityStage = Field(
        default=OpportunityStage.IDENTIFIED, sa_type=enum_type(OpportunityStage)
    )
    donor_kind: DonorKind = Field(sa_type=enum_type(DonorKind))
    # Motivation values, in the order given.
    motivations: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    estimated_value: Decimal | None = Field(default=None, sa_type=Money)
    currency: str | None = Field(default=None, max_length=3)
    # Percent, 0 to 100.
    probability: int | None = None
    next_step: str | None = Field(default=None, sa_type=sa.Text)
    next_step_on: dt.date | None = None
    # The due-diligence record: one per opportunity, replaced when it is reviewed again.
    due_diligence_decision: DueDiligenceDecision = Field(
        default=DueDiligenceDecision.PENDING, sa_type=enum_type(DueDiligenceDecision)
    )
    risk_rating: RiskRating | None = Field(default=None, sa_type=enum_type(RiskRating))
    due_diligence_conditions: str | None = Field(default=None, sa_type=sa.Text)
    due_diligence_valid_until: dt.date | None = None
    due_diligence_decided_by: str | None = Field(default=None, max_length=200)
    due_diligence_decided_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    converted_membership_id: int | None = Field(default=None, foreign_key="memberships.id")
    converted_commitment_id: int | None = Field(default=None, foreign_key="commitments.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
