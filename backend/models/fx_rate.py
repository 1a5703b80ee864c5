import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.models.base import Rate


class FxRate(SQLModel, table=True):
    """How many US dollars one unit of `currency` bought on `rate_date`, and who said so."""

    __tablename__ = "fx_rates"
    __table_args__ = (sa.UniqueConstraint("currency", "rate_date"),)

    id: int | None = Field(default=None, primary_key=True)
    currency: str = Field(max_length=3)
    rate_date: dt.date
    usd_per_unit: Decimal = Field(sa_type=Rate)
    source: str = Field(max_length=100)
