"""Reads a commitments.csv row into what the services take (a draft, the ref and record
days, the stage) and into the view compared with the hub's record; and makes that view of
a record."""

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.errors import NOT_ALLOWED, REQUIRED
from backend.imports import cells as read
from backend.imports import references
from backend.imports.compare import Ref, View
from backend.imports.pinned import Pinned
from backend.imports.runner import Row, Run
from backend.services import commitments

LINES = "in_kind_lines"
# What a line object holds: the InKindDraft fields, then the rate its fair value was
# converted at (checked when given, as the row's own rate is).
LINE_DRAFT_KEYS = tuple(field.name for field in dataclasses.fields(commitments.InKindDraft))
LINE_PINNED_KEYS = ("fair_value_usd", "usd_rate", "usd_rate_date", "usd_rate_source")
LINE_DECIMALS = {"quantity", "fair_value", "fair_value_usd", "usd_rate"}
LINE_DATES = {"free_until", "usd_rate_date"}
# Columns compared only when their cell is given: the hub works them out otherwise.
GIVEN_ONLY = ("usd_rate", "usd_rate_date", "usd_rate_source", "amount_usd", "created_at")
# Columns the format has that the import does not compare: a sum for spreadsheets, and a
# day the hub moves on with every delivery (it is honoured when the commitment is created).
NOT_COMPARED = {"ref", "organisation_country", "in_kind_value_usd", "last_progress_at"}


@dataclass
class Line:
    draft: commitments.InKindDraft
    pinned: Pinned
    given: dict[str, Any]


@dataclass
class Parsed:
    ref: str | None
    coalition: models.Coalition | None = None
    workstream: models.Workstream | None = None
    organisation: models.Organisation | None = None
    funded_through: models.Commitment | None = None
    stage: models.Stage = models.Stage.PLEDGED
    closing_reason: str | None = None
    created_at: dt.datetime | None = None
    last_progress_at: dt.datetime | None = None
    pinned: Pinned = field(default_factory=Pinned)
    lines: list[Line] = field(default_factory=list)
    # The draft's own values, without the ids of coalition, workstream and organisation.
    values: dict[str, Any] = field(default_factory=dict)
    given: View = field(default_factory=dict)

    @property
    def resolved(self) -> bool:
        return self.coalition is not None and self.organisation is not None

    def draft(self) -> commitments.CommitmentDraft:
        """The draft the services check; ids of records not found read as 0, which finds
        nothing, so the rules still report everything else."""
        return commitments.CommitmentDraft(
            coalition_id=(self.coalition.id or 0) if self.coalition else 0,
            organisation_id=(self.organisation.id or 0) if self.organisation else 0,
            workstream_id=self.workstream.id if self.workstream else None,
            funded_through_id=self.funded_through.id if self.funded_through else None,
            in_kind=[line.draft for line in self.lines],
            **self.values,
        )

    def imported(self) -> commitments.ImportedRecord:
        return commitments.ImportedRecord(
            ref=self.ref or "",
            recorded_at=self.created_at,
            last_progress_at=self.last_progress_at,
        )


async def parse(run: Run, row: Row) -> Parsed:
    cells = row.cells
    parsed = Parsed(ref=cells.text("ref"))
    if parsed.ref is None:
        row.fail("ref", REQUIRED, "Every commitment needs its ref: the import's natural key.")
    await _resolve(run, row, parsed)
    parsed.stage = cells.member("stage", models.Stage) or models.Stage.PLEDGED
    parsed.closing_reason = cells.text("closing_reason")
    parsed.created_at = cells.instant("created_at")
    parsed.last_progress_at = cells.instant("last_progress_at")
    parsed.pinned = Pinned(
        cells.decimal("usd_rate"), cells.date("usd_rate_date"), cells.text("usd_rate_source")
    )
    parsed.lines = _lines(row)
    parsed.values = {
        "title": cells.text("title") or "",
        "description": cells.text("description"),
        "resource_kind": cells.member("resource_kind", models.ResourceKind)
        or models.ResourceKind.FINANCIAL,
        "amount": cells.decimal("amount"),
        "currency": cells.text("currency"),
        "value_date": cells.date("value_date"),
        "earmarking": cells.text("earmarking"),
        "countries": cells.items("countries"),
        "sdg_targets": cells.items("sdg_targets"),
        "sectors": cells.items("sectors"),
        "start_date": cells.date("start_date"),
        "end_date": cells.date("end_date"),
        "visibility": cells.member("visibility", models.Visibility) or models.Visibility.PUBLIC,
        "embargo_until": cells.instant("embargo_until"),
    }
    if cells.text("resource_kind") is None:
        row.fail("resource_kind", REQUIRED, "FINANCIAL, IN_KIND or MIXED.")
    parsed.given = _given(row, parsed, cells.decimal("amount_usd"))
    return parsed


async def _resolve(run: Run, row: Row, parsed: Parsed) -> None:
    cells = row.cells
    slug = cells.text("coalition")
    if slug is None:
        row.fail("coalition", REQUIRED, "The coalition's slug.")
    else:
        parsed.coalition = await references.coalition(run, row, "coalition", slug)
    name = cells.text("workstream")
    if name is not None and parsed.coalition is not None:
        parsed.workstream = await references.workstream(
            run, row, "workstream", parsed.coalition, name
        )
    key = cells.text("organisation")
    if key is None:
        row.fail("organisation", REQUIRED, "The organisation's IATI identifier, else its name.")
    else:
        parsed.organisation = await references.organisation(
            run,
            row,
            "organisation",
            key,
            country=cells.text("organisation_country"),
            country_column="organisation_country",
        )
    channel = cells.text("funded_through")
    if channel is not None:
        parsed.funded_through = await references.commitment(run, row, "funded_through", channel)


def _lines(row: Row) -> list[Line]:
    text = row.line.value(LINES)
    if text is None:
        return []
    try:
        loaded = json.loads(text, parse_float=Decimal)
    except ValueError:
        row.cells.fail(LINES, "Not JSON: give an array of line objects, such as [{...}].")
        return []
    if not isinstance(loaded, list) or not all(isinstance(item, dict) for item in loaded):
        row.cells.fail(LINES, "Give a JSON array of line objects.")
        return []
    return [_line(row, f"{LINES}.{index}", item) for index, item in enumerate(loaded)]


def _line(row: Row, path: str, item: dict[str, Any]) -> Line:
    values: dict[str, Any] = {}
    for key, value in item.items():
        if key not in LINE_DRAFT_KEYS and key not in LINE_PINNED_KEYS:
            row.cells.fail(f"{path}.{key}", "Not a field of an in-kind line.", NOT_ALLOWED)
            continue
        values[key] = _line_value(row, f"{path}.{key}", key, value)
    if item.get("category") is None:
        row.fail(f"{path}.category", REQUIRED, "This field is required.")
    # A line whose category is missing or unreadable is still checked (as OTHER), so the
    # rules' issues keep naming the file's positions; the row fails anyway.
    draft = commitments.InKindDraft(
        category=values.get("category") or models.InKindCategory.OTHER,
        description=values.get("description") or "",
        quantity=values.get("quantity"),  # type: ignore[arg-type]
        unit=values.get("unit") or "",
        fair_value=values.get("fair_value"),
        fair_value_currency=values.get("fair_value_currency"),
        valuation_method=values.get("valuation_method"),
        free_of_charge=True if values.get("free_of_charge") is None else values["free_of_charge"],
        free_until=values.get("free_until"),
    )
    pinned = Pinned(
        values.get("usd_rate"), values.get("usd_rate_date"), values.get("usd_rate_source")
    )
    given = {key: values.get(key) for key in LINE_DRAFT_KEYS if key != "free_of_charge"}
    given["free_of_charge"] = draft.free_of_charge
    given |= {key: values[key] for key in LINE_PINNED_KEYS if values.get(key) is not None}
    return Line(draft, pinned, given)


def _line_value(row: Row, path: str, key: str, value: Any) -> Any:
    if value is None:
        return None
    try:
        if key == "category":
            return read.member(_text(value), models.InKindCategory)
        if key in LINE_DECIMALS:
            return read.decimal(_text(value) if isinstance(value, str) else _number(value))
        if key in LINE_DATES:
            return read.date(_text(value))
        if key == "free_of_charge":
            if not isinstance(value, bool):
                raise read.Unreadable(f"'{value}' is not true or false.")
            return value
        return _text(value)
    except read.Unreadable as error:
        row.cells.fail(path, str(error))
        return None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise read.Unreadable(f"{json.dumps(value, default=str)} is not a string.")
    return value.strip()


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise read.Unreadable(f"{json.dumps(value, default=str)} is not a decimal.")
    return format(value, "f")


def _given(row: Row, parsed: Parsed, amount_usd: Decimal | None) -> View:
    """What the row says, for the columns it gives, as `view` shows a record."""
    values: View = {
        "coalition": _ref(parsed.coalition, "slug"),
        "workstream": _ref(parsed.workstream, "name"),
        "organisation": references.organisation_ref(parsed.organisation),
        "funded_through": _ref(parsed.funded_through, "ref"),
        "stage": parsed.stage,
        "closing_reason": parsed.closing_reason,
        "created_at": parsed.created_at,
        "usd_rate": parsed.pinned.usd_rate,
        "usd_rate_date": parsed.pinned.usd_rate_date,
        "usd_rate_source": parsed.pinned.usd_rate_source,
        "amount_usd": amount_usd,
        LINES: [line.given for line in parsed.lines],
        **parsed.values,
    }
    given: View = {}
    for column in row.line.cells:
        if column in NOT_COMPARED or column not in values:
            continue
        if column in GIVEN_ONLY and row.line.value(column) is None:
            continue
        given[column] = values[column]
    return given


def _ref(record: Any, shown: str) -> Ref | None:
    return None if record is None else Ref(record.id, getattr(record, shown))


async def view(session: AsyncSession, commitment: models.Commitment) -> View:
    """A record as the columns of commitments.csv name its values."""
    assert commitment.id is not None
    coalition = await session.get(models.Coalition, commitment.coalition_id)
    organisation = await session.get(models.Organisation, commitment.organisation_id)
    workstream = channel = None
    if commitment.workstream_id is not None:
        workstream = await session.get(models.Workstream, commitment.workstream_id)
    if commitment.funded_through_id is not None:
        channel = await session.get(models.Commitment, commitment.funded_through_id)
    lines = await commitments.in_kind_lines(session, commitment_ids=[commitment.id])
    columns = (
        "title",
        "description",
        "stage",
        "resource_kind",
        "amount",
        "currency",
        "value_date",
        "earmarking",
        "usd_rate",
        "usd_rate_date",
        "usd_rate_source",
        "amount_usd",
        "countries",
        "sdg_targets",
        "sectors",
        "start_date",
        "end_date",
        "visibility",
        "embargo_until",
        "closing_reason",
        "created_at",
    )
    return {
        "coalition": _ref(coalition, "slug"),
        "workstream": _ref(workstream, "name"),
        "organisation": references.organisation_ref(organisation),
        "funded_through": _ref(channel, "ref"),
        LINES: [
            {key: getattr(line, key) for key in LINE_DRAFT_KEYS + LINE_PINNED_KEYS}
            for line in lines
        ],
        **{column: getattr(commitment, column) for column in columns},
    }
