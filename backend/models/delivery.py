import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.models.base import Money, Rate, UTCDateTime, enum_type, utcnow
from backend.models.commitment import UNCONVERTED


class DeliveryStatus(StrEnum):
    REPORTED = "REPORTED"
    CONFIRMED = "CONFIRMED"
    DISPUTED = "DISPUTED"


class Delivery(SQLModel, table=True):
    """Money paid or in-kind help handed over against a commitment."""

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("commitment_id", "idempotency_key"),
        # The dashboard's sums per commitment and per month read this index alone on
        # PostgreSQL (an index-only scan, in commitment order), never the table.
        sa.Index(
            "ix_deliveries_figures",
            "commitment_id",
            "delivered_on",
            postgresql_include=[
                "status",
                "amount_usd",
                "in_kind_value_usd",
                "beneficiaries",
                "beneficiary_share_bp",
            ],
        ),
        # In-kind deliveries by line (also the foreign key's index).
        sa.Index(
            "ix_deliveries_in_kind",
            "in_kind_line_id",
            postgresql_include=[
                "commitment_id",
                "delivered_on",
                "status",
                "quantity",
                "in_kind_value_usd",
            ],
            postgresql_where=sa.text("in_kind_line_id IS NOT NULL"),
            sqlite_where=sa.text("in_kind_line_id IS NOT NULL"),
        ),
        # Cash without a USD value (unconverted): few rows, found without a scan.
        sa.Index(
            "ix_deliveries_unconverted",
            "commitment_id",
            postgresql_where=sa.text(UNCONVERTED),
            sqlite_where=sa.text(UNCONVERTED),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(foreign_key="commitments.id")
    # Set for an in-kind delivery: which line of the commitment it draws down.
    in_kind_line_id: int | None = Field(default=None, foreign_key="in_kind_lines.id")
    delivered_on: dt.date
    amount: Decimal | None = Field(default=None, sa_type=Money)
    currency: str | None = Field(default=None, max_length=3)
    amount_usd: Decimal | None = Field(default=None, sa_type=Money)
    usd_rate: Decimal | None = Field(default=None, sa_type=Rate)
    usd_rate_date: dt.date | None = None
    usd_rate_source: str | None = Field(default=None, max_length=100)
    quantity: Decimal | None = Field(default=None, sa_type=Money)
    # An in-kind delivery's share of its line's fair value in USD (quantity / line quantity
    # x the line's pinned fair_value_usd, four places), fixed when it is recorded.
    in_kind_value_usd: Decimal | None = Field(default=None, sa_type=Money)
    unit: str | None = Field(default=None, max_length=40)
    country: str | None = Field(default=None, max_length=2)
    receiving_organisation_id: int | None = Field(default=None, foreign_key="organisations.id")
    beneficiaries: int | None = None
    # Co-reported reach: the share of `beneficiaries` credited to this delivery when several
    # partners report the same learners, in basis points (10000, or null: all of them).
    beneficiary_share_bp: int | None = None
    evidence_url: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=2000)
    status: DeliveryStatus = Field(
        default=DeliveryStatus.REPORTED, sa_type=enum_type(DeliveryStatus)
    )
    reported_by_organisation_id: int | None = Field(default=None, foreign_key="organisations.id")
    reported_by_token_id: int | None = Field(default=None, foreign_key="api_tokens.id")
    reported_by: str = Field(max_length=200)
    reviewed_by: str | None = Field(default=None, max_length=200)
    reviewed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    dispute_reason: str | None = Field(default=None, max_length=2000)
    idempotency_key: str | None = Field(default=None, max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
