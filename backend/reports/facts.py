"""The money facts every figure is summed from: each counted commitment once, with what the
reader may add up of it.

A counted commitment (`scope.in_scope`) enters figures in three parts — its cash, its in-kind
lines' values and its deliveries in the period — unless:

- the reader may not see its amounts (`withheld`): nothing of it enters a money figure or its
  reach; it is still counted;
- it passes its cash through another commitment that the reader's figures count
  (`passing`): its cash and cash deliveries are counted there, once; its in-kind part and
  its reach count here. A channel the reader's figures do not count (closed, outside the
  period, unlisted, or its amounts withheld) leaves the cash here, so money is never
  counted zero times either.

Money leaves the facts as integer counts of 10^-4 units on both databases (`Units`; SQLite
stores Money that way already), so every later sum and share is exact integer arithmetic.
"""

from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from backend import models
from backend.reports.scope import FIRM_STAGES, Scope, commitments, in_scope, valued_on
from backend.reports.sql import DaysBetween, JsonLength, Units

Stage = models.Stage
Status = models.DeliveryStatus
MULTI_YEAR_DAYS = 365
# The list columns figures are split over.
LISTS = ("countries", "sdg_targets")


class Duration(StrEnum):
    MULTI_YEAR = "MULTI_YEAR"
    UNDER_ONE_YEAR = "UNDER_ONE_YEAR"
    UNKNOWN = "UNKNOWN"


def deliveries() -> Any:
    return models.table_of(models.Delivery)


def in_kind_lines() -> Any:
    return models.table_of(models.InKindLine)


def organisations() -> Any:
    return models.table_of(models.Organisation)


def of_coalitions(scope: Scope, commitment_id: Any) -> sa.ColumnElement[bool]:
    """Rows of commitments in the scope's coalitions: a cheap first cut (an index-only scan)
    for sums per commitment, which the join to `counted` narrows to the counted ones."""
    if scope.coalition_ids is None:
        return sa.true()
    commitment = commitments()
    ids = sa.select(commitment.c.id).where(commitment.c.coalition_id.in_(list(scope.coalition_ids)))
    return commitment_id.in_(ids)


def delivered_in_period(scope: Scope, delivery: Any) -> sa.ColumnElement[bool]:
    conditions: list[sa.ColumnElement[bool]] = [sa.true()]
    if scope.period_from is not None:
        conditions.append(delivery.c.delivered_on >= scope.period_from)
    if scope.period_to is not None:
        conditions.append(delivery.c.delivered_on <= scope.period_to)
    return sa.and_(*conditions)


def counted(scope: Scope) -> Any:
    """The counted commitments with the columns reports group by, and two flags:
    `shown` (the reader may add up its amounts) and `passing` (its cash is counted at its
    channel). A subquery, not a CTE: PostgreSQL estimates joins to it from the tables'
    statistics (a CTE's estimates are guesses that made it plan billions of rows)."""
    commitment = commitments()
    channel = commitments().alias("channel")
    organisation = organisations()
    channel_counts = sa.and_(
        channel.c.id == commitment.c.funded_through_id,
        in_scope(scope, channel),
        scope.amounts_shown(channel),
    )
    statement = (
        sa.select(
            commitment.c.id,
            commitment.c.ref,
            commitment.c.title,
            commitment.c.stage,
            commitment.c.organisation_id,
            commitment.c.workstream_id,
            commitment.c.earmarking,
            commitment.c.countries,
            commitment.c.sdg_targets,
            commitment.c.start_date,
            commitment.c.end_date,
            commitment.c.amount,
            commitment.c.currency,
            commitment.c.amount_usd,
            valued_on(commitment).label("valued_on"),
            organisation.c.name.label("organisation_name"),
            organisation.c.organisation_type,
            sa.type_coerce(scope.amounts_shown(commitment), sa.Boolean()).label("shown"),
            sa.type_coerce(channel.c.id.is_not(None), sa.Boolean()).label("passing"),
        )
        .select_from(
            commitment.join(
                organisation, organisation.c.id == commitment.c.organisation_id
            ).outerjoin(channel, channel_counts)
        )
        .where(in_scope(scope, commitment))
    )
    # OFFSET 0 keeps PostgreSQL from flattening the subquery into its readers: its flags
    # are then computed once per commitment, not again in every CASE that reads them.
    return statement.offset(sa.literal_column("0")).subquery("counted")


def firm(stage: Any) -> sa.ColumnElement[bool]:
    return stage.in_(FIRM_STAGES)


def cash_counts(row: Any) -> sa.ColumnElement[bool]:
    """Whether a counted commitment's cash (and cash deliveries) enter the reader's figures."""
    return sa.and_(row.c.shown, sa.not_(row.c.passing))


def reach_units(delivery: Any) -> sa.ColumnElement[Any]:
    """Beneficiaries credited to a delivery, in 10^-4 people (beneficiaries x basis points)."""
    share = sa.func.coalesce(delivery.c.beneficiary_share_bp, 10000)
    return sa.cast(delivery.c.beneficiaries, sa.BigInteger()) * share


def delivery_sums(scope: Scope) -> Any:
    """Per counted commitment, its deliveries in the period: cash delivered
    (REPORTED or CONFIRMED), confirmed and disputed, in-kind value delivered, reach units."""
    delivery = deliveries()
    live = delivery.c.status != Status.DISPUTED
    return (
        sa.select(
            delivery.c.commitment_id,
            sa.func.sum(sa.case((live, delivery.c.amount_usd))).label("delivered"),
            sa.func.sum(
                sa.case((delivery.c.status == Status.CONFIRMED, delivery.c.amount_usd))
            ).label("confirmed"),
            sa.func.sum(sa.case((sa.not_(live), delivery.c.amount_usd))).label("disputed"),
            sa.func.sum(sa.case((live, delivery.c.in_kind_value_usd))).label("in_kind"),
            sa.func.sum(sa.case((live, reach_units(delivery)))).label("reach_units"),
        )
        .where(of_coalitions(scope, delivery.c.commitment_id), delivered_in_period(scope, delivery))
        .group_by(delivery.c.commitment_id)
        .subquery("delivery_sums")
    )


def line_values(scope: Scope) -> Any:
    """Per counted commitment, the USD value of its in-kind lines."""
    line = in_kind_lines()
    return (
        sa.select(line.c.commitment_id, sa.func.sum(line.c.fair_value_usd).label("value"))
        .where(of_coalitions(scope, line.c.commitment_id))
        .group_by(line.c.commitment_id)
        .subquery("line_values")
    )


def money_facts(scope: Scope, *, lists: bool = True) -> Any:
    """One row per counted commitment: what it adds to each figure for this reader, in
    integer 10^-4 units (`Units`; null where it adds nothing), and its grouping columns —
    the list columns (and their lengths) only with `lists`, as reading them costs."""
    rows = counted(scope)
    sums = delivery_sums(scope)
    values = line_values(scope)
    shown, cash = rows.c.shown, cash_counts(rows)
    pledged = rows.c.stage == Stage.PLEDGED
    is_firm = firm(rows.c.stage)

    def units(condition: Any, money: Any) -> Any:
        return Units(sa.case((condition, money)))

    statement = sa.select(
        rows.c.id,
        rows.c.organisation_id,
        rows.c.organisation_type,
        rows.c.workstream_id,
        rows.c.earmarking,
        duration(rows.c.start_date, rows.c.end_date).label("duration"),
        *(rows.c[column] for column in LISTS if lists),
        # How many shares each figure splits into over a list (1 for an empty list, whose
        # commitments keep their whole figures in the row keyed null).
        *(parts(rows.c[column]).label(f"{column}_parts") for column in LISTS if lists),
        sa.case((sa.not_(shown), 1), else_=0).label("withheld"),
        sa.case((rows.c.passing, 1), else_=0).label("passing"),
        units(sa.and_(rows.c.passing, shown), rows.c.amount_usd).label("passing_usd"),
        units(sa.and_(cash, pledged), rows.c.amount_usd).label("pledged"),
        units(sa.and_(cash, is_firm), rows.c.amount_usd).label("committed"),
        units(cash, sums.c.delivered).label("delivered"),
        units(cash, sums.c.confirmed).label("confirmed"),
        units(cash, sums.c.disputed).label("disputed"),
        units(sa.and_(shown, pledged), values.c.value).label("in_kind_pledged"),
        units(sa.and_(shown, is_firm), values.c.value).label("in_kind_committed"),
        units(shown, sums.c.in_kind).label("in_kind_delivered"),
        sa.case((shown, sa.cast(sums.c.reach_units, sa.BigInteger()))).label("reach_units"),
    ).select_from(
        rows.outerjoin(sums, sums.c.commitment_id == rows.c.id).outerjoin(
            values, values.c.commitment_id == rows.c.id
        )
    )
    return statement.cte("facts")


def parts(entries: Any) -> sa.ColumnElement[int]:
    length = JsonLength(entries)
    return sa.case((length > 0, length), else_=1)


def duration(start: Any, end: Any) -> sa.ColumnElement[str]:
    """MULTI_YEAR (365 days or more), UNDER_ONE_YEAR, or UNKNOWN without both dates."""
    return sa.case(
        (sa.or_(start.is_(None), end.is_(None)), Duration.UNKNOWN.value),
        (DaysBetween(start, end) >= MULTI_YEAR_DAYS, Duration.MULTI_YEAR.value),
        else_=Duration.UNDER_ONE_YEAR.value,
    )
