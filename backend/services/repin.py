"""Re-pinning: money rows recorded while no usable rate existed (unconverted) get the rate
that has been published since, by the same rule as when they were recorded.

Rows already pinned are never touched: the selection takes only rows whose USD column is
null, and locks them (FOR UPDATE on PostgreSQL; SQLite's single writer refuses a write
from a read snapshot someone else has overtaken), so a concurrent write cannot be undone.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.actors import Actor
from backend.services import access, audit, commitments, deliveries, fx
from backend.services.rate_table import RateTable


@dataclass(frozen=True)
class Repinned:
    """What a run pinned, and what is still unconverted (no usable rate yet), per kind."""

    commitments: int = 0
    in_kind_lines: int = 0
    deliveries: int = 0
    # In-kind deliveries of a line that was just valued: they take their share of it.
    in_kind_deliveries: int = 0
    still_unconverted: dict[str, int] = field(default_factory=dict)
    # Currencies of the rows still unconverted.
    missing_currencies: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.commitments + self.in_kind_lines + self.deliveries + self.in_kind_deliveries


async def repin(
    session: AsyncSession, actor: Actor, *, window_days: int = fx.DEFAULT_WINDOW_DAYS
) -> Repinned:
    """Pin a rate on every unconverted commitment, valued in-kind line and cash delivery
    that has a usable one now (its day's rate, or the nearest earlier within
    `window_days`), with an audit record for each row changed. The caller commits (or, for
    a dry run, rolls back)."""
    access.require_secretariat_admin(actor)
    commitment, line, delivery = models.Commitment, models.InKindLine, models.Delivery
    open_commitments = list(
        await session.scalars(
            sa.select(commitment)
            .where(
                col(commitment.amount).is_not(None),
                col(commitment.currency).is_not(None),
                col(commitment.amount_usd).is_(None),
            )
            .order_by(col(commitment.id))
            .with_for_update()
        )
    )
    open_lines = list(
        await session.execute(
            sa.select(line, col(commitment.value_date), col(commitment.created_at))
            .join(commitment, col(commitment.id) == col(line.commitment_id))
            .where(
                col(line.fair_value).is_not(None),
                col(line.fair_value_currency).is_not(None),
                col(line.fair_value_usd).is_(None),
            )
            .order_by(col(line.id))
            .with_for_update(of=models.table_of(line))
        )
    )
    open_deliveries = list(
        await session.scalars(
            sa.select(delivery)
            .where(
                col(delivery.amount).is_not(None),
                col(delivery.currency).is_not(None),
                col(delivery.amount_usd).is_(None),
            )
            .order_by(col(delivery.id))
            .with_for_update()
        )
    )
    currencies = {row.currency for row in open_commitments}
    currencies |= {row.fair_value_currency for row, *_ in open_lines}
    currencies |= {row.currency for row in open_deliveries}
    pins = _Pins(
        session,
        actor,
        await RateTable.load(session, currencies={code for code in currencies if code}),
        window_days,
    )
    for row in open_commitments:
        await pins.pin(row, commitments.valued_on(row), "commitments", "amount", "amount_usd")
    valued_lines = []
    for line_row, value_date, created_at in open_lines:
        # The commitment's day, as commitments.valued_on.
        on = value_date or created_at.date()
        if await pins.pin(line_row, on, "in_kind_lines", "fair_value", "fair_value_usd"):
            valued_lines.append(line_row)
    for delivery_row in open_deliveries:
        await pins.pin(
            delivery_row, delivery_row.delivered_on, "deliveries", "amount", "amount_usd"
        )
    in_kind_deliveries = await _value_in_kind_deliveries(session, actor, valued_lines, pins.now)
    return Repinned(
        commitments=pins.pinned["commitments"],
        in_kind_lines=pins.pinned["in_kind_lines"],
        deliveries=pins.pinned["deliveries"],
        in_kind_deliveries=in_kind_deliveries,
        still_unconverted={
            kind: pins.left[kind] for kind in ("commitments", "in_kind_lines", "deliveries")
        },
        missing_currencies=sorted(pins.missing),
    )


_ACTIONS = {
    "commitments": "commitment.rate_pinned",
    "in_kind_lines": "in_kind_line.rate_pinned",
    "deliveries": "delivery.rate_pinned",
}


class _Pins:
    """Pins rows one by one from a rate table, counting what it pinned and what it could not."""

    def __init__(
        self, session: AsyncSession, actor: Actor, table: RateTable, window_days: int
    ) -> None:
        self.session, self.actor, self.table, self.window_days = session, actor, table, window_days
        self.now = models.utcnow()
        self.pinned: Counter[str] = Counter()
        self.left: Counter[str] = Counter()
        self.missing: set[str] = set()

    async def pin(self, row: Any, on: dt.date, kind: str, amount: str, amount_usd: str) -> bool:
        currency = row.fair_value_currency if kind == "in_kind_lines" else row.currency
        rate = self.table.rate_on(currency=currency, on=on, window_days=self.window_days)
        if rate is None:
            self.left[kind] += 1
            self.missing.add(currency)
            return False
        before = audit.snapshot(row)
        fx.apply(row, rate, amount=amount, amount_usd=amount_usd)
        if hasattr(row, "updated_at"):
            row.updated_at = self.now
        await audit.record(
            self.session, self.actor, action=_ACTIONS[kind], entity=row, before=before
        )
        self.pinned[kind] += 1
        return True


async def _value_in_kind_deliveries(
    session: AsyncSession, actor: Actor, lines: list[models.InKindLine], now: dt.datetime
) -> int:
    """Deliveries drawing down a line that has just been valued had no USD value (their
    line had none when they were reported): they get their share of it now."""
    if not lines:
        return 0
    by_id = {line.id: line for line in lines}
    delivery = models.Delivery
    found = await session.scalars(
        sa.select(delivery)
        .where(
            col(delivery.in_kind_line_id).in_(list(by_id)),
            col(delivery.quantity).is_not(None),
            col(delivery.in_kind_value_usd).is_(None),
        )
        .order_by(col(delivery.id))
        .with_for_update()
    )
    valued = 0
    for row in found:
        assert row.quantity is not None and row.in_kind_line_id is not None
        before = audit.snapshot(row)
        row.in_kind_value_usd = deliveries.in_kind_value(by_id[row.in_kind_line_id], row.quantity)
        row.updated_at = now
        await audit.record(
            session, actor, action="delivery.in_kind_valued", entity=row, before=before
        )
        valued += 1
    return valued
