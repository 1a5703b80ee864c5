import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.models.base import JSONDocument, Money, Rate, UTCDateTime, enum_type, utcnow

# Money that has an amount but no USD value: no rate was known (see services/fx.py).
UNCONVERTED = "amount IS NOT NULL AND amount_usd IS NULL"
UNCONVERTED_VALUE = "fair_value IS NOT NULL AND fair_value_usd IS NULL"


class Stage(StrEnum):
    """Where a commitment is in its life.

    PLEDGED is non-binding (IATI transaction type 12/13, FTS "Pledge"); COMMITTED is a firm
    obligation (IATI 2/11); IN_DELIVERY and FULFILLED follow deliveries (IATI 1/3/4).
    """

    PLEDGED = "PLEDGED"
    COMMITTED = "COMMITTED"
    IN_DELIVERY = "IN_DELIVERY"
    FULFILLED = "FULFILLED"
    WITHDRAWN = "WITHDRAWN"
    CANCELLED = "CANCELLED"


class ResourceKind(StrEnum):
    FINANCIAL = "FINANCIAL"
    IN_KIND = "IN_KIND"
    MIXED = "MIXED"


class Visibility(StrEnum):
    """Who sees an item: everyone, members of its coalition, or everyone without amounts."""

    PUBLIC = "PUBLIC"
    MEMBERS = "MEMBERS"
    CONFIDENTIAL = "CONFIDENTIAL"


class InKindCategory(StrEnum):
    CONNECTIVITY = "CONNECTIVITY"
    DEVICES = "DEVICES"
    CONTENT = "CONTENT"
    PLATFORM = "PLATFORM"
    EXPERTISE = "EXPERTISE"
    MEDIA_AIRTIME = "MEDIA_AIRTIME"
    TRAINING = "TRAINING"
    LOGISTICS = "LOGISTICS"
    OTHER = "OTHER"


class Commitment(SQLModel, table=True):
    """One organisation's promise to a coalition: a pledge once recorded."""

    __tablename__ = "commitments"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "idempotency_key"),
        sa.Index("ix_commitments_coalition_created", "coalition_id", "created_at", "id"),
        # Cash without a USD value (unconverted), for the dashboard's list of them.
        sa.Index(
            "ix_commitments_unconverted",
            "coalition_id",
            postgresql_where=sa.text(UNCONVERTED),
            sqlite_where=sa.text(UNCONVERTED),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=40, unique=True)
    coalition_id: int = Field(foreign_key="coalitions.id")
    workstream_id: int | None = Field(default=None, foreign_key="workstreams.id", index=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_type=sa.Text)
    stage: Stage = Field(default=Stage.PLEDGED, sa_type=enum_type(Stage), index=True)
    resource_kind: ResourceKind = Field(sa_type=enum_type(ResourceKind))
    # The financial part: amount in its own currency, with the USD rate pinned at pledge time.
    amount: Decimal | None = Field(default=None, sa_type=Money)
    currency: str | None = Field(default=None, max_length=3)
    value_date: dt.date | None = None
    earmarking: str | None = Field(default=None, max_length=2)
    usd_rate: Decimal | None = Field(default=None, sa_type=Rate)
    usd_rate_date: dt.date | None = None
    usd_rate_source: str | None = Field(default=None, max_length=100)
    amount_usd: Decimal | None = Field(default=None, sa_type=Money)
    countries: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    sdg_targets: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    # OECD DAC 5-digit purpose codes, e.g. "11220" Primary education.
    sectors: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    # Pass-through money: this commitment's cash is part of that other member's commitment,
    # so coalition totals count it there, once.
    funded_through_id: int | None = Field(default=None, foreign_key="commitments.id", index=True)
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    visibility: Visibility = Field(default=Visibility.PUBLIC, sa_type=enum_type(Visibility))
    embargo_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    announced_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_progress_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    closing_reason: str | None = Field(default=None, max_length=2000)
    idempotency_key: str | None = Field(default=None, max_length=200)
    version: int = 1
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InKindLine(SQLModel, table=True):
    """A quantity of non-cash help inside a commitment, valued apart from cash."""

    __tablename__ = "in_kind_lines"
    __table_args__ = (
        # Fair values without a USD value (unconverted).
        sa.Index(
            "ix_in_kind_lines_unconverted",
            "commitment_id",
            postgresql_where=sa.text(UNCONVERTED_VALUE),
            sqlite_where=sa.text(UNCONVERTED_VALUE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(foreign_key="commitments.id", index=True)
    position: int
    category: InKindCategory = Field(sa_type=enum_type(InKindCategory))
    description: str = Field(max_length=2000)
    quantity: Decimal = Field(sa_type=Money)
    # GB, device, seat, expert_day, airtime_minute, ...
    unit: str = Field(max_length=40)
    fair_value: Decimal | None = Field(default=None, sa_type=Money)
    fair_value_currency: str | None = Field(default=None, max_length=3)
    valuation_method: str | None = Field(default=None, max_length=500)
    # The fair value in USD at the rate pinned when the line was recorded.
    fair_value_usd: Decimal | None = Field(default=None, sa_type=Money)
    usd_rate: Decimal | None = Field(default=None, sa_type=Rate)
    usd_rate_date: dt.date | None = None
    usd_rate_source: str | None = Field(default=None, max_length=100)
    free_of_charge: bool = True
    free_until: dt.date | None = None
