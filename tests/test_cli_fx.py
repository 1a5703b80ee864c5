"""`coalition-hub fx import`: exchange rates to US dollars from a CSV file."""

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from backend import models
from backend.actors import SYSTEM
from backend.services import fx
from tests.imports.cli import count, invoke, stderr_lines, write_csv


def _rate(currency, date, rate, source="ECB"):
    return {"currency": currency, "date": date, "rate_to_usd": rate, "source": source}


async def _rates(session):
    rate = models.FxRate
    rows = await session.execute(
        sa.select(rate.currency, rate.rate_date, rate.usd_per_unit, rate.source).order_by(
            rate.currency, rate.rate_date
        )
    )
    return [tuple(row) for row in rows]


async def _publish(session, currency, day, rate, source="ECB"):
    await fx.publish_rate(
        session, SYSTEM, currency=currency, rate_date=day, usd_per_unit=Decimal(rate), source=source
    )
    await session.commit()


async def test_the_import_creates_corrects_and_leaves_rates_unchanged(settings, session, tmp_path):
    await _publish(session, "EUR", dt.date(2024, 3, 1), "1.08")
    await _publish(session, "EUR", dt.date(2024, 3, 4), "1.09")
    path = write_csv(
        tmp_path / "rates.csv",
        [
            _rate("EUR", "2024-03-01", "1.0800"),
            _rate("EUR", "2024-03-04", "1.0925"),
            _rate("KES", "2024-03-01", "0.007712345678"),
        ],
    )

    result = await invoke(settings, "fx", "import", path)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Imported rates.csv: 3 rows; created 1, corrected 1, unchanged 1."
    ]
    assert await _rates(session) == [
        ("EUR", dt.date(2024, 3, 1), Decimal("1.08"), "ECB"),
        ("EUR", dt.date(2024, 3, 4), Decimal("1.0925"), "ECB"),
        ("KES", dt.date(2024, 3, 1), Decimal("0.007712345678"), "ECB"),
    ]
    audit = models.AuditRecord
    records = await session.scalars(
        sa.select(audit).where(audit.actor_name == "import of rates.csv").order_by(audit.id)
    )
    assert [
        (record.action, record.before and Decimal(record.before["usd_per_unit"]))
        for record in records
    ] == [("fx_rate.published", Decimal("1.09")), ("fx_rate.published", None)]


async def test_a_second_import_of_the_same_file_changes_nothing(settings, session, tmp_path):
    path = write_csv(
        tmp_path / "rates.csv",
        [_rate("EUR", "2024-03-01", "1.08"), _rate("GBP", "2024-03-01", "1.27", "BoE")],
    )
    await invoke(settings, "fx", "import", path)
    records = await count(session, models.AuditRecord)

    again = await invoke(settings, "fx", "import", path)

    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [
        "Imported rates.csv: 2 rows; created 0, corrected 0, unchanged 2.",
        "Nothing new: every row matches a record the hub already has.",
    ]
    assert await count(session, models.AuditRecord) == records


async def test_every_bad_row_is_reported_by_line_and_no_rate_is_written(
    settings, session, tmp_path
):
    path = write_csv(
        tmp_path / "rates.csv",
        [
            _rate("EUR", "2024-03-01", "1.08"),
            _rate("EUX", "2024-03-01", "1.08"),
            _rate("GBP", "2024-03-01", "0"),
            _rate("JPY", "2024-03-01", "0.0000000000001"),
            _rate("CHF", "1 March 2024", "1.13"),
            _rate("KES", "2024-03-01", "0.0077", ""),
            _rate("USD", "2024-03-01", "1"),
            _rate("EUR", "2024-03-01", "1.09"),
            _rate("", "", "1e3", ""),
        ],
    )

    result = await invoke(settings, "fx", "import", path)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert stderr_lines(result) == [
        "line 3: currency: UNKNOWN_CODE: 'EUX' is not an ISO 4217 currency code.",
        "line 4: rate_to_usd: NOT_POSITIVE: Must be greater than zero.",
        "line 5: rate_to_usd: TOO_PRECISE: At most 12 decimal places.",
        "line 6: date: BAD_FORMAT: '1 March 2024' is not an ISO 8601 date such as 2024-03-31.",
        "line 7: source: REQUIRED: This field is required.",
        "line 8: currency: NOT_ALLOWED: Rates are to US dollars; USD has none.",
        "line 9: date: DUPLICATE: Line 2 gives the EUR rate of this day.",
        "line 10: currency: REQUIRED: This field is required.",
        "line 10: date: REQUIRED: This field is required.",
        "line 10: rate_to_usd: BAD_FORMAT: '1e3' is not a plain decimal such as 1250.50.",
        "line 10: source: REQUIRED: This field is required.",
        "error: 8 of 9 rows of rates.csv are invalid; nothing was written.",
    ]
    assert await _rates(session) == []


async def test_a_dry_run_lists_what_it_would_create_and_correct(settings, session, tmp_path):
    await _publish(session, "EUR", dt.date(2024, 3, 1), "1.08")
    path = write_csv(
        tmp_path / "rates.csv",
        [_rate("EUR", "2024-03-01", "1.085", "ECB reference"), _rate("GBP", "2024-03-01", "1.27")],
    )

    result = await invoke(settings, "fx", "import", path, "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "would create rate GBP 2024-03-01: 1.27 (ECB), line 3",
        "would correct rate EUR 2024-03-01: 1.085 (ECB reference), line 2, was 1.08 (ECB)",
        "Dry run of rates.csv: 2 rows, all valid; created 1, corrected 1, unchanged 0. "
        "Nothing was written.",
    ]
    assert await _rates(session) == [("EUR", dt.date(2024, 3, 1), Decimal("1.08"), "ECB")]
