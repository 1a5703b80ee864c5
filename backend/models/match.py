"""Matches: one need answered (in part) by one offer; accepted by both sides, it becomes an
in-kind commitment of the offering member."""

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlmodel import Field, SQLModel

from backend.models.base import JSONDocument, Money, UTCDateTime, enum_type, utcnow


class MatchStatus(StrEnum):
    """PROPOSED -> ACCEPTED | DECLINED | WITHDRAWN; all three ends are final."""

    PROPOSED = "PROPOSED"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    WITHDRAWN = "WITHDRAWN"


class Match(SQLModel, table=True):
    __tablename__ = "matches"

    id: int | None = Field(default=None, primary_key=True)
    coalition_id: int = Field(foreign_key="coalitions.id", index=True)
    need_id: int = Field(foreign_key="needs.id", index=True)
    offer_id: int = Field(foreign_key="offers.id", index=True)
    quantity: Decimal = Field(sa_type=Money)
    # The ranking's score and reasons when the match was proposed.
    score: int
    reasons: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    status: MatchStatus = Field(default=MatchStatus.PROPOSED, sa_type=enum_type(MatchStatus))
    proposed_by: str = Field(max_length=200)
    # The proposing organisation; None when the secretariat proposed.
    proposed_by_organisation_id: int | None = Field(default=None, foreign_key="organisations.id")
    need_accepted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    need_accepted_by: str | None = Field(default=None, max_length=200)
    offer_accepted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    offer_accepted_by: str | None = Field(default=None, max_length=200)
    closing_reason: str | None = Field(default=None, max_length=2000)
    # The in-kind commitment created when both sides accepted.
    commitment_id: int | None = Field(default=None, foreign_key="commitments.id", unique=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
