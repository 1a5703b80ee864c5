"""Staleness, as the UN SDG Partnerships Platform shows it: green while something was
reported in the last year, yellow after a year without a report, red after two.

Per commitment: open ones (PLEDGED, COMMITTED, IN_DELIVERY) on the books; the last report
is the latest of its deliveries' days, its last progress and the day it was recorded
(backend/reports/tracking.py). Per member: each ACTIVE membership of the scope's coalitions
that had begun by the as-of day; its last report is the latest over all its commitments
there that the reader may list (any stage), or, with none, the day it joined.

A row's own dates bound its last report from below, and every delivery recorded through
the hub moves `last_progress_at` on: deliveries are read (by index) only for the rows whose
own dates leave them yellow or red.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.reports.scope import Scope, commitments
from backend.reports.sql import DaysBetween, Latest, UtcDate
from backend.reports.tracking import (
    OPEN_STAGES,
    Listing,
    Staleness,
    colour_by_probes,
    colour_of,
    counted_progress,
    first_of,
    green_from,
    is_colour,
    last_delivery_day,
    listing,
    on_books,
    own_report_day,
    reported_since,
    yellow_from,
)


@dataclass(frozen=True)
class StaleCommitment:
    commitment: models.Commitment
    last_report_on: dt.date
    days_since: int
    colour: Staleness


@dataclass(frozen=True)
class StaleMember:
    membership: models.Membership
    organisation: models.Organisation
    last_report_on: dt.date
    days_since: int
    colour: Staleness


async def commitment_counts(session: AsyncSession, scope: Scope) -> dict[Staleness, int]:
    """Open commitments by colour, every colour listed."""
    as_of = scope.judged_on
    commitment = commitments()

    def own_since(day: dt.date) -> Any:
        return reported_since(commitment.c.created_at, commitment.c.last_progress_at, day, as_of)

    colour = colour_by_probes(own_since, commitment.c.id, as_of)
    return await _counted(
        session, sa.select(colour.label("colour")).where(*_open(scope, commitment))
    )


async def stale_commitments(
    session: AsyncSession, scope: Scope, *, colour: Staleness | None, first: int
) -> Listing[StaleCommitment]:
    """Open commitments of `colour` (None: yellow and red), stalest first."""
    as_of = scope.judged_on
    commitment = commitments()
    created, progress = commitment.c.created_at, commitment.c.last_progress_at
    last = Latest(
        own_report_day(created, progress, as_of), last_delivery_day(commitment.c.id, as_of)
    )
    reported = (
        sa.select(commitment.c.id, last.label("last_report"))
        .where(*_open(scope, commitment), *_in_doubt(created, progress, as_of, colour))
        .subquery()
    )
    page, ranked = _page(reported, as_of, colour, first)
    model = models.Commitment
    statement = (
        sa.select(model, page.c.total, *_judged(page.c.last_report, as_of))
        .join(page, page.c.id == model.id)  # type: ignore[arg-type]
        .order_by(page.c.last_report, page.c.id)
    )
    return await listing(
        session,
        statement,
        ranked=ranked,
        first=first,
        row=lambda found: StaleCommitment(
            found.Commitment, found.last_report, found.days_since, Staleness(found.colour)
        ),
    )


async def member_counts(session: AsyncSession, scope: Scope) -> dict[Staleness, int]:
    """ACTIVE members by colour, every colour listed."""
    as_of = scope.judged_on
    member, latest, joined = _members(scope)

    def own_since(day: dt.date) -> Any:
        return reported_since(latest.c.created_at, latest.c.progress_at, day, as_of)

    colour = sa.case(
        (latest.c.created_at.is_(None), colour_of(joined, as_of)),
        else_=colour_by_probes(own_since, _their_commitments(scope, member), as_of),
    )
    return await _counted(session, _active(scope, member, latest, colour.label("colour")))


async def stale_members(
    session: AsyncSession, scope: Scope, *, colour: Staleness | None, first: int
) -> Listing[StaleMember]:
    """ACTIVE members of `colour` (None: yellow and red), stalest first."""
    as_of = scope.judged_on
    member, latest, joined = _members(scope)
    created, progress = latest.c.created_at, latest.c.progress_at
    last = sa.case(
        (created.is_(None), joined),
        else_=Latest(
            own_report_day(created, progress, as_of),
            last_delivery_day(_their_commitments(scope, member), as_of),
        ),
    )
    doubt = sa.or_(
        sa.and_(created.is_not(None), *_in_doubt(created, progress, as_of, colour)),
        sa.and_(created.is_(None), is_colour(joined, as_of, colour)),
    )
    reported = (
        _active(scope, member, latest, member.c.id, last.label("last_report"))
        .where(doubt)
        .subquery()
    )
    page, ranked = _page(reported, as_of, colour, first)
    membership, organisation = models.Membership, models.Organisation
    statement = (
        sa.select(membership, organisation, page.c.total, *_judged(page.c.last_report, as_of))
        .join(page, page.c.id == membership.id)  # type: ignore[arg-type]
        .join(organisation, organisation.id == membership.organisation_id)  # type: ignore[arg-type]
        .order_by(page.c.last_report, page.c.id)
    )
    return await listing(
        session,
        statement,
        ranked=ranked,
        first=first,
        row=lambda found: StaleMember(
            found.Membership,
            found.Organisation,
            found.last_report,
            found.days_since,
            Staleness(found.colour),
        ),
    )


def _open(scope: Scope, commitment: Any) -> list[Any]:
    return [on_books(scope, commitment), commitment.c.stage.in_(OPEN_STAGES)]


def _in_doubt(created: Any, progress: Any, as_of: dt.date, colour: Staleness | None) -> list[Any]:
    """Rows whose own dates leave `colour` possible (deliveries can only make a row
    fresher); to list green rows, all of them."""
    if colour is Staleness.GREEN:
        return []
    since = yellow_from(as_of) if colour is Staleness.RED else green_from(as_of)
    return [~reported_since(created, progress, since, as_of)]


def _members(scope: Scope) -> tuple[Any, Any, Any]:
    """The memberships table; `latest`, each member's latest commitment recorded and
    latest progress up to the as-of day over its commitments the reader may list (no row:
    none); and the day it joined."""
    member = models.table_of(models.Membership)
    commitment = commitments()
    keys = (commitment.c.coalition_id, commitment.c.organisation_id)
    latest = (
        sa.select(
            *keys,
            sa.func.max(commitment.c.created_at).label("created_at"),
            sa.func.max(counted_progress(commitment.c.last_progress_at, scope.judged_on)).label(
                "progress_at"
            ),
        )
        .where(on_books(scope, commitment, closed=True))
        .group_by(*keys)
        .subquery("latest")
    )
    joined = sa.func.coalesce(member.c.joined_on, UtcDate(member.c.created_at))
    return member, latest, joined


def _active(scope: Scope, member: Any, latest: Any, *columns: Any) -> sa.Select[Any]:
    """`columns` of the ACTIVE members of the scope's coalitions that had joined by the
    as-of day, with their `latest` commitment dates."""
    joined = sa.func.coalesce(member.c.joined_on, UtcDate(member.c.created_at))
    conditions = [member.c.status == models.MembershipStatus.ACTIVE, joined <= scope.judged_on]
    if scope.coalition_ids is not None:
        conditions.append(member.c.coalition_id.in_(list(scope.coalition_ids)))
    same_member = sa.and_(
        latest.c.coalition_id == member.c.coalition_id,
        latest.c.organisation_id == member.c.organisation_id,
    )
    return sa.select(*columns).select_from(member.outerjoin(latest, same_member)).where(*conditions)


def _their_commitments(scope: Scope, member: Any) -> sa.Select[Any]:
    commitment = commitments().alias("theirs")
    # Nested two levels down (in the deliveries' subquery): auto-correlation reaches only
    # the enclosing statement, so the member is named.
    return (
        sa.select(commitment.c.id)
        .where(
            commitment.c.coalition_id == member.c.coalition_id,
            commitment.c.organisation_id == member.c.organisation_id,
            on_books(scope, commitment, closed=True),
        )
        .correlate(member)
    )


def _page(
    reported: Any, as_of: dt.date, colour: Staleness | None, first: int
) -> tuple[Any, sa.Select[Any]]:
    ranked = sa.select(reported.c.id, reported.c.last_report).where(
        is_colour(reported.c.last_report, as_of, colour)
    )
    return first_of(ranked, reported.c.last_report, reported.c.id, first=first), ranked


def _judged(last_report: Any, as_of: dt.date) -> list[Any]:
    # A row recorded after the as-of day (a back-dated value date) counts as reported then.
    days = sa.case((last_report > as_of, 0), else_=DaysBetween(as_of, last_report))
    return [
        last_report.label("last_report"),
        days.label("days_since"),
        colour_of(last_report, as_of).label("colour"),
    ]


async def _counted(session: AsyncSession, coloured: sa.Select[Any]) -> dict[Staleness, int]:
    rows = coloured.subquery()
    statement = sa.select(rows.c.colour, sa.func.count()).group_by(rows.c.colour)
    found = {Staleness(colour): count for colour, count in await session.execute(statement)}
    return {colour: found.get(colour, 0) for colour in Staleness}
