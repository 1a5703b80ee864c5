"""Activities: events, debates, launches, trainings, reports and news from the coalition."""

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.actors import Actor
from backend.errors import BAD_RANGE, NotFound
from backend.services import access, audit, coalitions, feed, pages
from backend.services.validation import LONG_TEXT, Checks
from events import messages


@dataclass(frozen=True)
class ActivityDraft:
    coalition_id: int
    kind: models.ActivityKind
    title: str
    occurred_at: dt.datetime
    organisation_id: int | None = None
    workstream_id: int | None = None
    organisation_ids: list[int] = field(default_factory=list)
    summary: str | None = None
    countries: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    visibility: models.Visibility = models.Visibility.PUBLIC
    embargo_until: dt.datetime | None = None


@dataclass(frozen=True)
class ActivityFilter:
    coalition_id: int | None = None
    workstream_id: int | None = None
    organisation_id: int | None = None
    kinds: list[models.ActivityKind] = field(default_factory=list)
    country: str | None = None
    occurred_from: dt.datetime | None = None
    occurred_until: dt.datetime | None = None


async def publish(session: AsyncSession, actor: Actor, *, draft: ActivityDraft) -> models.Activity:
    """Publish an activity for the actor's organisation (or, for the secretariat, any)."""
    if draft.organisation_id is None:
        access.require_secretariat_admin(actor)
    else:
        access.require_partner_writer(
            actor, organisation_id=draft.organisation_id, coalition_id=draft.coalition_id
        )
    coalition = await coalitions.get(session, actor, coalition_id=draft.coalition_id)
    coalitions.require_open(coalition)
    await _check(session, draft)
    activity = models.Activity(**asdict(draft), published_by=actor.name)
    if draft.embargo_until is None or draft.embargo_until <= models.utcnow():
        activity.announced_at = models.utcnow()
    session.add(activity)
    await audit.record(session, actor, action="activity.published", entity=activity, before=None)
    await _announce(session, activity, messages.EventType.ACTIVITY_PUBLISHED)
    return activity


async def announce(session: AsyncSession, activity: models.Activity) -> None:
    """Its embargo ended: mark it public and tell the feed."""
    activity.announced_at = models.utcnow()
    await _announce(session, activity, messages.EventType.ACTIVITY_ANNOUNCED)


async def get(session: AsyncSession, actor: Actor, *, activity_id: int) -> models.Activity:
    activity = models.Activity
    found = await session.scalar(
        sa.select(activity).where(col(activity.id) == activity_id, access.activity_listed(actor))
    )
    if found is None:
        raise NotFound("No activity with this id.")
    return found


def listing(actor: Actor, filter: ActivityFilter) -> sa.Select[Any]:
    return listing_by(access.reader_of(actor), filter)


def listing_by(reader: access.Reader, filter: ActivityFilter) -> sa.Select[Any]:
    """`listing` for a reader; the filter's values may be bound parameters."""
    activity = models.Activity
    statement = sa.select(activity).where(access.listed(reader, models.table_of(models.Activity)))
    if filter.coalition_id is not None:
        statement = statement.where(col(activity.coalition_id) == filter.coalition_id)
    if filter.workstream_id is not None:
        statement = statement.where(col(activity.workstream_id) == filter.workstream_id)
    if filter.organisation_id is not None:
        statement = statement.where(
            sa.or_(
                col(activity.organisation_id) == filter.organisation_id,
                models.JsonListContains(activity.organisation_ids, filter.organisation_id),
            )
        )
    if pages.given(filter.kinds):
        statement = statement.where(col(activity.kind).in_(filter.kinds))
    if filter.country is not None:
        statement = statement.where(models.JsonListContains(activity.countries, filter.country))
    if filter.occurred_from is not None:
        statement = statement.where(col(activity.occurred_at) >= filter.occurred_from)
    if filter.occurred_until is not None:
        statement = statement.where(col(activity.occurred_at) < filter.occurred_until)
    return statement


def check_fields(draft: ActivityDraft, checks: Checks | None = None) -> None:
    """The checks that need no database; with `checks`, the problems are added to it
    instead (the caller adds its own and reports them all)."""
    found = checks if checks is not None else Checks()
    found.text("title", draft.title, required=True)
    found.text("summary", draft.summary, limit=LONG_TEXT)
    found.countries("countries", draft.countries)
    for index, link in enumerate(draft.links):
        found.url(f"links.{index}", link)
    if checks is None:
        found.done()


async def _check(session: AsyncSession, draft: ActivityDraft) -> None:
    checks = Checks()
    check_fields(draft, checks)
    organisation = models.Organisation
    involved = set(
        await session.scalars(
            sa.select(col(organisation.id)).where(col(organisation.id).in_(draft.organisation_ids))
        )
    )
    for index, organisation_id in enumerate(draft.organisation_ids):
        if organisation_id not in involved:
            checks.fail(f"organisation_ids.{index}", BAD_RANGE, "No organisation with this id.")
    checks.done()
    if draft.workstream_id is not None:
        workstream = await session.get(models.Workstream, draft.workstream_id)
        if workstream is None or workstream.coalition_id != draft.coalition_id:
            raise NotFound("No workstream with this id in the activity's coalition.")


async def _announce(
    session: AsyncSession, activity: models.Activity, event: messages.EventType
) -> None:
    await session.flush()
    assert activity.id is not None
    organisation = None
    if activity.organisation_id is not None:
        organisation = await session.get(models.Organisation, activity.organisation_id)
    workstream = None
    if activity.workstream_id is not None:
        workstream = await session.get(models.Workstream, activity.workstream_id)
    feed.record(
        session,
        type=event,
        subject_type="Activity",
        subject_id=activity.id,
        coalition_id=activity.coalition_id,
        organisation_id=activity.organisation_id,
        visibility=activity.visibility,
        embargo_until=activity.embargo_until,
        message=messages.ActivityMessage(
            id=activity.id,
            kind=activity.kind.value,
            title=activity.title,
            occurred_at=activity.occurred_at,
            organisation=feed.organisation_ref(organisation) if organisation else None,
            workstream=workstream.name if workstream else None,
            countries=list(activity.countries),
        ),
    )
