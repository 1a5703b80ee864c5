"""The result cache of compiled portal reads: whole responses (JSON bytes) by key.

The caller builds the key from the document, its variables and the actor's visibility
scope, so an entry only ever reaches the scope it was built for. Entries are not dropped
by age but by writes: every committed write bumps the *write generation*, and an entry is
stored and looked up under the generation that was current when its read began, so one bump
puts every earlier entry out of reach. `valid_until` is for what changes with time and no
write (an embargo ending): past it, the entry misses.

Ordering contract — why an entry that misses a write is never served after that write:

- a reader calls `generation()` BEFORE its read transaction begins, and stores its result
  under that generation (SQLite, and PostgreSQL at REPEATABLE READ, read one snapshot per
  transaction: "before the query" means before the snapshot);
- a writer calls `invalidate()` AFTER its COMMIT (`Context.transaction()` does, before the
  mutation returns, so a client reads its own write).

A result that misses a write was read from a snapshot older than that write's COMMIT, so
under a generation taken before the bump that follows the COMMIT: readers look up the
bumped generation from then on, and never that entry. A reader that got the bumped
generation began after the COMMIT and sees the write.

Two kinds, from `create_read_cache(settings)`:

- `MemoryReadCache`: this process's LRU of `read_cache_size` entries. Only this process's
  writes bump it, so it is right for one process (the embedded default). Another worker or
  a command (`coalition-hub seed-demo`) cannot reach it: run several processes with
  HUB_REDIS_URL set, as the live feed needs anyway, or restart after such a command.
- `RedisReadCache` (HUB_REDIS_URL set), shared by every process: the generation is the
  integer at `<prefix>read-cache:generation` (one GET per read, one INCR per write); an
  entry is at `<prefix>read-cache:<generation>:<sha256 of key>`, its valid_until stored
  with it, under an EXPIRE of an hour that bounds memory and nothing else. Commands that
  write bump it too (`invalidate_shared`).

Redis trouble never fails a request and never serves a stale entry. While Redis does not
answer, `generation()` returns None (the caller reads from the database and stores
nothing), `get` misses and `put` does nothing, with one warning per outage. When
`invalidate()` fails, the process owes the bump: its `generation()` tries the INCR again
on every call and returns None until one succeeds, so this process serves nothing cached
before its write. The residual window is in the other processes: one that still reaches
Redis serves entries that miss the write until the owed INCR succeeds (this process's next
request once Redis answers it) or any other write bumps; if this process exits owing it,
until the next write anywhere or the entries' hour runs out.
"""

import datetime as dt
import hashlib
import logging
import time
from typing import Any, Protocol

import orjson
from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from backend.actors import Actor
from backend.config import Settings
from backend.graphql.bounded import Bounded
from backend.services import access

log = logging.getLogger(__name__)

# A bound on memory only: an entry is right until its generation is bumped or its
# valid_until passes, however old; the hour keeps what nobody asks for from piling up.
ENTRY_SECONDS = 3600
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_REDIS_ERRORS = (redis_errors.RedisError, OSError)
# KEYS[1] the generation; ARGV[1] where a lost count starts again (see _fresh_start).
_BUMP = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('INCR', KEYS[1])
"""


def result_key(
    text: str, operation_name: str | None, variables: dict[str, Any] | None, actor: Actor
) -> str:
    """(document, variables, visibility scope): what a read's result depends on, besides
    the data and the time (the generation and valid_until cover those)."""
    kind = access.reader_kind(actor)
    scope = (
        [kind]
        if kind != access.ORGANISATION
        else [kind, actor.organisation_id, sorted(actor.member_coalition_ids)]
    )
    material = orjson.dumps(
        [hashlib.sha256(text.encode()).hexdigest(), operation_name, variables or {}, scope],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(material).hexdigest()


class ReadCache(Protocol):
    async def generation(self) -> int | None:
        """The current write generation; None when the cache cannot be trusted right now
        (Redis does not answer, or a write's bump is owed): read from the database and
        store nothing."""
        ...

    async def get(self, key: str, generation: int, now: dt.datetime) -> bytes | None:
        """The value stored under (key, generation), unless its valid_until is <= now."""
        ...

    async def put(
        self, key: str, generation: int, value: bytes, valid_until: dt.datetime | None
    ) -> None:
        """Keep `value` for readers of `generation` until valid_until (None: until a write)."""
        ...

    async def invalidate(self) -> None:
        """A write committed: bump the generation, so no entry stored before is served
        again. Never raises: the write has committed whatever the cache does."""
        ...

    async def close(self) -> None: ...


def create_read_cache(settings: Settings) -> ReadCache | None:
    """None when the cache is off; in Redis when processes share one, in memory otherwise."""
    if not settings.read_cache:
        return None
    if settings.redis_url is None:
        return MemoryReadCache(settings.read_cache_size)
    return RedisReadCache(settings.redis_url, prefix=settings.redis_prefix)


async def invalidate_shared(settings: Settings) -> None:
    """For a process that writes without serving (a command): bump the generation the
    servers share in Redis. Without Redis there is nothing to reach."""
    if not settings.read_cache or settings.redis_url is None:
        return
    cache = RedisReadCache(settings.redis_url, prefix=settings.redis_prefix)
    try:
        await cache.invalidate()
    finally:
        await cache.close()


class MemoryReadCache:
    def __init__(self, size: int) -> None:
        self.size = size
        self._generation = 0
        self._entries: Bounded[str, tuple[bytes, dt.datetime | None]] = Bounded(size)

    async def generation(self) -> int | None:
        return self._generation

    async def get(self, key: str, generation: int, now: dt.datetime) -> bytes | None:
        if generation != self._generation:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, valid_until = entry
        return value if valid_until is None or valid_until > now else None

    async def put(
        self, key: str, generation: int, value: bytes, valid_until: dt.datetime | None
    ) -> None:
        # Entries of earlier generations are never looked up again: keep them out, so they
        # do not push live ones out of the LRU.
        if generation == self._generation:
            self._entries.put(key, (value, valid_until))

    async def invalidate(self) -> None:
        self._generation += 1
        self._entries = Bounded(self.size)

    async def close(self) -> None:
        self._entries = Bounded(self.size)


class RedisReadCache:
    def __init__(self, url: str, *, prefix: str, entry_seconds: int = ENTRY_SECONDS) -> None:
        # On the read path a silent Redis must cost a request little (it reads from the
        # database instead): short timeouts, and one immediate retry for a pooled connection
        # that a restarted Redis closed.
        self.client = Redis.from_url(
            url, socket_connect_timeout=1, socket_timeout=1, retry=Retry(NoBackoff(), 1)
        )
        self.generation_key = f"{prefix}read-cache:generation"
        self.entry_prefix = f"{prefix}read-cache:"
        self.entry_seconds = entry_seconds
        self._bump = self.client.register_script(_BUMP)
        # A write committed and Redis did not take its INCR: until one succeeds, no entry
        # this process could look up is known to be fresh.
        self._owes_bump = False
        self._outage = False

    async def generation(self) -> int | None:
        try:
            if self._owes_bump:
                current = await self._bump(keys=[self.generation_key], args=[_fresh_start()])
                self._owes_bump = False
            else:
                current = await self.client.get(self.generation_key)
                if current is None:
                    await self.client.set(self.generation_key, _fresh_start(), nx=True)
                    current = await self.client.get(self.generation_key)
        except _REDIS_ERRORS as error:
            self._failed(error)
            return None
        self._answered()
        return None if current is None else int(current)

    async def get(self, key: str, generation: int, now: dt.datetime) -> bytes | None:
        if self._owes_bump:
            return None
        try:
            stored = await self.client.get(self._entry_key(key, generation))
        except _REDIS_ERRORS as error:
            self._failed(error)
            return None
        if not isinstance(stored, bytes):
            return None
        until, _, value = stored.partition(b"\n")
        return value if not until or int(until) > _microseconds(now) else None

    async def put(
        self, key: str, generation: int, value: bytes, valid_until: dt.datetime | None
    ) -> None:
        until = b"" if valid_until is None else b"%d" % _microseconds(valid_until)
        try:
            await self.client.set(
                self._entry_key(key, generation), until + b"\n" + value, ex=self.entry_seconds
            )
        except _REDIS_ERRORS as error:
            self._failed(error)

    async def invalidate(self) -> None:
        try:
            await self._bump(keys=[self.generation_key], args=[_fresh_start()])
        except _REDIS_ERRORS as error:
            if not self._owes_bump:
                log.warning(
                    "read cache: a write committed but Redis did not take its bump (%r); this "
                    "process reads from the database until it does, other processes may serve "
                    "results from before the write meanwhile",
                    error,
                )
            self._owes_bump = True
            self._outage = True
            return
        self._owes_bump = False
        self._answered()

    async def close(self) -> None:
        await self.client.aclose()

    def _entry_key(self, key: str, generation: int) -> str:
        return f"{self.entry_prefix}{generation}:{hashlib.sha256(key.encode()).hexdigest()}"

    def _failed(self, error: Exception) -> None:
        if not self._outage:
            log.warning("read cache: Redis does not answer (%r); reading from the database", error)
            self._outage = True

    def _answered(self) -> None:
        if self._outage:
            log.info("read cache: Redis answers again")
            self._outage = False


def _fresh_start() -> int:
    """Where the generation starts when its key is missing (first use, or lost: evicted,
    deleted, a Redis restarted without its data): the time in milliseconds, above every
    earlier count unless writes came faster than one a millisecond, so entries of an earlier
    count that are still around are never looked up. Time orders generations here; it never
    decides whether an entry is fresh."""
    return time.time_ns() // 1_000_000


def _microseconds(moment: dt.datetime) -> int:
    """Exact (no float), and a naive datetime fails loudly rather than being taken as local."""
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)
