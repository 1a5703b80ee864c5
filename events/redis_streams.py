"""The Redis Streams bus: one stream shared by every app process.

Publish is `XADD stream MAXLEN ~ retention * envelope <json> prev <id> event <event id>`;
a cursor is the stream id. Replay is `XRANGE`, checked for a gap against `XINFO STREAM` in
the same MULTI (Redis >= 7.0), so trimming between the check and the read cannot slip a gap
through.

Why `prev`: trimming (MAXLEN) does not move `max-deleted-entry-id` (only XDEL does), and
once entries are trimmed nothing in Redis says which id was the last to go. So each entry
carries the id of the entry before it (a Lua script reads it and appends atomically); the
oldest retained entry's `prev` is then the newest trimmed one, and a cursor has a gap after
it exactly when it is older than that.

Publishing is idempotent by event id: the relay publishes a row again when it could not
tell whether Redis took it (the reply was lost as Redis crashed, or the relay's process died
before marking the row), and a second entry would reach a subscriber that resumed between
the two. So each entry also carries its `event` id, a sorted set next to the stream
(`<stream>:ids`, event id -> the millisecond part of its entry id) indexes the retained
entries, and the script answers a known id with the entry it already has. The index is
trimmed with the stream: ids older than the oldest retained entry's millisecond go.

Each process listens with one `XREAD BLOCK` loop on a connection of its own (named with
CLIENT SETNAME, so operators and tests can find it), and rides out Redis restarts: it keeps
the id of the last entry it yielded and continues from there once Redis answers again.
"""

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any, TypeVar

from redis import exceptions as redis_errors
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff

from events.bus import CursorExpired, InvalidCursor, Unavailable
from events.envelope import Envelope, Positioned

log = logging.getLogger(__name__)

T = TypeVar("T")

FIELD = "envelope"
PREV = "prev"
_EMPTY = "0-0"
# KEYS[1] stream, KEYS[2] its index of event ids; ARGV retention, envelope JSON, "~"
# (approximate trimming) or "=" (exact), event id.
_PUBLISH = """
-- Published already: the entry with this event id, among those of its millisecond.
local published = redis.call('ZSCORE', KEYS[2], ARGV[4])
if published then
  for _, entry in ipairs(redis.call('XRANGE', KEYS[1], published, published)) do
    local fields = entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'event' and fields[i + 1] == ARGV[4] then return entry[1] end
    end
  end
end
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local prev = '0-0'
if newest[1] then prev = newest[1][1] end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[3], ARGV[1], '*',
                      'envelope', ARGV[2], 'prev', prev, 'event', ARGV[4])
redis.call('ZADD', KEYS[2], string.match(id, '^%d+'), ARGV[4])
-- Forget the ids of trimmed entries.
local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][1]
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. string.match(oldest, '^%d+'))
return id
"""
_UNAVAILABLE = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)


def stream_id_key(stream_id: str) -> tuple[int, int]:
    """`"1718000000000-3"` -> `(1718000000000, 3)`: stream ids compare as numbers, not text."""
    milliseconds, dash, sequence = stream_id.partition("-")
    if not (dash and _digits(milliseconds) and _digits(sequence)):
        raise InvalidCursor(stream_id)
    return int(milliseconds), int(sequence)


class RedisStreamBus:
    def __init__(
        self,
        redis: str | Redis,
        *,
        stream: str,
        retention: int = 100_000,
        block_ms: int = 5000,
        exact_trim: bool = False,
        batch: int = 500,
        listener_name: str | None = None,
        max_backoff: float = 5.0,
    ) -> None:
        if retention < 1:
            raise ValueError("retention must be at least 1")
        self.stream = stream
        self.index = f"{stream}:ids"
        self.retention = retention
        self.block_ms = block_ms
        # MAXLEN ~ trims whole macro nodes only, which is far cheaper; exact trimming is for
        # tests that need to know which entries are gone.
        self.exact_trim = exact_trim
        self.batch = batch
        self.max_backoff = max_backoff
        self._owns_client = isinstance(redis, str)
        if isinstance(redis, str):
            # Few, quick retries: when Redis is down, publish should fail fast (the outbox
            # relay publishes the row later) rather than hold the caller for seconds.
            redis = Redis.from_url(
                redis,
                socket_connect_timeout=2,
                socket_timeout=5,
                retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), 2),
            )
        self.client = redis
        pool = redis.connection_pool
        listener_kwargs = dict(pool.connection_kwargs)
        listener_kwargs.update(
            client_name=listener_name or f"{stream}-listener",
            # A blocked XREAD answers within block_ms; silence well past that is a dead peer.
            socket_timeout=block_ms / 1000 + 10,
            # The listen loop does its own reconnecting, with a backoff it logs.
            retry=Retry(NoBackoff(), 0),
        )
        self._listener_pool = ConnectionPool(
            connection_class=pool.connection_class, max_connections=1, **listener_kwargs
        )
        self._listener = Redis(connection_pool=self._listener_pool)
        self._publish = redis.register_script(_PUBLISH)
        self._closed = False
        self._closing = asyncio.Event()

    @staticmethod
    def sort_key(cursor: str) -> tuple[int, ...]:
        return stream_id_key(cursor)

    async def publish(self, envelope: Envelope) -> str:
        if self._closed:
            raise RuntimeError("the bus is closed")
        stream_id = await _answer(
            self._publish(
                keys=[self.stream, self.index],
                args=[
                    self.retention,
                    envelope.model_dump_json(),
                    "=" if self.exact_trim else "~",
                    envelope.id,
                ],
            )
        )
        return _text(stream_id)

    async def replay(self, after: str | None, *, limit: int) -> list[Positioned]:
        return _decoded(await self._range(after, limit))

    async def latest(self) -> str | None:
        newest: Any = await _answer(self.client.xrevrange(self.stream, "+", "-", count=1))
        return _text(newest[0][0]) if newest else None

    async def listen(self, after: str | None) -> AsyncIterator[list[Positioned]]:
        # Two modes. Catching up (a given cursor, a reconnect, or a full batch, i.e. the
        # reader is behind) reads with replay(), which notices trimmed entries; at the tail,
        # XREAD BLOCK waits for the next entries.
        last = after
        catching_up = after is not None
        failures = 0
        while not self._closed:
            try:
                if last is None:
                    # Not "$": an XREAD that times out would lose what arrives before the
                    # next one. Pin "now" to a concrete id once.
                    last = await self.tail()
                if catching_up:
                    entries = await self._range(last, self.batch)
                else:
                    entries = await self._read_after(last)
            except Unavailable as error:
                if self._closed:
                    return
                delay = self._backoff(failures)
                failures += 1
                log.warning(
                    "feed listener: Redis unavailable (%s); retrying in %.2fs", error, delay
                )
                catching_up = last is not None
                # Sleep, but wake at once if the bus is closed meanwhile.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), delay)
                continue
            except Exception:
                # close() pulls the connection from under a blocked XREAD, which redis-py
                # may report as almost anything.
                if self._closed:
                    return
                raise
            if failures:
                log.info("feed listener: Redis is back; continuing after %s", last)
                failures = 0
            catching_up = len(entries) >= self.batch
            if entries:
                # The raw last id, not the last decoded one: an entry that does not decode
                # must be stepped over, not read again and again.
                last = _text(entries[-1][0])
                batch = _decoded(entries)
                if batch:
                    yield batch

    async def close(self) -> None:
        self._closed = True
        self._closing.set()
        # Interrupts a blocked XREAD; the listen loop sees the bus closed and ends.
        await self._listener_pool.disconnect()
        if self._owns_client:
            await self.client.aclose()

    async def tail(self) -> str:
        try:
            info = await _answer(self.client.xinfo_stream(self.stream))
        except redis_errors.ResponseError:
            # No such key yet: the first entry will be newer than 0-0.
            return _EMPTY
        return _text(info["last-generated-id"])

    async def _range(self, after: str | None, limit: int) -> list[Any]:
        if after is None:
            entries: Any = await _answer(self.client.xrange(self.stream, "-", "+", count=limit))
            return list(entries)
        after_key = stream_id_key(after)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.xinfo_stream(self.stream)
            pipe.xrange(self.stream, f"({after}", "+", count=limit)
            info, entries = await _answer(pipe.execute(raise_on_error=False))
        if isinstance(entries, Exception):
            raise entries
        if isinstance(info, redis_errors.ResponseError):
            # No such key: the stream was never written (or was deleted). Only the empty
            # stream's tail, 0-0, is a cursor into it.
            info = {"max-deleted-entry-id": _EMPTY, "last-generated-id": _EMPTY}
        elif isinstance(info, Exception):
            raise info
        if _gap_after(after_key, info):
            raise CursorExpired(after)
        return list(entries)

    async def _read_after(self, last: str) -> list[Any]:
        reply: Any = await _answer(
            self._listener.xread({self.stream: last}, count=self.batch, block=self.block_ms)
        )
        if not reply:
            return []
        # RESP2 answers [[stream, entries]], RESP3 {stream: [entries]}.
        entries = next(iter(reply.values()))[0] if isinstance(reply, dict) else reply[0][1]
        return list(entries)

    def _backoff(self, failures: int) -> float:
        # The first retry is immediate (a single dropped connection is the common case);
        # then exponential with full jitter, so replicas do not reconnect in lockstep.
        if failures == 0:
            return 0.0
        return random.uniform(0, min(self.max_backoff, 0.05 * 2**failures))


async def _answer(command: Awaitable[T]) -> T:
    try:
        result = await command
    except _UNAVAILABLE as error:
        raise Unavailable(str(error)) from error
    # Python 3.11's asyncio.wait_for, which redis-py wraps around socket writes when a
    # socket timeout is set, can return a result and drop a cancellation that arrived at
    # the same moment (CPython gh-86296, fixed in 3.12). The task still counts it, so
    # raise it here: otherwise a cancelled listener or resume would carry on reading.
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
    return result


def _gap_after(after: tuple[int, int], info: dict[str, Any]) -> bool:
    """Whether an entry newer than `after` is gone, from XINFO STREAM."""
    if "max-deleted-entry-id" not in info:
        raise RuntimeError("the feed needs Redis >= 7.0 (XINFO STREAM max-deleted-entry-id)")
    last_generated = stream_id_key(_text(info["last-generated-id"]))
    if after > last_generated:
        return True  # never issued by this stream
    if stream_id_key(_text(info["max-deleted-entry-id"])) > after:
        return True  # removed by XDEL
    first = info.get("first-entry")
    if not first:
        # Nothing retained: a gap if anything was ever added after the cursor.
        return after < last_generated
    first_id, fields = first
    if stream_id_key(_text(first_id)) <= after:
        return False
    prev = fields.get(PREV) or fields.get(PREV.encode()) if fields else None
    if prev is None:
        # Not written by this bus, so the newest trimmed id is unknown: a gap if anything
        # was ever trimmed.
        return int(info.get("entries-added", 0)) > int(info.get("length", 0))
    return after < stream_id_key(_text(prev))


def _decoded(entries: Sequence[Any]) -> list[Positioned]:
    decoded = []
    for stream_id, fields in entries:
        try:
            envelope = Envelope.model_validate_json(_field(fields))
        except (KeyError, ValueError):
            # Something other than our publisher wrote to the stream. Skipping it keeps one
            # bad entry from stopping every reader, forever, at the same place.
            log.error("feed stream entry %s is not an envelope; skipped", _text(stream_id))
            continue
        decoded.append(Positioned(cursor=_text(stream_id), envelope=envelope))
    return decoded


def _field(fields: dict[Any, Any]) -> str | bytes:
    value = fields.get(FIELD)
    if value is None:
        value = fields[FIELD.encode()]
    return value  # type: ignore[no-any-return]


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()
