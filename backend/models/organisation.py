import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.models.base import UTCDateTime, enum_type, utcnow


class HubCategory(StrEnum):
    """Kinds of partner that IATI's OrganisationType list has no code for."""

    MEDIA = "MEDIA"
    NETWORK = "NETWORK"


class Organisation(SQLModel, table=True):
    __tablename__ = "organisations"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    acronym: str | None = Field(default=None, max_length=30)
    # IATI organisation identifier, e.g. "XM-DAC-41304" (UNESCO).
    iati_identifier: str | None = Field(default=None, max_length=100, unique=True)
    # IATI OrganisationType code: "10" Government ... "70" Private Sector ... "90" Other.
    organisation_type: str = Field(max_length=3, index=True)
    hub_category: HubCategory | None = Field(default=None, sa_type=enum_type(HubCategory))
    country: str = Field(max_length=2)
    website: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, sa_type=sa.Text)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
