"""fx rates CSV (currency, date, rate_to_usd, source): publishes exchange rates to USD.

Natural key: (currency, date). A rate already published with the same value and source is
unchanged; with another value or source it is corrected through `fx.publish_rate`, which
audits the change. Rows already pinned to the old rate keep it: pinning is what keeps
reported figures stable.
"""

from pathlib import Path

from backend.db import SessionFactory
from backend.errors import DUPLICATE, REQUIRED, InvalidInput
from backend.imports import csvfile
from backend.imports.compare import plain
from backend.imports.outcome import Outcome
from backend.imports.runner import Progress, Row, Run, each_line, run
from backend.services import fx

COLUMNS = csvfile.Columns(
    name="the rates file",
    known=("currency", "date", "rate_to_usd", "source"),
    required=frozenset({"currency", "date", "rate_to_usd", "source"}),
)
FIELDS = {"usd_per_unit": "rate_to_usd", "rate_date": "date"}


async def import_file(
    session_factory: SessionFactory,
    path: Path,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    rate_window_days: int,
) -> Outcome:
    keys: dict[tuple[str, str], int] = {}

    return await run(
        session_factory,
        path,
        COLUMNS,
        each_line("Rates", lambda importing, row: _import(importing, row, keys)),
        fields=FIELDS,
        dry_run=dry_run,
        progress=progress,
        rate_window_days=rate_window_days,
        corrects=True,
        pins_rates=False,
    )


async def _import(run: Run, row: Row, keys: dict[tuple[str, str], int]) -> None:
    cells = row.cells
    for column in ("currency", "date", "rate_to_usd"):
        if cells.text(column) is None:
            row.fail(column, REQUIRED, "This field is required.")
    currency = cells.text("currency")
    day = cells.date("date")
    rate = cells.decimal("rate_to_usd")
    source = cells.text("source")
    if currency is None or day is None or rate is None:
        # Without its day (or currency) a rate cannot be looked up; its other values are
        # still checked with the rules every published rate obeys.
        try:
            fx.check_rate(currency=currency or "", usd_per_unit=rate, source=source)
        except InvalidInput as error:
            row.add(error.issues)
        return
    key = (currency, day.isoformat())
    if key in keys:
        row.fail("date", DUPLICATE, f"Line {keys[key]} gives the {currency} rate of this day.")
        return
    keys[key] = row.line.number
    existing = await fx.rate_of(run.session, currency=currency, rate_date=day)
    if existing is not None and (existing.usd_per_unit, existing.source) == (rate, source):
        run.unchanged()
        return
    before = f"{plain(existing.usd_per_unit)} ({existing.source})" if existing else None
    await fx.publish_rate(
        run.session,
        run.actor,
        currency=currency,
        rate_date=day,
        usd_per_unit=rate,
        source=source or "",
    )
    what = f"{currency} {day.isoformat()}: {plain(rate)} ({source}), line {row.line.number}"
    if before is None:
        run.created(f"rate {what}")
    else:
        run.corrected(f"rate {what}, was {before}")
