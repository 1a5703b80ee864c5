"""What a well-formed commitment is: its draft and the checks on it."""

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.errors import BAD_FORMAT, BAD_RANGE, DUPLICATE, NOT_ALLOWED, REQUIRED, NotFound
from backend.services.validation import LONG_TEXT, Checks

MAX_IN_KIND_LINES = 50
# A ref chosen outside the hub (an imported spreadsheet's): letters and digits, then also
# . _ / - (e.g. "GEC-2021/014"), at most the column's 40 characters.
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")


@dataclass(frozen=True)
class InKindDraft:
    category: models.InKindCategory
    description: str
    quantity: Decimal
    unit: str
    fair_value: Decimal | None = None
    fair_value_currency: str | None = None
    valuation_method: str | None = None
    free_of_charge: bool = True
    free_until: dt.date | None = None

    @classmethod
    def of(cls, line: models.InKindLine) -> "InKindDraft":
        return cls(
            category=line.category,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            fair_value=line.fair_value,
            fair_value_currency=line.fair_value_currency,
            valuation_method=line.valuation_method,
            free_of_charge=line.free_of_charge,
            free_until=line.free_until,
        )


@dataclass(frozen=True)
class ImportedRecord:
    """A commitment the secretariat kept elsewhere before the hub (a spreadsheet it imports):
    the ref it is known by, when it was recorded and when progress was last reported."""

    ref: str
    recorded_at: dt.datetime | None = None
    last_progress_at: dt.datetime | None = None


@dataclass(frozen=True)
class CommitmentDraft:
    coalition_id: int
    organisation_id: int
    title: str
    resource_kind: models.ResourceKind
    workstream_id: int | None = None
    description: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    value_date: dt.date | None = None
    earmarking: str | None = None
    in_kind: list[InKindDraft] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    sdg_targets: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)
    funded_through_id: int | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    visibility: models.Visibility = models.Visibility.PUBLIC
    embargo_until: dt.datetime | None = None


def check_reason(reason: str) -> None:
    checks = Checks()
    checks.text("reason", reason, required=True, limit=2000)
    checks.done()


def check_terms(draft: CommitmentDraft, checks: Checks | None = None) -> None:
    """The checks that need no database: every problem with the draft's own fields at once
    (InvalidInput); with `checks`, the problems are added to it instead."""
    found = checks if checks is not None else Checks()
    found.text("title", draft.title, required=True)
    found.text("description", draft.description, limit=LONG_TEXT)
    _check_resources(found, draft)
    found.countries("countries", draft.countries)
    found.sdg_targets("sdg_targets", draft.sdg_targets)
    found.sectors("sectors", draft.sectors)
    found.date_order("end_date", draft.start_date, draft.end_date, start_name="start_date")
    if checks is None:
        found.done()


async def check(
    session: AsyncSession,
    draft: CommitmentDraft,
    *,
    commitment_id: int | None = None,
    imported: ImportedRecord | None = None,
) -> None:
    """Every problem with the draft at once (InvalidInput), or NotFound for a missing parent.

    `commitment_id` is the commitment being revised, if it is not a new pledge; `imported`
    what a pledge brought in from elsewhere says of its record."""
    checks = Checks()
    if imported is not None:
        await _check_imported(session, checks, imported)
    check_terms(draft, checks)
    checks.done()
    if await session.get(models.Organisation, draft.organisation_id) is None:
        raise NotFound("No organisation with this id.")
    if draft.workstream_id is not None:
        workstream = models.Workstream
        in_coalition = await session.scalar(
            sa.select(col(workstream.id)).where(
                col(workstream.id) == draft.workstream_id,
                col(workstream.coalition_id) == draft.coalition_id,
            )
        )
        if in_coalition is None:
            raise NotFound("No workstream with this id in the commitment's coalition.")
    if draft.funded_through_id is not None:
        await _check_funded_through(session, draft, commitment_id)


async def _check_imported(session: AsyncSession, checks: Checks, imported: ImportedRecord) -> None:
    checks.text("ref", imported.ref, required=True, limit=40)
    if imported.ref.strip() and not _REF.match(imported.ref):
        checks.fail(
            "ref", BAD_FORMAT, "Letters and digits, then also . _ / or -, at most 40 characters."
        )
    commitment = models.Commitment
    taken = await session.scalar(
        sa.select(col(commitment.id)).where(col(commitment.ref) == imported.ref)
    )
    if taken is not None:
        checks.fail("ref", DUPLICATE, "Another commitment has this ref.")
    now = models.utcnow()
    for name in ("recorded_at", "last_progress_at"):
        instant = getattr(imported, name)
        if instant is not None and instant > now:
            checks.fail(name, BAD_RANGE, "Must not be in the future.")
    recorded, progress = imported.recorded_at, imported.last_progress_at
    if recorded is not None and progress is not None and progress < recorded:
        checks.fail("last_progress_at", BAD_RANGE, "Must not be before recorded_at.")


async def _check_funded_through(
    session: AsyncSession, draft: CommitmentDraft, commitment_id: int | None
) -> None:
    """Pass-through money: the cash goes through another member's open commitment with a
    cash part in the same coalition, one level deep (so links never form a chain or loop)."""
    channel = await session.get(models.Commitment, draft.funded_through_id)
    if channel is None or channel.coalition_id != draft.coalition_id:
        raise NotFound("No commitment with the funded-through id in this coalition.")
    checks = Checks()
    field_name = "funded_through_id"
    if draft.resource_kind is models.ResourceKind.IN_KIND:
        checks.fail(field_name, NOT_ALLOWED, "Only cash passes through another commitment.")
    if channel.id == commitment_id or channel.organisation_id == draft.organisation_id:
        checks.fail(field_name, NOT_ALLOWED, "Money passes through another member's commitment.")
    if channel.resource_kind is models.ResourceKind.IN_KIND:
        checks.fail(field_name, NOT_ALLOWED, "That commitment has no cash part to pass through.")
    if channel.funded_through_id is not None:
        checks.fail(field_name, NOT_ALLOWED, "That commitment passes its money on itself.")
    if channel.stage in (models.Stage.WITHDRAWN, models.Stage.CANCELLED):
        checks.fail(field_name, NOT_ALLOWED, f"That commitment is {channel.stage.value}.")
    if commitment_id is not None:
        passing_through_this = await session.scalar(
            sa.select(col(models.Commitment.id))
            .where(col(models.Commitment.funded_through_id) == commitment_id)
            .limit(1)
        )
        if passing_through_this is not None:
            checks.fail(
                field_name, NOT_ALLOWED, "Other commitments pass their money through this one."
            )
    checks.done()


def _check_resources(checks: Checks, draft: CommitmentDraft) -> None:
    kind = draft.resource_kind
    financial = kind in (models.ResourceKind.FINANCIAL, models.ResourceKind.MIXED)
    in_kind = kind in (models.ResourceKind.IN_KIND, models.ResourceKind.MIXED)
    if financial:
        checks.required("amount", draft.amount)
        checks.required("currency", draft.currency)
    else:
        for name in ("amount", "currency", "value_date", "earmarking"):
            if getattr(draft, name) is not None:
                checks.fail(name, NOT_ALLOWED, f"An {kind.value} commitment has no cash part.")
    checks.positive("amount", draft.amount)
    checks.currency("currency", draft.currency)
    checks.earmarking("earmarking", draft.earmarking)
    if in_kind and not draft.in_kind:
        checks.fail("in_kind", REQUIRED, f"A {kind.value} commitment needs in-kind lines.")
    if not in_kind and draft.in_kind:
        checks.fail("in_kind", NOT_ALLOWED, "A FINANCIAL commitment has no in-kind lines.")
    if len(draft.in_kind) > MAX_IN_KIND_LINES:
        checks.fail("in_kind", BAD_RANGE, f"At most {MAX_IN_KIND_LINES} in-kind lines.")
    for index, line in enumerate(draft.in_kind):
        _check_line(checks, f"in_kind.{index}", line)


def _check_line(checks: Checks, path: str, line: InKindDraft) -> None:
    checks.text(f"{path}.description", line.description, required=True, limit=2000)
    checks.required(f"{path}.quantity", line.quantity)
    checks.positive(f"{path}.quantity", line.quantity)
    checks.text(f"{path}.unit", line.unit, required=True, limit=40)
    checks.positive(f"{path}.fair_value", line.fair_value)
    checks.currency(f"{path}.fair_value_currency", line.fair_value_currency)
    if line.fair_value is not None:
        checks.required(f"{path}.fair_value_currency", line.fair_value_currency)
        checks.text(f"{path}.valuation_method", line.valuation_method, required=True, limit=500)
    elif line.fair_value_currency is not None:
        checks.fail(f"{path}.fair_value_currency", NOT_ALLOWED, "Give a fair value first.")
