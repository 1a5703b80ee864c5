"""The outbox relay: committed feed events reach the bus once, rolled-back ones never."""

import asyncio
import os
import uuid

import pytest
import sqlalchemy as sa
from sqlmodel import col

from backend import models
from backend.actors import SYSTEM
from backend.services import coalitions, outbox
from events.envelope import Envelope
from events.memory import MemoryBus
from tests.factories import make_coalition, make_commitment, make_membership, make_organisation

DIALECT = os.environ.get("HUB_TEST_DATABASE", "sqlite")


async def replayed(bus: MemoryBus) -> list[Envelope]:
    return [positioned.envelope for positioned in await bus.replay(None, limit=1000)]


async def recorded(session) -> list[models.FeedEvent]:
    event = models.FeedEvent
    rows = await session.scalars(sa.select(event).order_by(col(event.id)))
    events = list(rows)
    await session.commit()
    return events


async def test_committed_events_are_published_once_in_order_and_marked(session, session_factory):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    await make_commitment(session, coalition, organisation, stage=models.Stage.COMMITTED)
    bus = MemoryBus()

    first = await outbox.publish_pending(session_factory, bus)
    again = await outbox.publish_pending(session_factory, bus)

    events = await recorded(session)
    assert (first, again) == (2, 0)
    assert [envelope.type for envelope in await replayed(bus)] == [
        "commitment.pledged",
        "commitment.committed",
    ]
    assert [envelope.id for envelope in await replayed(bus)] == [e.event_id for e in events]
    assert all(event.published_at is not None for event in events)


async def test_a_rolled_back_change_publishes_nothing(session, session_factory):
    bus = MemoryBus()

    async with session_factory() as writer:
        await coalitions.create(
            writer,
            SYSTEM,
            draft=coalitions.CoalitionDraft(
                slug="never", name="Never", kind=models.CoalitionKind.COALITION
            ),
        )
        await writer.rollback()
    published = await outbox.publish_pending(session_factory, bus)

    assert published == 0
    assert await replayed(bus) == []


class WatchedBus(MemoryBus):
    """A bus that says when something was published."""

    def __init__(self) -> None:
        super().__init__()
        self.published = asyncio.Event()

    async def publish(self, envelope: Envelope) -> str:
        cursor = await super().publish(envelope)
        self.published.set()
        return cursor


class FailingBus(MemoryBus):
    """A bus that goes down after `working` publishes, as Redis does when it stops."""

    def __init__(self, working: int) -> None:
        super().__init__()
        self.working = working

    async def publish(self, envelope: Envelope) -> str:
        if self.working == 0:
            raise ConnectionError("bus down")
        self.working -= 1
        return await super().publish(envelope)


async def test_what_the_bus_did_not_take_is_published_on_the_next_run(session, session_factory):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    await make_commitment(session, coalition, organisation, stage=models.Stage.IN_DELIVERY)
    bus = FailingBus(working=1)

    with pytest.raises(ConnectionError):
        await outbox.publish_pending(session_factory, bus)
    bus.working = 10
    later = await outbox.publish_pending(session_factory, bus)

    assert later == 2
    assert [envelope.type for envelope in await replayed(bus)] == [
        "commitment.pledged",
        "commitment.committed",
        "commitment.in_delivery",
    ]


@pytest.mark.skipif(
    DIALECT != "postgresql",
    reason="SQLite has one writer at a time, so its ids always follow commit order",
)
async def test_a_row_that_commits_after_a_higher_id_is_still_published(session, session_factory):
    coalition = await make_coalition(session)
    bus = MemoryBus()

    async with session_factory() as slow, session_factory() as fast:
        # `slow` takes the lower id but commits last: a poller of `id > last_seen` loses it.
        await slow.execute(sa.text("SELECT 1"))
        slow.add(make_event("slow", coalition.id))
        await slow.flush()
        fast.add(make_event("fast", coalition.id))
        await fast.commit()
        first = await outbox.publish_pending(session_factory, bus)
        await slow.commit()
    second = await outbox.publish_pending(session_factory, bus)

    types = [envelope.type for envelope in await replayed(bus)]
    assert (first, second) == (1, 1)
    assert types == ["test.fast", "test.slow"]


def make_event(name: str, coalition_id: int | None) -> models.FeedEvent:
    return models.FeedEvent(
        event_id=str(uuid.uuid4()),
        type=f"test.{name}",
        subject_type="Coalition",
        subject_id=coalition_id or 0,
        coalition_id=coalition_id,
        visibility=models.Visibility.PUBLIC,
    )


async def test_the_relay_publishes_in_the_background_when_kicked(session, session_factory):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    await make_membership(session, coalition, organisation)
    bus = WatchedBus()
    # A long sweep interval: only the kick can explain a prompt publish.
    relay = outbox.Relay(session_factory, bus, interval=3600)

    relay.start()
    try:
        relay.kick()
        await asyncio.wait_for(bus.published.wait(), timeout=30)
    finally:
        await relay.stop()

    assert [envelope.type for envelope in await replayed(bus)] == ["membership.joined"]
