"""Exchange rates: amounts are normalised to USD with the rate and its source pinned."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.actors import Actor
from backend.errors import NOT_ALLOWED
from backend.models.base import MONEY_SCALE, RATE_SCALE
from backend.services import access, audit
from backend.services.validation import Checks

USD = "USD"
# How far back a rate may be from the day it converts; older rates leave a row unconverted.
DEFAULT_WINDOW_DAYS = 31
MONEY_UNIT = Decimal(1).scaleb(-MONEY_SCALE)


@dataclass(frozen=True)
class PinnedRate:
    usd_per_unit: Decimal
    rate_date: dt.date
    source: str

    def convert(self, amount: Decimal) -> Decimal:
        return (amount * self.usd_per_unit).quantize(MONEY_UNIT)


async def rate_on(
    session: AsyncSession,
    *,
    currency: str,
    on: dt.date,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> PinnedRate | None:
    """The rate of `on`, or the nearest earlier one at most `window_days` before it; None
    when there is none (the row stays unconverted, never counted as zero)."""
    if currency == USD:
        return PinnedRate(usd_per_unit=Decimal(1), rate_date=on, source="identity")
    rate = models.FxRate
    earliest = on - dt.timedelta(days=window_days)
    statement = (
        sa.select(rate)
        .where(
            col(rate.currency) == currency,
            col(rate.rate_date) <= on,
            col(rate.rate_date) >= earliest,
        )
        .order_by(col(rate.rate_date).desc())
        .limit(1)
    )
    found = await session.scalar(statement)
    if found is None:
        return None
    return PinnedRate(
        usd_per_unit=found.usd_per_unit, rate_date=found.rate_date, source=found.source
    )


async def pin(
    session: AsyncSession,
    row: Any,
    *,
    amount: str,
    amount_usd: str,
    on: dt.date,
    currency: str = "currency",
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> PinnedRate | None:
    """Convert `row`'s money (the attributes named) and pin the rate on it: `usd_rate`,
    `usd_rate_date`, `usd_rate_source`. All four stay null when there is no usable rate."""
    value, code = getattr(row, amount), getattr(row, currency)
    rate = None
    if value is not None and code is not None:
        rate = await rate_on(session, currency=code, on=on, window_days=window_days)
    apply(row, rate, amount=amount, amount_usd=amount_usd)
    return rate


def apply(row: Any, rate: PinnedRate | None, *, amount: str, amount_usd: str) -> None:
    """Pin `rate` on `row` and convert its money (`amount` into `amount_usd`); None (no
    usable rate, or no money) leaves all four columns null: the row is unconverted."""
    row.usd_rate = row.usd_rate_date = row.usd_rate_source = None
    setattr(row, amount_usd, None)
    value = getattr(row, amount)
    if rate is None or value is None:
        return
    row.usd_rate = rate.usd_per_unit
    row.usd_rate_date = rate.rate_date
    row.usd_rate_source = rate.source
    setattr(row, amount_usd, rate.convert(value))


async def rate_of(
    session: AsyncSession, *, currency: str, rate_date: dt.date
) -> models.FxRate | None:
    """The rate published for exactly this currency and day, if any."""
    rate = models.FxRate
    return await session.scalar(
        sa.select(rate).where(col(rate.currency) == currency, col(rate.rate_date) == rate_date)
    )


def check_rate(*, currency: str, usd_per_unit: Decimal | None, source: str | None) -> None:
    """What a published rate must be, whatever its day: InvalidInput with every problem."""
    checks = Checks()
    checks.required("currency", currency)
    checks.currency("currency", currency)
    checks.required("usd_per_unit", usd_per_unit)
    checks.positive("usd_per_unit", usd_per_unit, places=RATE_SCALE)
    checks.text("source", source, required=True, limit=100)
    if currency == USD:
        checks.fail("currency", NOT_ALLOWED, "Rates are to US dollars; USD has none.")
    checks.done()


async def publish_rate(
    session: AsyncSession,
    actor: Actor,
    *,
    currency: str,
    rate_date: dt.date,
    usd_per_unit: Decimal,
    source: str,
) -> models.FxRate:
    """Add or correct the rate for one currency and day (secretariat only)."""
    access.require_secretariat_admin(actor)
    check_rate(currency=currency, usd_per_unit=usd_per_unit, source=source)
    existing = await rate_of(session, currency=currency, rate_date=rate_date)
    before = audit.snapshot(existing) if existing else None
    if existing is None:
        existing = models.FxRate(
            currency=currency, rate_date=rate_date, usd_per_unit=usd_per_unit, source=source
        )
        session.add(existing)
    else:
        existing.usd_per_unit = usd_per_unit
        existing.source = source
    await audit.record(session, actor, action="fx_rate.published", entity=existing, before=before)
    return existing
