"""The secretariat's CSV exports: organisations.csv, commitments.csv and deliveries.csv.

Read with SQLAlchemy Core (no ORM object per row), in batches (backend.reports.streaming),
and encoded batch by batch: each export is an async iterator of UTF-8 chunks, the header
first, so 100,000 rows never sit in memory. The files are the record, lossless enough for
`coalition-hub import` to rebuild the same figures: exact decimals, pinned rates, every
in-kind line, withdrawn and cancelled commitments with their stage.

Amounts the scope's reader may not see (`Scope.amounts_shown`) are left empty; the
secretariat, the exports' only reader today, sees every amount.
"""

import itertools
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from backend import models
from backend.csv_columns import (
    COMMITMENT_COLUMNS,
    DELIVERY_COLUMNS,
    LINE_FIELDS,
    ORGANISATION_COLUMNS,
)
from backend.reports import csv_format as cell
from backend.reports.filters import Selection, matching
from backend.reports.scope import Scope, commitments, in_scope
from backend.reports.streaming import BATCH, batches


def _organisations() -> Any:
    return models.table_of(models.Organisation)


def _key(organisation: Any) -> sa.ColumnElement[Any]:
    """How the files name an organisation: its IATI identifier, else its name."""
    return sa.func.coalesce(organisation.c.iati_identifier, organisation.c.name)


async def organisations_csv(
    connection: AsyncConnection, scope: Scope, selection: Selection, *, batch: int = BATCH
) -> AsyncIterator[bytes]:
    """Every organisation, or with coalitions in the scope those taking part in them: a
    membership (any status), a commitment, a delivery received, or hosting one — every
    organisation the coalition's commitments.csv and deliveries.csv name."""
    organisation = _organisations()
    conditions: list[sa.ColumnElement[bool]] = []
    if scope.coalition_ids is not None:
        conditions.append(organisation.c.id.in_(_taking_part(scope)))
    if selection.organisation_ids is not None:
        conditions.append(organisation.c.id.in_(selection.organisation_ids))
    if selection.organisation_type is not None:
        conditions.append(organisation.c.organisation_type == selection.organisation_type)

    def pages(after: Any, limit: int | None) -> sa.Select[Any]:
        statement = sa.select(organisation).where(*conditions).order_by(organisation.c.id)
        if after is not None:
            statement = statement.where(organisation.c.id > after)
        return statement.limit(limit) if limit is not None else statement

    encoder = cell.Encoder()
    yield encoder.encode([ORGANISATION_COLUMNS])
    async for rows in batches(connection, pages, key=lambda row: row.id, batch=batch):
        yield encoder.encode(
            [
                cell.text(row.iati_identifier),
                cell.text(row.name),
                cell.text(row.acronym),
                cell.text(row.organisation_type),
                cell.text(row.hub_category),
                cell.text(row.country),
                cell.text(row.website),
                cell.text(row.description),
            ]
            for row in rows
        )


def _taking_part(scope: Scope) -> sa.CompoundSelect[Any]:
    ids = list(scope.coalition_ids or ())
    membership = models.table_of(models.Membership)
    coalition = models.table_of(models.Coalition)
    delivery = models.table_of(models.Delivery)
    commitment = commitments()
    listed = sa.and_(commitment.c.coalition_id.in_(ids), scope.listed(commitment))
    return sa.union(
        sa.select(membership.c.organisation_id).where(membership.c.coalition_id.in_(ids)),
        sa.select(coalition.c.host_organisation_id).where(coalition.c.id.in_(ids)),
        sa.select(commitment.c.organisation_id).where(listed),
        sa.select(delivery.c.receiving_organisation_id)
        .join(commitment, commitment.c.id == delivery.c.commitment_id)
        .where(listed),
    )


async def commitments_csv(
    connection: AsyncConnection, scope: Scope, selection: Selection, *, batch: int = BATCH
) -> AsyncIterator[bytes]:
    """One row per commitment of the scope matching the selection, withdrawn and cancelled
    ones included (with their stage), in the order they were recorded."""
    commitment = commitments()
    chosen = commitment.alias("chosen")
    channel = commitment.alias("channel")
    coalition = models.table_of(models.Coalition)
    workstream = models.table_of(models.Workstream)
    organisation = _organisations()
    line = models.table_of(models.InKindLine)
    columns = [
        commitment.c.id,
        commitment.c.ref,
        coalition.c.slug.label("coalition"),
        workstream.c.name.label("workstream"),
        _key(organisation).label("organisation"),
        organisation.c.country.label("organisation_country"),
        *(
            commitment.c[name]
            for name in COMMITMENT_COLUMNS
            if name in commitment.c and name not in ("ref", "funded_through")
        ),
        channel.c.ref.label("funded_through"),
        scope.amounts_shown(commitment).label("amounts_shown"),
        line.c.position.label("line_position"),
        *(line.c[name].label(f"line_{name}") for name in LINE_FIELDS),
    ]
    joined = (
        commitment.join(coalition, coalition.c.id == commitment.c.coalition_id)
        .join(organisation, organisation.c.id == commitment.c.organisation_id)
        .outerjoin(workstream, workstream.c.id == commitment.c.workstream_id)
        .outerjoin(channel, channel.c.id == commitment.c.funded_through_id)
        .outerjoin(line, line.c.commitment_id == commitment.c.id)
    )

    def pages(after: Any, limit: int | None) -> sa.Select[Any]:
        statement = (
            sa.select(*columns).select_from(joined).order_by(commitment.c.id, line.c.position)
        )
        if limit is None:
            return statement.where(in_scope(scope, commitment, closed=True)).where(
                matching(selection, commitment)
            )
        # A page of commitments, whatever number of lines each has.
        page = (
            sa.select(chosen.c.id)
            .where(in_scope(scope, chosen, closed=True), matching(selection, chosen))
            .order_by(chosen.c.id)
            .limit(limit)
        )
        if after is not None:
            page = page.where(chosen.c.id > after)
        return statement.where(commitment.c.id.in_(page))

    encoder = cell.Encoder()
    yield encoder.encode([COMMITMENT_COLUMNS])
    async for rows in batches(connection, pages, key=lambda row: row.id, batch=batch):
        # A commitment's rows, one per in-kind line, come together in one batch.
        groups = (list(group) for _, group in itertools.groupby(rows, key=lambda row: row.id))
        yield encoder.encode(_commitment_record(group) for group in groups)


def _commitment_record(rows: Sequence[sa.Row[Any]]) -> list[str]:
    first = rows[0]
    shown = bool(first.amounts_shown)
    lines = [_line(row, shown) for row in rows if row.line_position is not None]
    return [
        cell.text(first.ref),
        cell.text(first.coalition),
        cell.text(first.workstream),
        cell.text(first.organisation),
        cell.text(first.organisation_country),
        cell.text(first.title),
        cell.text(first.description),
        cell.text(first.stage),
        cell.text(first.resource_kind),
        cell.decimal(first.amount if shown else None),
        cell.text(first.currency),
        cell.day(first.value_date),
        cell.text(first.earmarking),
        cell.decimal(first.usd_rate),
        cell.day(first.usd_rate_date),
        cell.text(first.usd_rate_source),
        cell.decimal(first.amount_usd if shown else None),
        json.dumps(lines, ensure_ascii=False, separators=(",", ":")) if lines else "",
        cell.decimal(_in_kind_value_usd(rows) if shown else None),
        cell.listed(first.countries),
        cell.listed(first.sdg_targets),
        cell.listed(first.sectors),
        cell.day(first.start_date),
        cell.day(first.end_date),
        cell.text(first.visibility),
        cell.instant(first.embargo_until),
        cell.text(first.funded_through),
        cell.text(first.closing_reason),
        cell.instant(first.last_progress_at),
        cell.instant(first.created_at),
    ]


def _line(row: sa.Row[Any], shown: bool) -> dict[str, Any]:
    """An in-kind line as JSON: decimals as strings (exact), dates ISO, empty as null."""
    hidden = () if shown else ("fair_value", "fair_value_usd")
    values: dict[str, Any] = {}
    for name in LINE_FIELDS:
        value = None if name in hidden else getattr(row, f"line_{name}")
        if isinstance(value, bool) or value is None:
            values[name] = value
        elif name in ("quantity", "fair_value", "fair_value_usd", "usd_rate"):
            values[name] = cell.decimal(value)
        elif name in ("free_until", "usd_rate_date"):
            values[name] = cell.day(value)
        else:
            values[name] = cell.text(value)
    return values


def _in_kind_value_usd(rows: Sequence[sa.Row[Any]]) -> Any:
    """The lines' USD value, for spreadsheets; unknown (empty) when no line is valued in
    USD or a valued line is unconverted, never a sum that silently leaves one out."""
    valued = [row for row in rows if row.line_fair_value is not None]
    if not valued or any(row.line_fair_value_usd is None for row in valued):
        return None
    return sum(row.line_fair_value_usd for row in valued)


async def deliveries_csv(
    connection: AsyncConnection, scope: Scope, selection: Selection, *, batch: int = BATCH
) -> AsyncIterator[bytes]:
    """One row per delivery against the commitments commitments.csv lists for the same
    scope and selection, made within the scope's period, every status included."""
    delivery = models.table_of(models.Delivery)
    commitment = commitments()
    line = models.table_of(models.InKindLine)
    receiver = _organisations().alias("receiver")
    conditions = [in_scope(scope, commitment, closed=True), matching(selection, commitment)]
    if scope.period_from is not None:
        conditions.append(delivery.c.delivered_on >= scope.period_from)
    if scope.period_to is not None:
        conditions.append(delivery.c.delivered_on <= scope.period_to)
    statement = (
        sa.select(
            delivery,
            commitment.c.ref.label("commitment_ref"),
            line.c.position.label("line_position"),
            _key(receiver).label("receiver"),
            scope.amounts_shown(commitment).label("amounts_shown"),
        )
        .select_from(
            delivery.join(commitment, commitment.c.id == delivery.c.commitment_id)
            .outerjoin(line, line.c.id == delivery.c.in_kind_line_id)
            .outerjoin(receiver, receiver.c.id == delivery.c.receiving_organisation_id)
        )
        .where(*conditions)
        .order_by(delivery.c.id)
    )

    def pages(after: Any, limit: int | None) -> sa.Select[Any]:
        page = statement.where(delivery.c.id > after) if after is not None else statement
        return page.limit(limit) if limit is not None else page

    encoder = cell.Encoder()
    yield encoder.encode([DELIVERY_COLUMNS])
    async for rows in batches(connection, pages, key=lambda row: row.id, batch=batch):
        yield encoder.encode(_delivery_record(row) for row in rows)


def _delivery_record(row: sa.Row[Any]) -> list[str]:
    shown = bool(row.amounts_shown)
    return [
        cell.text(row.commitment_ref),
        cell.text(row.idempotency_key or f"delivery-{row.id}"),
        cell.day(row.delivered_on),
        cell.decimal(row.amount if shown else None),
        cell.text(row.currency),
        cell.decimal(row.amount_usd if shown else None),
        cell.decimal(row.usd_rate),
        cell.day(row.usd_rate_date),
        cell.text(row.usd_rate_source),
        cell.text(row.line_position),
        cell.decimal(row.quantity),
        cell.text(row.unit),
        cell.decimal(row.in_kind_value_usd if shown else None),
        cell.text(row.country),
        cell.text(row.receiver),
        cell.text(row.beneficiaries),
        cell.percent(row.beneficiary_share_bp),
        cell.text(row.evidence_url),
        cell.text(row.note),
        cell.text(row.status),
        cell.text(row.reported_by),
        cell.text(row.reviewed_by),
        cell.instant(row.reviewed_at),
        cell.text(row.dispute_reason),
        cell.instant(row.created_at),
    ]


class Export(Protocol):
    def __call__(
        self, connection: AsyncConnection, scope: Scope, selection: Selection, *, batch: int = ...
    ) -> AsyncIterator[bytes]: ...


# Each export by the name of its file (without `.csv`).
EXPORTS: dict[str, Export] = {
    "organisations": organisations_csv,
    "commitments": commitments_csv,
    "deliveries": deliveries_csv,
}
