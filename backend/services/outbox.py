"""The outbox relay: publishes committed feed events to the bus, in order, at least once.

Services write `feed_events` rows inside the mutation's transaction, so a row exists exactly
when its change committed. The relay reads rows not yet published, publishes them, then
marks them. A crash between the two, or a bus that took a row but could not say so (Redis
crashed before answering), publishes the row again: the bus keeps one entry per event id
(publishing is idempotent), and readers drop an event id they have already seen.

Order: one relay at a time publishes (PostgreSQL: a transaction-level advisory lock, which
other processes wait for; one process: an asyncio lock), in id order among the rows it
sees. Ids are assigned before commit, so a row may become visible after a higher id was
published: it is simply published then. The feed's order is the bus's publish order, never
the id — and two events of one commitment keep their order, because the second is written
under the row lock the first one's transaction held until it committed.
"""

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.db import SessionFactory
from backend.services import embargoes
from events.bus import Bus
from events.envelope import Envelope

log = logging.getLogger("backend.outbox")

# Any constant will do, as long as nothing else in the database uses it.
RELAY_LOCK_KEY = 0x0F_EED_0B0
BATCH = 200
# Seconds between runs at most while the bus is down: once it is back, rows committed
# during the outage (and not followed by another commit's kick) wait no longer than this.
MAX_RETRY_DELAY = 5.0


def envelope_of(event: models.FeedEvent) -> Envelope:
    return Envelope(
        id=event.event_id,
        type=event.type,
        occurred_at=event.occurred_at,
        coalition_id=event.coalition_id,
        organisation_id=event.organisation_id,
        visibility=event.visibility.value,
        embargo_until=event.embargo_until,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        payload=event.payload,
    )


async def _take_turn(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(RELAY_LOCK_KEY)))


async def _unpublished(session: AsyncSession) -> Sequence[models.FeedEvent]:
    event = models.FeedEvent
    statement = (
        sa.select(event)
        .where(col(event.published_at).is_(None))
        .order_by(col(event.id))
        .limit(BATCH)
    )
    return (await session.scalars(statement)).all()


async def publish_pending(session_factory: SessionFactory, bus: Bus) -> int:
    """Publish every committed, unpublished event; returns how many were published.

    A bus failure leaves the rest unpublished (and raises): the next run picks them up.
    """
    published = 0
    while True:
        failure: Exception | None = None
        async with session_factory() as session, session.begin():
            await _take_turn(session)
            events = await _unpublished(session)
            for event in events:
                try:
                    await bus.publish(envelope_of(event))
                except Exception as error:  # the bus is down: keep what it took, stop
                    failure = error
                    break
                event.published_at = models.utcnow()
                published += 1
        # Committed: the events the bus took are marked, even when it failed half-way.
        if failure is not None:
            raise failure
        if len(events) < BATCH:
            return published


async def lag(session: AsyncSession) -> dt.timedelta | None:
    """How long the oldest unpublished event has waited; None when all are published."""
    event = models.FeedEvent
    oldest = await session.scalar(
        sa.select(sa.func.min(event.occurred_at)).where(col(event.published_at).is_(None))
    )
    if oldest is None:
        return None
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return models.utcnow() - oldest


class Relay:
    """Runs `publish_pending` in the background: when kicked after a commit, and every
    `interval` seconds to catch rows whose publisher died (and to announce items whose
    embargo ended), with a capped backoff while the bus is down. Mutations never wait for
    it, so they keep succeeding while Redis is down.
    """

    def __init__(
        self,
        session_factory: SessionFactory,
        bus: Bus,
        *,
        interval: float = 1.0,
        after_announcing: Callable[[], Awaitable[None]] | None = None,
    ):
        self.session_factory = session_factory
        self.bus = bus
        self.interval = interval
        # Announcing is a write readers see (`announcedAt`), made outside any mutation: the
        # app passes its read cache's invalidate here.
        self.after_announcing = after_announcing
        self.published = 0
        self._kicked = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        """Something committed feed events: publish soon (kicks arriving together coalesce)."""
        self._kicked.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        delay, next_sweep = self.interval, loop.time()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kicked.wait(), timeout=delay)
            self._kicked.clear()
            try:
                # Ended embargoes are a matter of time, not of commits: once per interval,
                # not on every kick (a transaction less per mutation under load).
                if loop.time() >= next_sweep:
                    async with self.session_factory() as session, session.begin():
                        announced = await embargoes.announce_due(session)
                    if announced and self.after_announcing is not None:
                        await self.after_announcing()
                    next_sweep = loop.time() + self.interval
                self.published += await publish_pending(self.session_factory, self.bus)
                delay = self.interval
            except Exception as error:  # the bus or the database is down: try again later
                # A line per failed run, not a traceback: during an outage there are many.
                log.warning("publishing feed events failed (%r); retrying", error)
                delay = min(delay * 2, MAX_RETRY_DELAY)
