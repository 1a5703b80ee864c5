"""Over-delivery: more delivered than promised, flagged and never capped.

A firm commitment (COMMITTED, IN_DELIVERY, FULFILLED) on the books is over-delivered in
cash when its REPORTED and CONFIRMED cash deliveries up to the as-of day add up to more US
dollars than its `amount_usd`; an in-kind line of one is over-delivered when its deliveries'
quantity exceeds the line's. Cash is judged only where the reader may see the commitment's
amounts (the flag would tell how two hidden figures compare); quantities are never hidden.
Deliveries without a USD figure (unconverted) are left out of the cash sum.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.reports.scope import FIRM_STAGES, Scope, commitments
from backend.reports.sql import Ratio
from backend.reports.tracking import Listing, deliveries, first_of, listing, on_books

RATIO_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class OverDelivery:
    commitment: models.Commitment
    # The in-kind line delivered beyond its quantity; None: the cash part, in USD.
    line: models.InKindLine | None
    promised: Decimal
    delivered: Decimal

    @property
    def ratio(self) -> Decimal | None:
        """Delivered over promised, four places (None for a promise of zero)."""
        if not self.promised:
            return None
        return (self.delivered / self.promised).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


async def over_delivered(
    session: AsyncSession, scope: Scope, *, first: int
) -> Listing[OverDelivery]:
    """Over-delivered cash parts and in-kind lines, the most over (by ratio) first."""
    as_of = scope.judged_on
    delivery = deliveries()
    commitment = commitments()
    line = models.table_of(models.InKindLine)
    # One pass over the deliveries: per commitment, its cash (line null) and each line.
    totals = (
        sa.select(
            delivery.c.commitment_id,
            delivery.c.in_kind_line_id,
            sa.func.sum(delivery.c.amount_usd).label("cash"),
            sa.func.sum(delivery.c.quantity).label("quantity"),
        )
        .where(
            delivery.c.status != models.DeliveryStatus.DISPUTED,
            delivery.c.delivered_on <= as_of,
        )
        .group_by(delivery.c.commitment_id, delivery.c.in_kind_line_id)
        .subquery("totals")
    )
    cash_part = totals.c.in_kind_line_id.is_(None)
    promised = sa.case((cash_part, commitment.c.amount_usd), else_=line.c.quantity)
    delivered = sa.case((cash_part, totals.c.cash), else_=totals.c.quantity)
    ratio = Ratio(delivered, promised).label("ratio")
    ranked = (
        sa.select(
            commitment.c.id,
            totals.c.in_kind_line_id.label("line_id"),
            promised.label("promised"),
            delivered.label("delivered"),
            ratio,
        )
        .select_from(totals)
        .join(commitment, commitment.c.id == totals.c.commitment_id)
        .outerjoin(line, line.c.id == totals.c.in_kind_line_id)
        .where(
            on_books(scope, commitment),
            commitment.c.stage.in_(FIRM_STAGES),
            sa.or_(
                sa.and_(
                    cash_part,
                    scope.amounts_shown(commitment),
                    totals.c.cash > commitment.c.amount_usd,
                ),
                sa.and_(~cash_part, totals.c.quantity > line.c.quantity),
            ),
        )
    )
    page = first_of(
        ranked,
        ratio.desc().nulls_first(),
        commitment.c.id,
        totals.c.in_kind_line_id.nulls_first(),
        first=first,
    )
    model, line_model = models.Commitment, models.InKindLine
    statement = (
        sa.select(model, line_model, page.c.promised, page.c.delivered, page.c.total)
        .join(page, page.c.id == model.id)  # type: ignore[arg-type]
        .outerjoin(line_model, line_model.id == page.c.line_id)  # type: ignore[arg-type]
        .order_by(page.c.ratio.desc().nulls_first(), page.c.id, page.c.line_id.nulls_first())
    )
    return await listing(
        session,
        statement,
        ranked=ranked,
        first=first,
        row=lambda found: OverDelivery(
            found.Commitment, found.InKindLine, found.promised, found.delivered
        ),
    )
