"""The Bus contract, run against both buses (see `make_bus`), then what only the memory bus
does. The memory bus is the reference: the Redis Streams bus must behave the same."""

import asyncio

import pytest

from events.bus import CursorExpired, InvalidCursor
from events.envelope import Positioned
from events.memory import MemoryBus
from tests.events.conftest import MakeBus, envelope


async def publish(bus, numbers) -> list[Positioned]:
    published = []
    for number in numbers:
        event = envelope(number)
        published.append(Positioned(cursor=await bus.publish(event), envelope=event))
    return published


async def replay_all(bus, after, *, limit) -> list[list[Positioned]]:
    pages = []
    while page := await bus.replay(after, limit=limit):
        pages.append(page)
        after = page[-1].cursor
    return pages


async def test_replay_returns_the_events_in_publish_order_a_page_at_a_time(make_bus: MakeBus):
    bus = make_bus()
    published = await publish(bus, range(1, 6))

    pages = await replay_all(bus, None, limit=2)

    assert pages == [published[0:2], published[2:4], published[4:5]]


async def test_replay_starts_after_the_cursor(make_bus: MakeBus):
    bus = make_bus()
    published = await publish(bus, range(1, 6))

    replayed = await bus.replay(published[1].cursor, limit=10)

    assert replayed == published[2:]


async def test_cursors_sort_in_publish_order_by_the_bus_sort_key(make_bus: MakeBus):
    bus = make_bus()
    published = await publish(bus, range(1, 13))
    cursors = [positioned.cursor for positioned in published]

    in_key_order = sorted(reversed(cursors), key=bus.sort_key)

    assert in_key_order == cursors


async def test_latest_and_tail_of_an_empty_stream(make_bus: MakeBus):
    bus = make_bus()

    latest = await bus.latest()
    tail = await bus.tail()

    assert latest is None
    assert await bus.replay(tail, limit=10) == []


async def test_latest_and_tail_are_the_newest_event(make_bus: MakeBus):
    bus = make_bus()
    published = await publish(bus, range(1, 4))

    latest = await bus.latest()
    tail = await bus.tail()

    assert latest == tail == published[-1].cursor


async def test_the_tail_of_an_empty_stream_comes_before_its_first_event(make_bus: MakeBus):
    bus = make_bus()
    tail = await bus.tail()

    published = await publish(bus, [1, 2])

    assert await bus.replay(tail, limit=10) == published


async def test_a_cursor_expires_exactly_when_an_event_after_it_was_trimmed(make_bus: MakeBus):
    bus = make_bus(retention=3)
    published = await publish(bus, range(1, 9))
    retained = await bus.replay(None, limit=100)
    retained_cursors = {positioned.cursor for positioned in retained}

    outcomes = []
    for positioned in published:
        try:
            replayed = await bus.replay(positioned.cursor, limit=100)
        except CursorExpired:
            outcomes.append("expired")
        else:
            outcomes.append(replayed)

    expected = [
        published[index + 1 :]
        if all(later.cursor in retained_cursors for later in published[index + 1 :])
        else "expired"
        for index in range(len(published))
    ]
    assert outcomes == expected
    assert retained == published[-len(retained) :]
    assert len(retained) < len(published)


async def test_trimming_keeps_the_newest_events(make_bus: MakeBus):
    bus = make_bus(retention=3)
    published = await publish(bus, range(1, 9))

    retained = await bus.replay(None, limit=100)

    # The Redis fixture trims exactly (MAXLEN without ~).
    assert retained == published[-3:]


async def test_publishing_an_event_again_appends_nothing_and_returns_its_cursor(
    make_bus: MakeBus,
):
    bus = make_bus()
    first = await publish(bus, [1])

    again = await bus.publish(first[0].envelope)
    later = await publish(bus, [2])

    assert again == first[0].cursor
    assert await bus.replay(None, limit=10) == first + later


async def test_an_event_that_left_the_history_is_published_anew(make_bus: MakeBus):
    bus = make_bus(retention=2)
    first, _, third = await publish(bus, [1, 2, 3])

    again = await bus.publish(first.envelope)

    assert await bus.replay(None, limit=10) == [
        third,
        Positioned(cursor=again, envelope=first.envelope),
    ]


async def test_a_malformed_cursor_is_refused(bus):
    await publish(bus, [1])

    with pytest.raises(InvalidCursor):
        await bus.replay("not-a-cursor", limit=10)
    with pytest.raises(InvalidCursor):
        bus.sort_key("12-x")


async def test_a_listener_gets_every_event_after_its_cursor_in_order(make_bus: MakeBus):
    bus = make_bus()
    before = await publish(bus, [1, 2])
    received: list[Positioned] = []

    async def listen():
        async for batch in bus.listen(before[-1].cursor):
            received.extend(batch)
            if len(received) == 20:
                return

    listener = asyncio.create_task(listen())
    published = []
    for number in range(3, 23):
        published += await publish(bus, [number])
        await asyncio.sleep(0)
    await asyncio.wait_for(listener, timeout=10)

    assert received == published


async def test_a_listener_ends_when_the_bus_is_closed(make_bus: MakeBus):
    bus = make_bus()
    tail = await bus.tail()
    batches = []

    async def listen():
        async for batch in bus.listen(tail):
            batches.append(batch)

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    await bus.close()
    await asyncio.wait_for(listener, timeout=10)

    assert batches == []


async def test_a_memory_cursor_from_before_a_restart_has_expired():
    before = MemoryBus()
    old_cursor = await before.publish(envelope(1))
    await before.close()

    after = MemoryBus()
    await after.publish(envelope(2))

    with pytest.raises(CursorExpired):
        await after.replay(old_cursor, limit=10)


async def test_a_memory_cursor_newer_than_the_stream_has_expired():
    bus = MemoryBus(start=100)
    await bus.publish(envelope(1))

    with pytest.raises(CursorExpired):
        await bus.replay(f"{102:020d}", limit=10)


async def test_memory_cursors_are_fixed_width_positions():
    bus = MemoryBus(start=99)

    cursors = [await bus.publish(envelope(number)) for number in (1, 2)]

    assert cursors == ["00000000000000000100", "00000000000000000101"]


async def test_a_memory_listener_that_fell_behind_the_history_says_so():
    bus = MemoryBus(retention=2)
    tail = await bus.tail()
    listener = bus.listen(tail)

    await publish(bus, [1, 2, 3])

    with pytest.raises(CursorExpired):
        await anext(listener)
