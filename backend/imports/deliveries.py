"""deliveries.csv: records the deliveries a spreadsheet lists against imported commitments.

Natural key: (commitment ref, key), the key becoming the delivery's idempotency key. Each
new row is recorded through the services (`deliveries.record_imported`: the checks, rate,
audit and feed event of a reported delivery, also against a commitment that closed since),
then confirmed or disputed as its status says.
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.csv_columns import DELIVERY_COLUMNS
from backend.db import SessionFactory
from backend.errors import DUPLICATE, NOT_ALLOWED, REQUIRED
from backend.imports import compare, csvfile, pinned, references
from backend.imports.compare import View
from backend.imports.outcome import Outcome
from backend.imports.runner import Progress, Row, Run, each_line, run
from backend.services import commitments, deliveries

COLUMNS = csvfile.Columns(
    name="deliveries.csv",
    known=DELIVERY_COLUMNS,
    required=frozenset({"commitment", "key", "delivered_on"}),
)
FIELDS = {
    "in_kind_line_id": "in_kind_line",
    "receiving_organisation_id": "receiving_organisation",
    "reason": "dispute_reason",
}
# Worked out by the hub; compared only when the cell is given.
GIVEN_ONLY = (
    "amount_usd",
    "usd_rate",
    "usd_rate_date",
    "usd_rate_source",
    "unit",
    "in_kind_value_usd",
)
# The exporting hub's own record of who and when: the hub that imports records that the
# import reported (and reviewed) the delivery, now.
NOT_COMPARED = {"commitment", "key", "reported_by", "reviewed_by", "reviewed_at", "created_at"}
Status = models.DeliveryStatus


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
        each_line("Deliveries", lambda importing, row: _import(importing, row, keys)),
        fields=FIELDS,
        dry_run=dry_run,
        progress=progress,
        rate_window_days=rate_window_days,
    )


async def _import(run: Run, row: Row, keys: dict[tuple[str, str], int]) -> None:
    cells = row.cells
    ref, key = cells.text("commitment"), cells.text("key")
    if ref is None:
        row.fail("commitment", REQUIRED, "The ref of the commitment delivered against.")
    if key is None:
        row.fail("key", REQUIRED, "Every delivery needs its key: the import's natural key.")
    delivered_on = cells.date("delivered_on")
    if delivered_on is None and cells.text("delivered_on") is None:
        row.fail("delivered_on", REQUIRED, "This field is required.")
    commitment = await references.commitment(run, row, "commitment", ref) if ref else None
    if ref is not None and key is not None:
        if (ref, key) in keys:
            row.fail("key", DUPLICATE, f"Line {keys[ref, key]} has the same commitment and key.")
            return
        keys[ref, key] = row.line.number
    if commitment is None or commitment.id is None:
        return
    status = cells.member("status", Status) or Status.REPORTED
    reason = cells.text("dispute_reason")
    receiver_key = cells.text("receiving_organisation")
    receiver = None
    if receiver_key is not None:
        receiver = await references.organisation(run, row, "receiving_organisation", receiver_key)
    lines = await commitments.in_kind_lines(run.session, commitment_ids=[commitment.id])
    position = cells.integer("in_kind_line")
    line = None
    if position is not None:
        if 0 <= position < len(lines):
            line = lines[position]
        else:
            row.fail(
                "in_kind_line", references.NOT_FOUND, f"{commitment.ref} has no line {position}."
            )
    share = cells.decimal("beneficiary_share")
    draft = deliveries.DeliveryDraft(
        # Without its day the rest of the row is still checked, as of today.
        delivered_on=delivered_on or dt.date.today(),
        amount=cells.decimal("amount"),
        currency=cells.text("currency"),
        in_kind_line_id=line.id if line else None,
        quantity=cells.decimal("quantity"),
        country=cells.text("country"),
        receiving_organisation_id=receiver.id if receiver else None,
        beneficiaries=cells.integer("beneficiaries"),
        beneficiary_share=share,
        evidence_url=cells.text("evidence_url"),
        note=cells.text("note"),
    )
    given = _given(row, draft, delivered_on, position, receiver, status, reason)
    existing = None
    if key is not None:
        existing = await deliveries.find(
            run.session, run.actor, commitment_id=commitment.id, idempotency_key=key
        )
    if existing is not None:
        row.add(compare.differences(given, await view(run.session, existing), existing=True))
        if row.ok:
            run.unchanged()
        return
    if reason is not None and status is not Status.DISPUTED:
        row.fail("dispute_reason", NOT_ALLOWED, "Only a DISPUTED delivery has a dispute reason.")
    if key is None:
        return
    rate = pinned.Pinned(
        cells.decimal("usd_rate"), cells.date("usd_rate_date"), cells.text("usd_rate_source")
    )
    await pinned.publish_missing(run, row, currency=draft.currency, pinned=rate)
    delivery = await deliveries.record_imported(
        run.session,
        run.actor,
        commitment_id=commitment.id,
        draft=draft,
        idempotency_key=key,
        rate_window_days=run.rate_window_days,
    )
    delivery_id = delivery.id
    assert delivery_id is not None
    if status is Status.CONFIRMED:
        delivery = await deliveries.confirm(run.session, run.actor, delivery_id=delivery_id)
    elif status is Status.DISPUTED:
        delivery = await deliveries.dispute(
            run.session, run.actor, delivery_id=delivery_id, reason=reason or ""
        )
    row.add(compare.differences(given, await view(run.session, delivery), existing=False))
    if row.ok:
        run.created(
            f"delivery {key} of {commitment.ref} ({delivery.status.value}), line {row.line.number}"
        )


def _given(
    row: Row,
    draft: deliveries.DeliveryDraft,
    delivered_on: dt.date | None,
    position: int | None,
    receiver: models.Organisation | None,
    status: models.DeliveryStatus,
    reason: str | None,
) -> View:
    cells = row.cells
    values: dict[str, Any] = {
        "delivered_on": delivered_on,
        "amount": draft.amount,
        "currency": draft.currency,
        "amount_usd": cells.decimal("amount_usd"),
        "usd_rate": cells.decimal("usd_rate"),
        "usd_rate_date": cells.date("usd_rate_date"),
        "usd_rate_source": cells.text("usd_rate_source"),
        "in_kind_line": position,
        "quantity": draft.quantity,
        "unit": cells.text("unit"),
        "in_kind_value_usd": cells.decimal("in_kind_value_usd"),
        "country": draft.country,
        "receiving_organisation": references.organisation_ref(receiver),
        "beneficiaries": draft.beneficiaries,
        "beneficiary_share": draft.beneficiary_share,
        "evidence_url": draft.evidence_url,
        "note": draft.note,
        "status": status,
        "dispute_reason": reason,
    }
    given: View = {}
    for column in row.line.cells:
        if column in NOT_COMPARED:
            continue
        if column in GIVEN_ONLY and row.line.value(column) is None:
            continue
        given[column] = values[column]
    return given


async def view(session: AsyncSession, delivery: models.Delivery) -> View:
    """A delivery as the columns of deliveries.csv name its values."""
    position = None
    if delivery.in_kind_line_id is not None:
        line = await session.get(models.InKindLine, delivery.in_kind_line_id)
        position = line.position if line else None
    receiver = None
    if delivery.receiving_organisation_id is not None:
        receiver = await session.get(models.Organisation, delivery.receiving_organisation_id)
    share = delivery.beneficiary_share_bp
    columns = (
        "delivered_on",
        "amount",
        "currency",
        "amount_usd",
        "usd_rate",
        "usd_rate_date",
        "usd_rate_source",
        "quantity",
        "unit",
        "in_kind_value_usd",
        "country",
        "beneficiaries",
        "evidence_url",
        "note",
        "status",
        "dispute_reason",
    )
    return {
        "in_kind_line": position,
        "receiving_organisation": references.organisation_ref(receiver),
        "beneficiary_share": None if share is None else Decimal(share) / 100,
        **{column: getattr(delivery, column) for column in columns},
    }
