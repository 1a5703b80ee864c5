"""What only the Redis Streams bus does: stream ids, the entry format, approximate
trimming, and a listener that outlives its connection. The shared behaviour is tested
against both buses in test_memory_bus.py."""

import asyncio
import logging

import pytest

from events import channels
from events.bus import CursorExpired, InvalidCursor, Unavailable
from events.envelope import Positioned
from events.redis_streams import RedisStreamBus, stream_id_key
from tests.events.conftest import UNREACHABLE, envelope


def test_stream_ids_compare_as_numbers():
    ids = ["10-0", "9-12", "9-2", "1718000000000-0"]

    in_order = sorted(ids, key=stream_id_key)

    assert in_order == ["9-2", "9-12", "10-0", "1718000000000-0"]
    assert stream_id_key("1718000000000-3") == (1718000000000, 3)


@pytest.mark.parametrize("malformed", ["", "12", "12-", "-3", "a-1", "1-2-3", "\u0661-\u0662"])
def test_a_malformed_stream_id_is_refused(malformed):
    with pytest.raises(InvalidCursor):
        stream_id_key(malformed)


async def test_an_entry_holds_the_envelope_json_and_the_previous_id(make_redis_bus, redis_client):
    bus = make_redis_bus()
    first, second = envelope(1), envelope(2)

    first_id = await bus.publish(first)
    second_id = await bus.publish(second)

    assert await redis_client.xrange(bus.stream) == [
        (first_id, {"envelope": first.model_dump_json(), "prev": "0-0", "event": first.id}),
        (second_id, {"envelope": second.model_dump_json(), "prev": first_id, "event": second.id}),
    ]


async def test_the_index_of_published_ids_holds_the_retained_entries(make_redis_bus, redis_client):
    bus = make_redis_bus(retention=2)
    published = []
    for number in range(1, 5):
        published.append(envelope(number))
        await bus.publish(published[-1])
        # A millisecond apart: the index forgets ids by the oldest entry's millisecond.
        await asyncio.sleep(0.002)

    index = await redis_client.zrange(bus.index, 0, -1)

    assert bus.index == f"{bus.stream}:ids"
    assert sorted(index) == sorted(event.id for event in published[-2:])


async def test_the_stream_is_named_by_the_channels_module(make_redis_bus, redis_prefix):
    bus = make_redis_bus()

    assert bus.stream == channels.feed_stream(redis_prefix) == f"{redis_prefix}feed"


async def test_approximate_trimming_still_expires_exactly_the_cursors_with_a_gap(
    make_redis_bus,
):
    bus = make_redis_bus(retention=100, exact_trim=False)
    cursors = [await bus.publish(envelope(number)) for number in range(350)]
    retained = [positioned.cursor for positioned in await bus.replay(None, limit=1000)]

    expired = []
    for cursor in cursors:
        try:
            await bus.replay(cursor, limit=1)
        except CursorExpired:
            expired.append(cursor)

    # MAXLEN ~ removes whole macro nodes: more than 100 entries stay, and every cursor
    # before the one just ahead of the oldest retained entry has a gap after it.
    assert 100 <= len(retained) < 350
    assert retained == cursors[-len(retained) :]
    assert expired == cursors[: -len(retained) - 1]


async def test_entries_that_are_not_envelopes_are_skipped(make_redis_bus, redis_client):
    bus = make_redis_bus()
    before = await bus.publish(envelope(1))
    await redis_client.xadd(bus.stream, {"envelope": "{not json"})
    await redis_client.xadd(bus.stream, {"something": "else"})
    good = envelope(2)
    good_id = await bus.publish(good)
    listened = []

    async def listen():
        async for batch in bus.listen(before):
            listened.extend(batch)
            return

    replayed = await bus.replay(before, limit=10)
    await asyncio.wait_for(listen(), timeout=10)

    assert replayed == listened == [Positioned(cursor=good_id, envelope=good)]


async def test_publish_raises_when_redis_is_unreachable():
    bus = RedisStreamBus(UNREACHABLE, stream=channels.feed_stream("nowhere:"))

    with pytest.raises(Unavailable):
        await bus.publish(envelope(1))
    await bus.close()


async def test_a_listener_keeps_trying_an_unreachable_redis_until_the_bus_is_closed():
    bus = RedisStreamBus(UNREACHABLE, stream=channels.feed_stream("nowhere:"))
    retries = RetryWatcher(count=3)
    batches = []

    async def listen():
        async for batch in bus.listen("1-0"):
            batches.append(batch)

    logging.getLogger("events.redis_streams").addHandler(retries)
    try:
        listener = asyncio.create_task(listen())
        await asyncio.wait_for(retries.seen.wait(), timeout=10)
        await bus.close()
        await asyncio.wait_for(listener, timeout=10)
    finally:
        logging.getLogger("events.redis_streams").removeHandler(retries)

    assert batches == []
    assert retries.messages[0].startswith("feed listener: Redis unavailable (Error 111")


class RetryWatcher(logging.Handler):
    def __init__(self, *, count: int) -> None:
        super().__init__(logging.WARNING)
        self.count = count
        self.messages: list[str] = []
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        if len(self.messages) >= self.count:
            self.seen.set()


async def test_a_listener_whose_connection_is_killed_continues_without_loss_or_duplicates(
    make_redis_bus, redis_client, redis_prefix
):
    bus = make_redis_bus()
    name = channels.feed_listener(redis_prefix)
    start = await bus.tail()
    received: list[Positioned] = []
    got_five = asyncio.Event()

    async def listen():
        async for batch in bus.listen(start):
            received.extend(batch)
            if len(received) >= 5:
                got_five.set()
            if len(received) >= 10:
                return

    listener = asyncio.create_task(listen())
    published = [await bus.publish(envelope(number)) for number in range(1, 6)]
    await asyncio.wait_for(got_five.wait(), timeout=10)
    killed = await listener_connection(redis_client, name)
    await redis_client.client_kill_filter(_id=killed)
    published += [await bus.publish(envelope(number)) for number in range(6, 11)]
    await asyncio.wait_for(listener, timeout=10)

    assert [positioned.cursor for positioned in received] == published
    assert await listener_connection(redis_client, name) != killed


async def listener_connection(redis_client, name: str) -> str:
    ids = [client["id"] for client in await redis_client.client_list() if client["name"] == name]
    assert len(ids) == 1, ids
    return ids[0]
