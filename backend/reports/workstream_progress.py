"""Each workstream's progress against its target, cumulative up to the as-of day.

Reach is the beneficiaries of the REPORTED and CONFIRMED deliveries (up to the as-of day)
of the workstream's commitments on the books, attributed by share: Σ beneficiaries x share
in basis points, then / 10000 rounded half up. Committed USD is the cash of its firm
commitments, delivered USD its cash deliveries; both follow the totals' rules — amounts the
reader may not see never enter (`withheld` counts those commitments), unconverted rows are
left out, and a pass-through commitment whose channel is on the books is counted at the
channel, not here.

On track: the share of the target reached is at least the share of the time elapsed
between the day the workstream was created and its target date (all of it once the date
has passed, none before it began) — reach x total days >= target x elapsed days, exactly.
Null without a target value above zero, a target date, or a target date after the day it
was created.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.reports.scope import FIRM_STAGES, Scope, commitments
from backend.reports.sql import DaysBetween, InMoneyUnits, UtcDate
from backend.reports.tracking import deliveries, on_books

FULL_SHARE_BP = 10_000
PERCENT_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class WorkstreamProgress:
    workstream: models.Workstream
    reach: int
    committed_usd: Decimal
    delivered_usd: Decimal
    withheld: int
    # Null without a target date; negative once it has passed.
    days_left: int | None
    on_track: bool | None

    @property
    def percent_of_target(self) -> Decimal | None:
        target = self.workstream.target_value
        if target is None or target <= 0:
            return None
        return (Decimal(self.reach) * 100 / target).quantize(PERCENT_PLACES, ROUND_HALF_UP)


async def workstream_progress(session: AsyncSession, scope: Scope) -> list[WorkstreamProgress]:
    """Every workstream of the scope's coalitions, by coalition and name."""
    as_of = scope.judged_on
    tracked = _tracked(scope)
    pledges = (
        sa.select(
            tracked.c.workstream_id,
            sa.func.sum(
                sa.case(
                    (
                        sa.and_(tracked.c.stage.in_(FIRM_STAGES), tracked.c.cash_counts),
                        tracked.c.amount_usd,
                    ),
                    else_=None,
                )
            ).label("committed_usd"),
            sa.func.count().filter(sa.not_(tracked.c.shown)).label("withheld"),
        )
        .group_by(tracked.c.workstream_id)
        .subquery("pledges")
    )
    delivery = deliveries()
    reach_bp = sa.cast(delivery.c.beneficiaries, sa.BigInteger) * sa.func.coalesce(
        delivery.c.beneficiary_share_bp, FULL_SHARE_BP
    )
    made = (
        sa.select(
            tracked.c.workstream_id,
            sa.func.sum(sa.case((tracked.c.cash_counts, delivery.c.amount_usd), else_=None)).label(
                "delivered_usd"
            ),
            # Whole people, half up, from the exact sum of beneficiaries x basis points.
            (
                (sa.cast(sa.func.sum(reach_bp), sa.BigInteger) + FULL_SHARE_BP // 2)
                // FULL_SHARE_BP
            ).label("reach"),
        )
        .select_from(delivery)
        .join(tracked, tracked.c.id == delivery.c.commitment_id)
        .where(
            delivery.c.status != models.DeliveryStatus.DISPUTED,
            delivery.c.delivered_on <= as_of,
        )
        .group_by(tracked.c.workstream_id)
        .subquery("made")
    )
    workstream = models.Workstream
    reach = sa.func.coalesce(made.c.reach, 0)
    statement = (
        sa.select(
            workstream,
            reach.label("reach"),
            sa.func.coalesce(pledges.c.committed_usd, 0).label("committed_usd"),
            sa.func.coalesce(made.c.delivered_usd, 0).label("delivered_usd"),
            sa.func.coalesce(pledges.c.withheld, 0).label("withheld"),
            DaysBetween(workstream.target_date, as_of).label("days_left"),
            _on_track(models.table_of(workstream), reach, as_of).label("on_track"),
        )
        .outerjoin(pledges, pledges.c.workstream_id == workstream.id)  # type: ignore[arg-type]
        .outerjoin(made, made.c.workstream_id == workstream.id)  # type: ignore[arg-type]
        .order_by(workstream.coalition_id, workstream.name, workstream.id)  # type: ignore[arg-type]
    )
    if scope.coalition_ids is not None:
        table = models.table_of(workstream)
        statement = statement.where(table.c.coalition_id.in_(list(scope.coalition_ids)))
    return [
        WorkstreamProgress(
            row.Workstream,
            row.reach,
            row.committed_usd,
            row.delivered_usd,
            row.withheld,
            row.days_left,
            row.on_track,
        )
        for row in await session.execute(statement)
    ]


def _tracked(scope: Scope) -> Any:
    """The commitments on the books with a workstream: whether the reader may see their
    amounts, and whether their cash counts here — not when it is pass-through money whose
    channel is on the books too (counted there, once)."""
    commitment = commitments()
    channel = commitments().alias("channel")
    shown = scope.amounts_shown(commitment)
    # Probed only for the few rows that pass money through (AND stops at the first false).
    passed_through = sa.and_(
        commitment.c.funded_through_id.is_not(None),
        sa.exists().where(channel.c.id == commitment.c.funded_through_id, on_books(scope, channel)),
    )
    return (
        sa.select(
            commitment.c.id,
            commitment.c.workstream_id,
            commitment.c.stage,
            commitment.c.amount_usd,
            shown.label("shown"),
            sa.and_(shown, ~passed_through).label("cash_counts"),
        )
        .where(on_books(scope, commitment), commitment.c.workstream_id.is_not(None))
        .subquery("tracked")
    )


def _on_track(workstream: Any, reach: Any, as_of: Any) -> Any:
    began = UtcDate(workstream.c.created_at)
    target_date = workstream.c.target_date
    total_days = DaysBetween(target_date, began)
    day = sa.literal(as_of, sa.Date())
    elapsed_days = sa.case(
        (day <= began, 0),
        (day >= target_date, total_days),
        else_=DaysBetween(day, began),
    )
    computable = sa.and_(
        workstream.c.target_value > 0, target_date.is_not(None), target_date > began
    )
    return sa.case(
        (
            computable,
            InMoneyUnits(reach * total_days) >= workstream.c.target_value * elapsed_days,
        ),
        else_=None,
    )
