"""Token buckets: how many requests a key (an IP, a credential) may make, and when it may
make the next one.

A bucket holds up to `burst` tokens and refills at `per_minute` tokens a minute; a request
takes one. Two kinds behind one protocol:

- `MemoryTokenBucket`: this process's buckets, in a bounded dict (the least recently used
  key leaves first, which hands it a full bucket: the forgiving direction). Right for one
  process; several processes each keep their own, so a client spreading its requests over
  N processes gets N times the limit.
- `RedisTokenBucket` (HUB_REDIS_URL set): one hash per key at
  `<prefix>rate:<kind>:<id>`, read and written by one Lua script per take, on the clock
  of the Redis server (so the processes' clocks need not agree); a key expires once its
  bucket would be full again, since a missing key is a full bucket. Every process shares
  the budget.

Redis trouble never refuses every request, nor lets every request through: while Redis
does not answer, each process limits with a memory bucket of its own (the same rate, per
process), with one warning per outage, and tries Redis again once a second.
"""

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from backend.graphql.bounded import Bounded

log = logging.getLogger(__name__)

Clock = Callable[[], float]

# Keys a memory bucket keeps; each entry is a few hundred bytes.
MEMORY_KEYS = 100_000
# How long a process limits from memory before it tries an unanswering Redis again: a
# Redis that drops packets would otherwise cost every request its socket timeout.
REDIS_RETRY_SECONDS = 1.0
_REDIS_ERRORS = (redis_errors.RedisError, OSError)

# KEYS[1] the bucket; ARGV: burst, tokens per millisecond, cost. Time is the server's, in
# whole milliseconds (Lua turns numbers into strings with 14 digits: a float of seconds
# would lose its milliseconds). Returns {allowed, milliseconds until the take would be}.
_TAKE = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = burst
if state[1] then
  tokens = math.min(burst, tonumber(state[1]) + math.max(0, now - tonumber(state[2])) * rate)
end
local need = math.max(cost, 1)
if tokens < need then
  return {0, math.ceil((need - tokens) / rate)}
end
if cost > 0 then
  tokens = tokens - cost
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 1)
end
return {1, 0}
"""


@dataclass(frozen=True)
class Rate:
    per_minute: float
    burst: int

    @property
    def per_second(self) -> float:
        return self.per_minute / 60


@dataclass(frozen=True)
class Decision:
    allowed: bool
    # Seconds until the same take would be allowed; 0 when it was.
    retry_after: float = 0.0

    @property
    def retry_after_seconds(self) -> int:
        """Whole seconds, rounded up, as `Retry-After` says it: never 0 for a refusal."""
        return max(1, math.ceil(self.retry_after)) if not self.allowed else 0


ALLOWED = Decision(True)


class TokenBucket(Protocol):
    async def take(self, key: str, cost: int = 1) -> Decision:
        """Take `cost` tokens from `key`'s bucket if it holds that many (refused: nothing
        taken). `cost=0` takes nothing and asks whether one token is left."""
        ...


def bucket_key(prefix: str, kind: str, id: str) -> str:
    """Where a bucket lives in Redis: the only place that names it."""
    return f"{prefix}rate:{kind}:{id}"


class MemoryTokenBucket:
    def __init__(self, rate: Rate, *, size: int = MEMORY_KEYS, clock: Clock = time.monotonic):
        self.rate = rate
        self.clock = clock
        # key -> (tokens, when they were counted)
        self._buckets: Bounded[str, tuple[float, float]] = Bounded(size)

    async def take(self, key: str, cost: int = 1) -> Decision:
        now = self.clock()
        tokens = float(self.rate.burst)
        counted = self._buckets.get(key)
        if counted is not None:
            left, at = counted
            tokens = min(tokens, left + max(0.0, now - at) * self.rate.per_second)
        need = max(cost, 1)
        if tokens < need:
            return Decision(False, (need - tokens) / self.rate.per_second)
        if cost > 0:
            self._buckets.put(key, (tokens - cost, now))
        return ALLOWED


class RedisBuckets:
    """One Redis connection for all of a process's buckets, and what it knows of outages."""

    def __init__(self, url: str, *, prefix: str, clock: Clock = time.monotonic) -> None:
        # Every request waits for its take: a silent Redis must cost it little (short
        # timeouts), and a pooled connection a restarted Redis closed is retried at once.
        self.client = Redis.from_url(
            url, socket_connect_timeout=1, socket_timeout=1, retry=Retry(NoBackoff(), 1)
        )
        self.prefix = prefix
        self.clock = clock
        self.script = self.client.register_script(_TAKE)
        self._retry_at: float | None = None  # set during an outage

    def bucket(self, kind: str, rate: Rate) -> "RedisTokenBucket":
        return RedisTokenBucket(self, kind=kind, rate=rate)

    @property
    def reachable(self) -> bool:
        """Whether to ask Redis: yes, unless it failed less than a retry interval ago."""
        return self._retry_at is None or self.clock() >= self._retry_at

    def failed(self, error: Exception) -> None:
        if self._retry_at is None:
            log.warning(
                "rate limits: Redis does not answer (%r); each process limits from its own "
                "memory until it does",
                error,
            )
        self._retry_at = self.clock() + REDIS_RETRY_SECONDS

    def answered(self) -> None:
        if self._retry_at is not None:
            log.info("rate limits: Redis answers again")
            self._retry_at = None

    async def close(self) -> None:
        await self.client.aclose()


class RedisTokenBucket:
    def __init__(self, redis: RedisBuckets, *, kind: str, rate: Rate) -> None:
        self.redis = redis
        self.kind = kind
        self.rate = rate
        self.fallback = MemoryTokenBucket(rate, clock=redis.clock)

    async def take(self, key: str, cost: int = 1) -> Decision:
        if not self.redis.reachable:
            return await self.fallback.take(key, cost)
        try:
            allowed, wait_ms = await self.redis.script(
                keys=[bucket_key(self.redis.prefix, self.kind, key)],
                args=[self.rate.burst, self.rate.per_second / 1000, cost],
            )
        except _REDIS_ERRORS as error:
            self.redis.failed(error)
            return await self.fallback.take(key, cost)
        self.redis.answered()
        return ALLOWED if allowed else Decision(False, int(wait_ms) / 1000)
