"""Overdue commitments: open (PLEDGED, COMMITTED, IN_DELIVERY) and past their end date on
the as-of day, most overdue first."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.reports.scope import Scope, commitments
from backend.reports.sql import DaysBetween
from backend.reports.tracking import OPEN_STAGES, Listing, deliveries, first_of, listing, on_books


@dataclass(frozen=True)
class Overdue:
    commitment: models.Commitment
    days_overdue: int
    # Null when the reader may not see the commitment's amounts, or for no USD figure.
    amount_usd: Decimal | None
    delivered_usd: Decimal | None


async def overdue(session: AsyncSession, scope: Scope, *, first: int) -> Listing[Overdue]:
    as_of = scope.judged_on
    commitment = commitments()
    ranked = sa.select(commitment.c.id, commitment.c.end_date).where(
        on_books(scope, commitment),
        commitment.c.stage.in_(OPEN_STAGES),
        commitment.c.end_date < as_of,
    )
    page = first_of(ranked, commitment.c.end_date, commitment.c.id, first=first)
    model = models.Commitment
    shown = scope.amounts_shown(models.table_of(model))
    statement = (
        sa.select(
            model,
            page.c.total,
            DaysBetween(as_of, page.c.end_date).label("days_overdue"),
            sa.case((shown, model.amount_usd), else_=None).label("amount_usd"),
            sa.case((shown, delivered_usd(page.c.id, as_of)), else_=None).label("delivered_usd"),
        )
        .join(page, page.c.id == model.id)  # type: ignore[arg-type]
        .order_by(page.c.end_date, page.c.id)
    )
    return await listing(
        session,
        statement,
        ranked=ranked,
        first=first,
        row=lambda found: Overdue(
            found.Commitment, found.days_overdue, found.amount_usd, found.delivered_usd
        ),
    )


def delivered_usd(commitment_id: Any, as_of: dt.date) -> Any:
    """Cash delivered against a commitment up to `as_of`, in USD: REPORTED and CONFIRMED
    deliveries with a USD figure (disputed and unconverted ones are left out)."""
    delivery = deliveries()
    return (
        sa.select(sa.func.coalesce(sa.func.sum(delivery.c.amount_usd), 0))
        .where(
            delivery.c.commitment_id == commitment_id,
            delivery.c.status != models.DeliveryStatus.DISPUTED,
            delivery.c.amount_usd.is_not(None),
            delivery.c.delivered_on <= as_of,
        )
        .scalar_subquery()
    )
