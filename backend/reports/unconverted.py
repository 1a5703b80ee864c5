"""Money left out of every USD sum because no rate was known: listed, and summed per
original currency, never counted as zero.

Three kinds of row can be unconverted: a commitment's cash, a valued in-kind line, and a
cash delivery (in the period). Only rows whose amounts would enter the reader's figures
are reported: not others' withheld ones, nor a pass-through commitment's cash, which its
channel counts.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.reports import facts
from backend.reports.scope import Scope
from backend.reports.sql import CodeOrder, Units, from_units


class Kind(StrEnum):
    COMMITMENT = "COMMITMENT"
    IN_KIND_LINE = "IN_KIND_LINE"
    DELIVERY = "DELIVERY"


@dataclass(frozen=True)
class Unconverted:
    kind: Kind
    commitment_id: int
    commitment_ref: str
    commitment_title: str
    organisation_id: int
    organisation_name: str
    amount: Decimal
    currency: str
    # The day a rate was sought for: the commitment's valued_on, or the delivery's day.
    day: dt.date
    # Deliveries only.
    delivery_status: models.DeliveryStatus | None


@dataclass(frozen=True)
class CurrencySum:
    kind: Kind
    currency: str
    amount: Decimal
    rows: int


def _rows(scope: Scope) -> Any:
    rows = facts.counted(scope)
    line = facts.in_kind_lines()
    delivery = facts.deliveries()
    cash = facts.cash_counts(rows)

    def select(kind: Kind, row_id: Any, amount: Any, currency: Any, day: Any, status: Any) -> Any:
        return sa.select(
            sa.literal(kind.value, sa.String()).label("kind"),
            row_id.label("row_id"),
            rows.c.id.label("commitment_id"),
            rows.c.ref,
            rows.c.title,
            rows.c.organisation_id,
            rows.c.organisation_name,
            amount.label("amount"),
            currency.label("currency"),
            # type_coerce, not CAST: SQLite would read a date's text as a number.
            sa.type_coerce(day, sa.Date()).label("day"),
            sa.cast(status, sa.String()).label("status"),
        )

    commitment_cash = select(
        Kind.COMMITMENT, rows.c.id, rows.c.amount, rows.c.currency, rows.c.valued_on, sa.null()
    ).where(cash, rows.c.amount.is_not(None), rows.c.amount_usd.is_(None))
    lines = (
        select(
            Kind.IN_KIND_LINE,
            line.c.id,
            line.c.fair_value,
            line.c.fair_value_currency,
            rows.c.valued_on,
            sa.null(),
        )
        .select_from(line.join(rows, rows.c.id == line.c.commitment_id))
        .where(rows.c.shown, line.c.fair_value.is_not(None), line.c.fair_value_usd.is_(None))
    )
    deliveries = (
        select(
            Kind.DELIVERY,
            delivery.c.id,
            delivery.c.amount,
            delivery.c.currency,
            delivery.c.delivered_on,
            delivery.c.status,
        )
        .select_from(delivery.join(rows, rows.c.id == delivery.c.commitment_id))
        .where(
            cash,
            delivery.c.amount.is_not(None),
            delivery.c.amount_usd.is_(None),
            facts.delivered_in_period(scope, delivery),
        )
    )
    return sa.union_all(commitment_cash, lines, deliveries).subquery("unconverted")


async def listed(session: AsyncSession, scope: Scope, *, first: int) -> list[Unconverted]:
    """The `first` unconverted rows, latest day first."""
    found = _rows(scope)
    statement = (
        sa.select(found)
        .order_by(found.c.day.desc(), found.c.kind, CodeOrder(found.c.ref), found.c.row_id)
        .limit(first)
    )
    return [
        Unconverted(
            kind=Kind(row.kind),
            commitment_id=row.commitment_id,
            commitment_ref=row.ref,
            commitment_title=row.title,
            organisation_id=row.organisation_id,
            organisation_name=row.organisation_name,
            amount=row.amount,
            currency=row.currency,
            day=row.day,
            delivery_status=models.DeliveryStatus(row.status) if row.status else None,
        )
        for row in await session.execute(statement)
    ]


async def by_currency(session: AsyncSession, scope: Scope) -> list[CurrencySum]:
    """Per kind of row and original currency: the sum and how many rows."""
    found = _rows(scope)
    statement = (
        sa.select(
            found.c.kind,
            found.c.currency,
            sa.func.sum(Units(found.c.amount)).label("amount"),
            sa.func.count().label("rows"),
        )
        .group_by(found.c.kind, found.c.currency)
        .order_by(found.c.kind, found.c.currency)
    )
    return [
        CurrencySum(
            kind=Kind(row.kind), currency=row.currency, amount=from_units(row.amount), rows=row.rows
        )
        for row in await session.execute(statement)
    ]
