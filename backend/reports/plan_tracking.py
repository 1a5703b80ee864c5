"""Visibility plans the secretariat follows up: open commitments worth their coalition's
threshold or more that have no plan, and communication actions still PLANNED after their
day — both judged on the scope's as-of day, each one SQL statement.

A commitment's value is what the dashboard's figures add up for it: its cash in US dollars
(`amount_usd`) plus its in-kind lines' fair values in US dollars; money with no rate adds
nothing (it is listed as unconverted elsewhere). Plans and actions are read as they are
now: neither keeps a history to judge a past day by.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.models.base import Money
from backend.reports.facts import line_values
from backend.reports.scope import Scope, commitments
from backend.reports.sql import DaysBetween, Units, from_units
from backend.reports.tracking import OPEN_STAGES, Listing, first_of, listing, on_books


@dataclass(frozen=True)
class Unplanned:
    commitment: models.Commitment
    value_usd: Decimal
    # The coalition's threshold the value was judged against.
    threshold_usd: Decimal


@dataclass(frozen=True)
class OverdueAction:
    action: models.CommunicationAction
    plan: models.VisibilityPlan
    # The plan's subject: exactly one of them.
    commitment: models.Commitment | None
    workstream: models.Workstream | None
    days_overdue: int


def threshold_units(coalition: Any) -> Any:
    """A coalition's visibility plan threshold in 10^-4 USD units, the default when unset."""
    default = sa.literal(models.VISIBILITY_PLAN_THRESHOLD_USD, Money())
    return Units(sa.func.coalesce(coalition.c.visibility_plan_threshold_usd, default))


async def unplanned(session: AsyncSession, scope: Scope, *, first: int) -> Listing[Unplanned]:
    """Open commitments on the books whose value reaches their coalition's threshold and that
    have no plan, the most valuable first. Commitments whose amounts the reader may not see
    are not judged (the listing would tell their value)."""
    commitment = commitments()
    coalition = models.table_of(models.Coalition)
    plan = models.table_of(models.VisibilityPlan)
    values = line_values(scope)
    value = Units(sa.func.coalesce(commitment.c.amount_usd, 0)) + sa.func.coalesce(
        Units(values.c.value), 0
    )
    threshold = threshold_units(coalition)
    has_plan = sa.exists().where(plan.c.commitment_id == commitment.c.id)
    ranked = (
        sa.select(commitment.c.id, value.label("value_units"), threshold.label("threshold_units"))
        .select_from(
            commitment.join(coalition, coalition.c.id == commitment.c.coalition_id).outerjoin(
                values, values.c.commitment_id == commitment.c.id
            )
        )
        .where(
            on_books(scope, commitment),
            scope.amounts_shown(commitment),
            commitment.c.stage.in_(OPEN_STAGES),
            value >= threshold,
            sa.not_(has_plan),
        )
    )
    page = first_of(ranked, value.desc(), commitment.c.id, first=first)
    model = models.Commitment
    statement = (
        sa.select(model, page.c.total, page.c.value_units, page.c.threshold_units)
        .join(page, page.c.id == model.id)  # type: ignore[arg-type]
        .order_by(page.c.value_units.desc(), page.c.id)
    )
    return await listing(
        session,
        statement,
        ranked=ranked,
        first=first,
        row=lambda found: Unplanned(
            found.Commitment, from_units(found.value_units), from_units(found.threshold_units)
        ),
    )


async def overdue_actions(
    session: AsyncSession, scope: Scope, *, first: int
) -> Listing[OverdueAction]:
    """Actions still PLANNED whose planned day is before the as-of day, of plans in the
    scope's coalitions (a commitment's plan only while the reader may list the commitment
    and it is on the books), the most overdue first."""
    as_of = scope.judged_on
    action = models.table_of(models.CommunicationAction)
    plan = models.table_of(models.VisibilityPlan)
    commitment = commitments()
    conditions = [
        action.c.status == models.ActionStatus.PLANNED,
        action.c.planned_on < as_of,
        sa.or_(plan.c.commitment_id.is_(None), on_books(scope, commitment)),
    ]
    if scope.coalition_ids is not None:
        conditions.append(plan.c.coalition_id.in_(list(scope.coalition_ids)))
    ranked = (
        sa.select(action.c.id, action.c.planned_on)
        .select_from(
            action.join(plan, plan.c.id == action.c.plan_id).outerjoin(
                commitment, commitment.c.id == plan.c.commitment_id
            )
        )
        .where(*conditions)
    )
    page = first_of(ranked, action.c.planned_on, action.c.id, first=first)
    statement = (
        sa.select(
            models.CommunicationAction,
            models.VisibilityPlan,
            models.Commitment,
            models.Workstream,
            page.c.total,
            DaysBetween(as_of, page.c.planned_on).label("days_overdue"),
        )
        .select_from(models.CommunicationAction)
        .join(page, page.c.id == models.CommunicationAction.id)  # type: ignore[arg-type]
        .join(
            models.VisibilityPlan,
            models.VisibilityPlan.id == models.CommunicationAction.plan_id,  # type: ignore[arg-type]
        )
        .outerjoin(
            models.Commitment,
            models.Commitment.id == models.VisibilityPlan.commitment_id,  # type: ignore[arg-type]
        )
        .outerjoin(
            models.Workstream,
            models.Workstream.id == models.VisibilityPlan.workstream_id,  # type: ignore[arg-type]
        )
        .order_by(page.c.planned_on, page.c.id)
    )
    return await listing(
        session,
        statement,
        ranked=ranked,
        first=first,
        row=lambda found: OverdueAction(
            found.CommunicationAction,
            found.VisibilityPlan,
            found.Commitment,
            found.Workstream,
            found.days_overdue,
        ),
    )
