"""Offers: a member's catalogue entry of free resources the secretariat can match to needs."""

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.models.base import JSONDocument, Money, UTCDateTime, enum_type, utcnow
from backend.models.commitment import InKindCategory


class OfferStatus(StrEnum):
    """DRAFT -> UNDER_REVIEW -> LISTED -> PAUSED | WITHDRAWN (see services/offers.py)."""

    DRAFT = "DRAFT"
    UNDER_REVIEW = "UNDER_REVIEW"
    LISTED = "LISTED"
    PAUSED = "PAUSED"
    WITHDRAWN = "WITHDRAWN"


class Attestation(StrEnum):
    """What a member declares about an offer that reaches learners."""

    LEARNER_DATA_PROTECTION = "LEARNER_DATA_PROTECTION"
    NO_COMMERCIAL_USE_OF_LEARNER_DATA = "NO_COMMERCIAL_USE_OF_LEARNER_DATA"


class Offer(SQLModel, table=True):
    __tablename__ = "offers"
    __table_args__ = (
        sa.Index("ix_offers_coalition_status", "coalition_id", "status"),
        # Accepted matches can never reserve more than the offer has (see services/matches.py).
        sa.CheckConstraint("reserved <= capacity", name="reserved_within_capacity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=40, unique=True)
    coalition_id: int = Field(foreign_key="coalitions.id")
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    category: InKindCategory = Field(sa_type=enum_type(InKindCategory))
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_type=sa.Text)
    # ISO 3166-1 alpha-2 codes; `worldwide` offers serve every country.
    countries: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    worldwide: bool = False
    languages: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    capacity: Decimal = Field(sa_type=Money)
    # What accepted matches have taken from the capacity.
    reserved: Decimal = Field(default=Decimal(0), sa_type=Money)
    unit: str = Field(max_length=40)
    free_of_charge: bool = True
    free_until: dt.date | None = None
    offline_capable: bool = False
    low_bandwidth_friendly: bool = False
    accessibility_notes: str | None = Field(default=None, sa_type=sa.Text)
    attestations: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    status: OfferStatus = Field(default=OfferStatus.DRAFT, sa_type=enum_type(OfferStatus))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
