"""Published rates held in memory, to pin many rows with `fx.rate_on`'s rule without a
query per row (bulk seeding, re-pinning unconverted rows)."""

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.services import fx


class RateTable:
    """Every published rate of some currencies, by currency and day."""

    def __init__(self, rates: Iterable[tuple[str, dt.date, Decimal, str]]) -> None:
        by_currency: dict[str, list[tuple[dt.date, Decimal, str]]] = defaultdict(list)
        for currency, rate_date, usd_per_unit, source in rates:
            by_currency[currency].append((rate_date, usd_per_unit, source))
        self._days: dict[str, list[dt.date]] = {}
        self._rates: dict[str, list[tuple[dt.date, Decimal, str]]] = {}
        for currency, found in by_currency.items():
            found.sort(key=lambda rate: rate[0])
            self._rates[currency] = found
            self._days[currency] = [rate[0] for rate in found]

    @classmethod
    async def load(
        cls, session: AsyncSession, *, currencies: Iterable[str] | None = None
    ) -> "RateTable":
        """The rates of `currencies` (every currency when None), read in one statement."""
        rate = models.FxRate
        statement = sa.select(
            col(rate.currency), col(rate.rate_date), col(rate.usd_per_unit), col(rate.source)
        )
        if currencies is not None:
            statement = statement.where(col(rate.currency).in_(sorted(set(currencies))))
        rows = await session.execute(statement)
        return cls((row[0], row[1], row[2], row[3]) for row in rows)

    def rate_on(
        self, *, currency: str, on: dt.date, window_days: int = fx.DEFAULT_WINDOW_DAYS
    ) -> fx.PinnedRate | None:
        """What `fx.rate_on` answers for the same rates: the rate of `on`, or the nearest
        earlier one at most `window_days` before it; a dollar is a dollar."""
        if currency == fx.USD:
            return fx.PinnedRate(usd_per_unit=Decimal(1), rate_date=on, source="identity")
        days = self._days.get(currency)
        if not days:
            return None
        index = bisect_right(days, on) - 1
        if index < 0:
            return None
        rate_date, usd_per_unit, source = self._rates[currency][index]
        if rate_date < on - dt.timedelta(days=window_days):
            return None
        return fx.PinnedRate(usd_per_unit=usd_per_unit, rate_date=rate_date, source=source)
