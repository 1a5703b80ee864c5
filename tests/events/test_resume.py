"""Resume, over both buses: what was missed after a cursor, then live — exactly once, in
cursor order, with no gap at the boundary even while events are being published."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from events import channels
from events.bus import Bus, InvalidCursor
from events.envelope import Positioned
from events.fanout import Disconnected, FanOut, Overflowed
from events.redis_streams import RedisStreamBus
from events.resume import Reset, resume
from tests.events.conftest import UNREACHABLE, MakeBus, envelope


@pytest_asyncio.fixture(loop_scope="session")
async def start_fanout() -> AsyncIterator:
    hubs: list[FanOut] = []

    async def start(bus: Bus, **options) -> FanOut:
        fanout = FanOut(bus, **options)
        await fanout.start()
        hubs.append(fanout)
        return fanout

    yield start
    for fanout in hubs:
        await fanout.stop()


async def publish(bus: Bus, numbers) -> list[Positioned]:
    published = []
    for number in numbers:
        event = envelope(number)
        published.append(Positioned(cursor=await bus.publish(event), envelope=event))
    return published


async def take(stream, count: int) -> list:
    return [await asyncio.wait_for(anext(stream), timeout=10) for _ in range(count)]


def numbers(items) -> list[int]:
    return [item.envelope.subject_id for item in items]


async def test_resume_replays_what_was_missed_then_continues_live(make_bus: MakeBus, start_fanout):
    bus = make_bus()
    fanout = await start_fanout(bus)
    before = await publish(bus, range(1, 6))

    async with contextlib.aclosing(resume(fanout, bus, after=before[1].cursor, page=2)) as stream:
        missed = await take(stream, 3)
        later = await publish(bus, [6, 7])
        live = await take(stream, 2)

    assert missed + live == before[2:] + later
    assert fanout.subscribers == 0


@pytest.mark.parametrize("page", [1, 7])
async def test_resume_while_events_are_published_yields_each_event_after_the_cursor_once(
    make_bus: MakeBus, start_fanout, page: int
):
    bus = make_bus()
    fanout = await start_fanout(bus)
    before = await publish(bus, range(1, 31))
    received: list[Positioned] = []

    async def consume():
        async with contextlib.aclosing(
            resume(fanout, bus, after=before[9].cursor, page=page)
        ) as stream:
            async for item in stream:
                received.append(item)
                if item.envelope.subject_id == 120:
                    return
                await asyncio.sleep(0)

    consumer = asyncio.create_task(consume())
    during = []
    for number in range(31, 121):
        during += await publish(bus, [number])
        await asyncio.sleep(0)
    await asyncio.wait_for(consumer, timeout=30)

    assert received == before[10:] + during
    assert numbers(received) == list(range(11, 121))


async def test_resume_without_a_cursor_starts_at_the_end_of_the_stream(
    make_bus: MakeBus, start_fanout
):
    bus = make_bus()
    fanout = await start_fanout(bus)
    await publish(bus, [1, 2])

    async with contextlib.aclosing(resume(fanout, bus, after=None)) as stream:
        first = asyncio.create_task(anext(stream))
        # Where "the end" falls among these is up to the scheduler; they come after 1 and 2.
        later: list[Positioned] = []
        async with asyncio.timeout(10):
            while not first.done():
                later += await publish(bus, [len(later) + 3])
                await asyncio.sleep(0)
        got = first.result()

    assert got in later


async def test_an_expired_cursor_gets_a_reset_then_live_events(make_bus: MakeBus, start_fanout):
    bus = make_bus(retention=3)
    before = await publish(bus, range(1, 9))
    fanout = await start_fanout(bus)

    async with contextlib.aclosing(resume(fanout, bus, after=before[0].cursor)) as stream:
        reset = await take(stream, 1)
        live = await publish(bus, [9])
        after_reset = await take(stream, 1)

    assert reset == [Reset(cursor=before[-1].cursor, oldest=before[-3].cursor)]
    assert after_reset == live


async def test_an_event_published_twice_across_the_boundary_is_yielded_once(
    make_bus: MakeBus, start_fanout
):
    bus = make_bus()
    fanout = await start_fanout(bus)
    start = await bus.tail()
    twice = envelope(1)
    await bus.publish(twice)

    async with contextlib.aclosing(resume(fanout, bus, after=start)) as stream:
        replayed = await take(stream, 1)
        await bus.publish(twice)
        live = await publish(bus, [2])
        after = await take(stream, 1)

    assert numbers(replayed + after) == [1, 2]
    assert after == live


async def test_a_subscriber_resuming_between_two_publishes_of_an_event_gets_it_once(
    make_bus: MakeBus, start_fanout
):
    # The relay publishes a row again when it cannot tell whether the bus took it; the
    # subscriber already has the first publish, and resumes after it.
    bus = make_bus()
    fanout = await start_fanout(bus)
    twice = envelope(1)
    received = await bus.publish(twice)

    async with contextlib.aclosing(resume(fanout, bus, after=received)) as stream:
        await bus.publish(twice)
        later = await publish(bus, [2])
        after = await take(stream, 1)

    assert after == later


async def test_resuming_while_redis_does_not_answer_is_a_disconnection(start_fanout):
    bus = RedisStreamBus(UNREACHABLE, stream=channels.feed_stream("nowhere:"))
    fanout = await start_fanout(bus)

    with pytest.raises(Disconnected):
        async with contextlib.aclosing(resume(fanout, bus, after="1-0")) as stream:
            await anext(stream)

    await bus.close()


async def test_a_live_queue_that_overflows_during_replay_ends_the_resume_after_the_replay(
    make_bus: MakeBus, start_fanout
):
    bus = make_bus()
    fanout = await start_fanout(bus, queue_size=2)
    before = await publish(bus, range(1, 6))

    async with contextlib.aclosing(resume(fanout, bus, after=before[0].cursor, page=2)) as stream:
        first = await take(stream, 1)
        during = await publish(bus, [6, 7, 8])
        # Until the hub has handed them out (and so dropped the live queue): the consumer
        # must not drain the queue first.
        async with asyncio.timeout(10):
            while fanout.dropped == 0:  # noqa: ASYNC110
                await asyncio.sleep(0)
        rest = await take(stream, 6)
        with pytest.raises(Overflowed):
            await anext(stream)

    assert first + rest == before[1:] + during


async def test_a_malformed_cursor_is_refused_and_leaves_no_subscription(
    make_bus: MakeBus, start_fanout
):
    bus = make_bus()
    fanout = await start_fanout(bus)

    with pytest.raises(InvalidCursor):
        async with contextlib.aclosing(resume(fanout, bus, after="yesterday")) as stream:
            await anext(stream)

    assert fanout.subscribers == 0
