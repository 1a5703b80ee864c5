import datetime as dt
from decimal import Decimal

from backend.actors import SYSTEM
from backend.services import fx
from backend.services.rate_table import RateTable

JUNE_1 = dt.date(2025, 6, 1)


async def test_the_table_pins_what_rate_on_pins_for_every_day_and_window(session):
    published = {"EUR": [0, 1, 15, 40], "KES": [10], "GBP": []}
    for currency, days in published.items():
        for day in days:
            await fx.publish_rate(
                session,
                SYSTEM,
                currency=currency,
                rate_date=JUNE_1 + dt.timedelta(days=day),
                usd_per_unit=Decimal("1.05") + Decimal(day) / 1000,
                source=f"source {day}",
            )
    await session.commit()
    table = await RateTable.load(session)
    cases = [
        (currency, JUNE_1 + dt.timedelta(days=offset), window)
        for currency in ("EUR", "KES", "GBP", "USD")
        for offset in range(-3, 80, 2)
        for window in (0, 5, 31)
    ]

    from_table = [table.rate_on(currency=c, on=on, window_days=w) for c, on, w in cases]
    from_database = [
        await fx.rate_on(session, currency=c, on=on, window_days=w) for c, on, w in cases
    ]

    assert from_table == from_database
    assert sum(rate is None for rate in from_table) > 20
    assert sum(rate is not None and rate.source != "identity" for rate in from_table) > 20


async def test_a_table_of_some_currencies_knows_no_other(session):
    for currency in ("EUR", "KES"):
        await fx.publish_rate(
            session,
            SYSTEM,
            currency=currency,
            rate_date=JUNE_1,
            usd_per_unit=Decimal("1.1"),
            source="ECB",
        )
    await session.commit()

    table = await RateTable.load(session, currencies=["KES"])

    assert table.rate_on(currency="EUR", on=JUNE_1) is None
    assert table.rate_on(currency="KES", on=JUNE_1) == fx.PinnedRate(Decimal("1.1"), JUNE_1, "ECB")
