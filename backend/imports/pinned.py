"""Rates a row says its money was converted at (usd_rate, usd_rate_date, usd_rate_source).

The import keeps them by letting the services pin as they always do: a rate fx_rates lacks
for that currency and day is published first, so the services find it; a different rate
already published for that day is the row's problem, never overwritten. Whether the
services then pinned what the row says is checked with the rest of the row (compare.py).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from backend import codes
from backend.errors import DIFFERS, NOT_ALLOWED, REQUIRED, FieldIssue, InvalidInput
from backend.imports.compare import plain
from backend.imports.runner import Row, Run
from backend.services import fx

COLUMNS = ("usd_rate", "usd_rate_date", "usd_rate_source")


@dataclass(frozen=True)
class Pinned:
    usd_rate: Decimal | None = None
    usd_rate_date: dt.date | None = None
    usd_rate_source: str | None = None

    @property
    def given(self) -> bool:
        return any(value is not None for value in self.values)

    @property
    def values(self) -> tuple[Decimal | None, dt.date | None, str | None]:
        return (self.usd_rate, self.usd_rate_date, self.usd_rate_source)


async def publish_missing(
    run: Run, row: Row, *, currency: str | None, pinned: Pinned, prefix: str = ""
) -> None:
    """Publish the rate the row pins when fx_rates has none for its day."""
    if not pinned.given:
        return
    names = [f"{prefix}{column}" for column in COLUMNS]
    missing = [name for name, value in zip(names, pinned.values, strict=True) if value is None]
    for name in missing:
        row.fail(name, REQUIRED, "Give usd_rate, usd_rate_date and usd_rate_source together.")
    if missing:
        return
    if currency is None:
        row.fail(names[0], NOT_ALLOWED, "There is no amount and currency to convert.")
        return
    rate, day, source = pinned.usd_rate, pinned.usd_rate_date, pinned.usd_rate_source
    assert rate is not None and day is not None and source is not None
    if currency == fx.USD or not codes.is_currency(currency):
        # US dollars convert at 1 without a published rate; an unknown code is the rules'.
        return
    existing = await fx.rate_of(run.session, currency=currency, rate_date=day)
    if existing is None:
        try:
            await fx.publish_rate(
                run.session,
                run.actor,
                currency=currency,
                rate_date=day,
                usd_per_unit=rate,
                source=source,
            )
        except InvalidInput as error:
            renamed = {"usd_per_unit": names[0], "source": names[2]}
            row.add(
                FieldIssue(renamed[issue.field], issue.code, issue.message)
                for issue in error.issues
                if issue.field in renamed
            )
        return
    if (existing.usd_per_unit, existing.source) != (rate, source):
        message = (
            f"The hub's {currency} rate of {day.isoformat()} is "
            f"{plain(existing.usd_per_unit)} ({existing.source}); the file pins "
            f"{plain(rate)} ({source})."
        )
        row.fail(names[0], DIFFERS, message)
