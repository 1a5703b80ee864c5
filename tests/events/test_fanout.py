"""The per-process fan-out, over both buses: one reader, bounded queues, nobody waits."""

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from events import channels
from events.bus import Bus
from events.envelope import Positioned
from events.fanout import Disconnected, FanOut, Overflowed, Subscription
from events.redis_streams import RedisStreamBus
from tests.events.conftest import MakeBus, envelope
from tests.redis_server import private_redis


@pytest_asyncio.fixture(loop_scope="session")
async def fanout(bus: Bus) -> AsyncIterator[FanOut]:
    fanout = FanOut(bus, queue_size=5)
    await fanout.start()
    yield fanout
    await fanout.stop()


async def take(subscription: Subscription, count: int) -> list[Positioned]:
    taken: list[Positioned] = []

    async def read():
        async for positioned in subscription:
            taken.append(positioned)
            if len(taken) == count:
                return

    await asyncio.wait_for(read(), timeout=10)
    return taken


async def publish(bus: Bus, numbers) -> list[str]:
    return [await bus.publish(envelope(number)) for number in numbers]


async def test_every_subscriber_gets_each_event_once_as_the_same_object(bus, fanout):
    first = fanout.subscribe()
    second = fanout.subscribe()

    cursors = await publish(bus, [1, 2, 3])
    got_first = await take(first, 3)
    got_second = await take(second, 3)

    assert [positioned.cursor for positioned in got_first] == cursors
    assert [positioned.envelope.subject_id for positioned in got_first] == [1, 2, 3]
    assert all(a is b for a, b in zip(got_first, got_second, strict=True))
    assert (fanout.subscribers, fanout.received, fanout.dropped) == (2, 3, 0)


async def test_a_subscriber_gets_only_what_was_published_after_it_subscribed(bus, fanout):
    early = fanout.subscribe()
    await publish(bus, [1])
    await take(early, 1)

    late = fanout.subscribe()
    await publish(bus, [2])

    assert [positioned.envelope.subject_id for positioned in await take(late, 1)] == [2]


async def test_a_subscriber_that_never_reads_is_dropped_and_the_others_get_everything(bus, fanout):
    slow = fanout.subscribe()
    fast = fanout.subscribe()
    received: list[Positioned] = []

    async def read_fast():
        async for positioned in fast:
            received.append(positioned)
            if len(received) == 20:
                return

    reader = asyncio.create_task(read_fast())
    cursors = []
    for number in range(1, 21):
        cursors += await publish(bus, [number])
        await asyncio.sleep(0)
    await asyncio.wait_for(reader, timeout=10)

    assert [positioned.cursor for positioned in received] == cursors
    assert (fanout.subscribers, fanout.dropped) == (1, 1)
    with pytest.raises(Overflowed):
        await anext(slow)


async def test_a_dropped_subscriber_is_told_at_once_not_after_its_queue(bus, fanout):
    slow = fanout.subscribe()
    witness = asyncio.create_task(take(fanout.subscribe(), 6))

    for number in range(1, 7):
        await publish(bus, [number])
        await asyncio.sleep(0)
    await witness

    with pytest.raises(Overflowed):
        await anext(slow)


async def test_an_event_published_again_after_it_left_the_history_is_handed_out_once(
    make_bus: MakeBus,
):
    # Within the history the bus itself keeps one entry per event id; an event published
    # again once its first entry is trimmed is a new entry, which the fan-out drops.
    bus = make_bus(retention=2)
    fanout = FanOut(bus)
    await fanout.start()
    try:
        subscription = fanout.subscribe()
        first = envelope(1)
        for event in (first, envelope(2), envelope(3)):
            await bus.publish(event)
            await take(subscription, 1)

        await bus.publish(first)
        await publish(bus, [4])
        taken = await take(subscription, 1)
    finally:
        await fanout.stop()

    assert [positioned.envelope.subject_id for positioned in taken] == [4]
    assert (fanout.received, fanout.duplicates) == (5, 1)


async def test_a_closed_subscription_ends_and_is_no_longer_counted(bus, fanout):
    subscription = fanout.subscribe()

    async with subscription:
        await publish(bus, [1])
        await take(subscription, 1)

    assert fanout.subscribers == 0
    assert [positioned async for positioned in subscription] == []


async def test_stopping_the_hub_ends_every_subscription(bus, fanout):
    subscription = fanout.subscribe()
    waiting = asyncio.create_task(anext(subscription, "ended"))
    await asyncio.sleep(0)

    await fanout.stop()

    assert await asyncio.wait_for(waiting, timeout=10) == "ended"
    assert fanout.subscribers == 0
    assert [positioned async for positioned in fanout.subscribe()] == []


async def test_closing_the_bus_ends_every_subscription(bus, fanout):
    subscription = fanout.subscribe()

    await bus.close()

    assert await asyncio.wait_for(anext(subscription, "ended"), timeout=10) == "ended"


async def test_subscribing_before_the_hub_reads_the_bus_disconnects_at_once(bus):
    fanout = FanOut(bus)

    subscription = fanout.subscribe()

    with pytest.raises(Disconnected):
        await anext(subscription)


async def test_a_hub_started_while_redis_is_down_reads_the_bus_once_redis_answers():
    async with private_redis(running=False) as redis:
        bus = RedisStreamBus(redis.url, stream=channels.feed_stream("hub:"), block_ms=1000)
        fanout = FanOut(bus)
        try:
            await fanout.start()
            early = fanout.subscribe()

            await redis.start()
            subscription = await taken_subscription(fanout)
            cursor = await bus.publish(envelope(1))
            handed_out = await take(subscription, 1)
        finally:
            await fanout.stop()
            await bus.close()

    with pytest.raises(Disconnected):
        await anext(early)
    assert [positioned.cursor for positioned in handed_out] == [cursor]


async def taken_subscription(fanout: FanOut) -> Subscription:
    """A subscription the hub takes: it disconnects them at once until it reads the bus."""
    async with asyncio.timeout(20):
        while True:
            subscription = fanout.subscribe()
            if fanout.subscribers:
                return subscription
            await asyncio.sleep(0.1)
