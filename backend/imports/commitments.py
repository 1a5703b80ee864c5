"""commitments.csv: records the commitments a spreadsheet lists, each brought to its stage.

Natural key: the ref. Each new row is pledged through the services (with its ref and the
day it was recorded), then brought to its stage through the state machine — so every rule,
audit record and feed event applies. Rows that pass money through another commitment
(funded_through) are pledged after the others, so the file's order does not matter; stages
are reached once every pledge is in, since a channel withdrawn since took new pass-through
money while it was open.
"""

from dataclasses import dataclass
from pathlib import Path

from backend import models
from backend.csv_columns import COMMITMENT_COLUMNS
from backend.db import SessionFactory
from backend.errors import DUPLICATE, InvalidInput, NotFound
from backend.imports import commitment_rows, compare, csvfile, pinned
from backend.imports.commitment_rows import Parsed
from backend.imports.csvfile import Line
from backend.imports.outcome import Outcome
from backend.imports.runner import Progress, Row, Run, run
from backend.services import commitment_rules, commitments

COLUMNS = csvfile.Columns(
    name="commitments.csv",
    known=COMMITMENT_COLUMNS,
    required=frozenset({"ref", "coalition", "organisation", "title", "resource_kind"}),
)
# The services' field names, as the file's columns.
FIELDS = {
    "coalition_id": "coalition",
    "organisation_id": "organisation",
    "workstream_id": "workstream",
    "funded_through_id": "funded_through",
    "in_kind": "in_kind_lines",
    "reason": "closing_reason",
    "recorded_at": "created_at",
}


@dataclass
class Pledged:
    line: Line
    parsed: Parsed
    commitment: models.Commitment


async def import_file(
    session_factory: SessionFactory,
    path: Path,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    rate_window_days: int,
) -> Outcome:
    async def work(importing: Run) -> None:
        lines = importing.lines
        # Channels first: a pass-through pledge needs its channel recorded.
        ordered = [line for line in lines if line.value("funded_through") is None]
        ordered += [line for line in lines if line.value("funded_through") is not None]
        refs: dict[str, int] = {}
        pledged: list[Pledged] = []
        for line in ordered:
            made = None
            async with importing.row(line) as row:
                made = await _pledge(importing, row, refs)
            if made is not None and row.ok:
                pledged.append(Pledged(line, *made))
            importing.progress.advance("Pledges")
        importing.progress.advance("Stages", len(lines) - len(pledged))
        for each in pledged:
            async with importing.row(each.line) as row:
                await _reach_stage(importing, row, each)
            importing.progress.advance("Stages")

    return await run(
        session_factory,
        path,
        COLUMNS,
        work,
        fields=FIELDS,
        steps_per_line=2,
        dry_run=dry_run,
        progress=progress,
        rate_window_days=rate_window_days,
    )


async def _pledge(
    run: Run, row: Row, refs: dict[str, int]
) -> tuple[Parsed, models.Commitment] | None:
    parsed = await commitment_rows.parse(run, row)
    if parsed.ref is not None:
        if parsed.ref in refs:
            row.fail("ref", DUPLICATE, f"Line {refs[parsed.ref]} has the same ref.")
            return None
        refs[parsed.ref] = row.line.number
        existing = await commitments.find(run.session, run.actor, ref=parsed.ref)
        if existing is not None:
            held = await commitment_rows.view(run.session, existing)
            _unchanged_unless_different(run, row, parsed, held)
            return None
    if not parsed.resolved:
        await _check_only(run, row, parsed)
        return None
    await pinned.publish_missing(run, row, currency=parsed.values["currency"], pinned=parsed.pinned)
    for index, line in enumerate(parsed.lines):
        await pinned.publish_missing(
            run,
            row,
            currency=line.draft.fair_value_currency,
            pinned=line.pinned,
            prefix=f"{commitment_rows.LINES}.{index}.",
        )
    commitment = await commitments.pledge(
        run.session,
        run.actor,
        draft=parsed.draft(),
        imported=parsed.imported(),
        rate_window_days=run.rate_window_days,
    )
    return parsed, commitment


def _unchanged_unless_different(run: Run, row: Row, parsed: Parsed, held: compare.View) -> None:
    given = dict(parsed.given)
    # A delivery moves a COMMITTED commitment on to IN_DELIVERY: the file's COMMITTED is
    # the hub's IN_DELIVERY once deliveries came in.
    if given.get("stage") is models.Stage.COMMITTED and held["stage"] is models.Stage.IN_DELIVERY:
        given["stage"] = models.Stage.IN_DELIVERY
    row.add(compare.differences(given, held, existing=True))
    if row.ok:
        run.unchanged()


async def _check_only(run: Run, row: Row, parsed: Parsed) -> None:
    """The coalition or organisation was not found: the rest of the row is still checked
    with the services' rules, so every problem with it is reported at once."""
    try:
        await commitment_rules.check(run.session, parsed.draft(), imported=parsed.imported())
    except InvalidInput as error:
        row.add(error.issues)
    except NotFound:
        pass  # The missing record is already the row's problem.


async def _reach_stage(run: Run, row: Row, pledged: Pledged) -> None:
    parsed, commitment = pledged.parsed, pledged.commitment
    assert commitment.id is not None
    commitment = await commitments.reach_stage(
        run.session,
        run.actor,
        commitment_id=commitment.id,
        version=commitment.version,
        stage=parsed.stage,
        reason=parsed.closing_reason,
        last_progress_at=parsed.last_progress_at,
    )
    held = await commitment_rows.view(run.session, commitment)
    row.add(compare.differences(parsed.given, held, existing=False))
    if row.ok:
        run.created(
            f"commitment {commitment.ref} ({commitment.stage.value}): "
            f"'{commitment.title}', line {row.line.number}"
        )
