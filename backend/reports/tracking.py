"""Delivery tracking: what is overdue, going stale or over-delivered, judged on a day.

Tracking looks at the commitments *on the books* on the scope's as-of day (`judged_on`:
the period's end, or today): listed to the reader, in the scope's coalitions, not withdrawn
or cancelled, dated (`valued_on`) no later than the period's end. The period's start does
not apply — a commitment made before the period is still overdue or stale in it.

A *report* on a commitment is a delivery (any status: a disputed one was reported all the
same), its last stage change or delivery recorded (`last_progress_at`), or the day it was
recorded. Reports dated after the as-of day are not counted, so a past as-of day shows what
the rows say was known then.
"""

import dataclasses
import datetime as dt
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.reports.scope import Scope, in_scope
from backend.reports.sql import Latest, UtcDate

OPEN_STAGES = (models.Stage.PLEDGED, models.Stage.COMMITTED, models.Stage.IN_DELIVERY)

# The UN SDG Partnerships Platform's traffic light: a year without a report turns yellow,
# two turn red.
YELLOW_AFTER_DAYS = 365
RED_AFTER_DAYS = 730

T = TypeVar("T")


class Staleness(StrEnum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"


@dataclasses.dataclass(frozen=True)
class Listing(Generic[T]):
    """The first rows of a list and how many there are in all."""

    rows: list[T]
    total: int


def deliveries() -> Any:
    return models.table_of(models.Delivery)


def on_books(scope: Scope, commitment: Any, *, closed: bool = False) -> sa.ColumnElement[bool]:
    """The commitments tracking judges (withdrawn and cancelled ones only when `closed`)."""
    return in_scope(dataclasses.replace(scope, period_from=None), commitment, closed=closed)


def green_from(as_of: dt.date) -> dt.date:
    """The first day a report keeps a commitment green on `as_of` (less than a year ago)."""
    return as_of - dt.timedelta(days=YELLOW_AFTER_DAYS - 1)


def yellow_from(as_of: dt.date) -> dt.date:
    """The first day a report keeps it from red (less than two years ago)."""
    return as_of - dt.timedelta(days=RED_AFTER_DAYS - 1)


def colour_of(last_report: Any, as_of: dt.date) -> sa.ColumnElement[Any]:
    """The colour of a last report day, in SQL."""
    return sa.case(
        (last_report >= green_from(as_of), Staleness.GREEN.value),
        (last_report >= yellow_from(as_of), Staleness.YELLOW.value),
        else_=Staleness.RED.value,
    )


def is_colour(last_report: Any, as_of: dt.date, colour: Staleness | None) -> Any:
    """Whether a last report day has `colour` (None: stale, yellow or red)."""
    if colour is Staleness.GREEN:
        return last_report >= green_from(as_of)
    if colour is Staleness.RED:
        return last_report < yellow_from(as_of)
    if colour is Staleness.YELLOW:
        return sa.and_(last_report >= yellow_from(as_of), last_report < green_from(as_of))
    return last_report < green_from(as_of)


def midnight(day: dt.date) -> dt.datetime:
    """The instant a UTC day begins: comparing a timestamp with it is the same as comparing
    its UTC day, without converting every row."""
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def reported_since(created_at: Any, progress_at: Any, day: dt.date, as_of: dt.date) -> Any:
    """Whether a commitment's own row (or the latest of some: `created_at`, `progress_at`
    are instants) shows a report on or after `day`: recorded then, or progress up to
    `as_of`. Never null, so it can be negated."""
    since = midnight(day)
    return sa.or_(
        created_at >= since,
        sa.and_(progress_at.is_not(None), progress_at >= since, progress_at < _day_after(as_of)),
    )


def own_report_day(created_at: Any, progress_at: Any, as_of: dt.date) -> Any:
    """The UTC day of the latest of those reports."""
    return Latest(UtcDate(created_at), UtcDate(counted_progress(progress_at, as_of)))


def counted_progress(progress_at: Any, as_of: dt.date) -> Any:
    """`last_progress_at` when it is no later than the as-of day, else null."""
    return sa.case((progress_at < _day_after(as_of), progress_at), else_=None)


def last_delivery_day(commitment_ids: Any, as_of: dt.date, since: dt.date | None = None) -> Any:
    """The latest delivery day (`since` ..) `as_of` of some commitments — one id, or a
    select of them — or null: a scalar subquery, so the database probes the deliveries
    index only for the rows that reach it."""
    delivery = deliveries()
    if isinstance(commitment_ids, sa.Select):
        of = delivery.c.commitment_id.in_(commitment_ids)
    else:
        of = delivery.c.commitment_id == commitment_ids
    conditions = [of, delivery.c.delivered_on <= as_of]
    if since is not None:
        conditions.append(delivery.c.delivered_on >= since)
    return sa.select(sa.func.max(delivery.c.delivered_on)).where(*conditions).scalar_subquery()


def colour_by_probes(
    own_since: Callable[[dt.date], Any], commitment_ids: Any, as_of: dt.date
) -> Any:
    """The colour of rows whose own dates show a report since a day (`own_since(day)`),
    reading deliveries only for the rows those dates leave in doubt: CASE stops at the
    first branch that holds."""

    def delivered_since(day: dt.date) -> Any:
        return last_delivery_day(commitment_ids, as_of, since=day).is_not(None)

    return sa.case(
        (own_since(green_from(as_of)), Staleness.GREEN.value),
        (delivered_since(green_from(as_of)), Staleness.GREEN.value),
        (own_since(yellow_from(as_of)), Staleness.YELLOW.value),
        (delivered_since(yellow_from(as_of)), Staleness.YELLOW.value),
        else_=Staleness.RED.value,
    )


def _day_after(as_of: dt.date) -> dt.datetime:
    return midnight(as_of + dt.timedelta(days=1))


def first_of(ranked: sa.Select[Any], *order: Any, first: int) -> Any:
    """The first rows of `ranked` by `order`, each with `total`: how many rows it has (the
    window is counted before the limit, in the same statement)."""
    return (
        ranked.add_columns(sa.func.count().over().label("total"))
        .order_by(*order)
        .limit(first)
        .subquery("page")
    )


async def listing(
    session: AsyncSession,
    statement: sa.Select[Any],
    *,
    ranked: sa.Select[Any],
    first: int,
    row: Callable[[sa.Row[Any]], T],
) -> Listing[T]:
    """Run `statement` (the page, with a `total` column) into a Listing; with `first` 0
    only the rows of `ranked` are counted."""
    if first == 0:
        total = await session.scalar(sa.select(sa.func.count()).select_from(ranked.subquery()))
        return Listing(rows=[], total=total or 0)
    rows = (await session.execute(statement)).all()
    return Listing(rows=[row(found) for found in rows], total=rows[0].total if rows else 0)
