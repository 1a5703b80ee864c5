"""Token buckets in memory (on a fake clock) and in Redis (the test server, and one of the
test's own to take down).

Rates here are a few a minute, so what refills during a test is a fraction of a token.
"""

import logging

import pytest
from redis.asyncio import Redis

from backend.graphql.token_buckets import (
    REDIS_RETRY_SECONDS,
    Decision,
    MemoryTokenBucket,
    Rate,
    RedisBuckets,
    bucket_key,
)
from tests.hub_processes import free_port
from tests.redis_server import private_redis


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_memory_bucket_holds_its_burst_and_refills_at_its_rate():
    clock = FakeClock()
    bucket = MemoryTokenBucket(Rate(per_minute=60, burst=3), clock=clock)

    burst = [await bucket.take("ip") for _ in range(4)]
    clock.now += 0.25
    early = await bucket.take("ip")
    clock.now += 0.75
    refilled = [await bucket.take("ip") for _ in range(2)]
    clock.now += 3600
    rested = [(await bucket.take("ip")).allowed for _ in range(4)]

    assert burst == [Decision(True)] * 3 + [Decision(False, 1.0)]
    assert early == Decision(False, 0.75)
    assert refilled == [Decision(True), Decision(False, 1.0)]
    assert rested == [True, True, True, False]


async def test_a_take_of_nothing_asks_whether_a_token_is_left():
    clock = FakeClock()
    bucket = MemoryTokenBucket(Rate(per_minute=6, burst=2), clock=clock)

    asked = [await bucket.take("ip", cost=0) for _ in range(3)]
    taken = [await bucket.take("ip") for _ in range(2)]
    empty = await bucket.take("ip", cost=0)

    assert asked == [Decision(True)] * 3
    assert taken == [Decision(True)] * 2
    assert empty == Decision(False, 10.0)
    assert (empty.retry_after_seconds, Decision(False, 0.2).retry_after_seconds) == (10, 1)


async def test_keys_have_buckets_of_their_own_and_the_least_recently_used_is_forgotten():
    bucket = MemoryTokenBucket(Rate(per_minute=1, burst=1), size=2, clock=FakeClock())

    first = [(await bucket.take(key)).allowed for key in ("a", "b", "a", "c")]
    again = [(await bucket.take(key)).allowed for key in ("a", "b")]

    assert first == [True, True, False, True]
    assert again == [False, True]  # "b" was forgotten for "c": a full bucket again


@pytest.fixture
async def two_processes_buckets(redis_url, redis_prefix):
    """The same bucket as two processes sharing one Redis see it."""
    one = RedisBuckets(redis_url, prefix=redis_prefix)
    two = RedisBuckets(redis_url, prefix=redis_prefix)
    rate = Rate(per_minute=5, burst=5)
    yield one.bucket("anonymous", rate), two.bucket("anonymous", rate)
    await one.close()
    await two.close()


async def test_redis_buckets_with_one_prefix_share_the_budget(two_processes_buckets):
    one, two = two_processes_buckets

    taken = [(await (one, two)[n % 2].take("203.0.113.9")).allowed for n in range(7)]
    refused = await one.take("203.0.113.9")
    elsewhere = await two.take("203.0.113.10")

    assert taken == [True] * 5 + [False] * 2
    assert not refused.allowed and 0 < refused.retry_after <= 12
    assert refused.retry_after_seconds in range(1, 13)
    assert elsewhere == Decision(True)


async def test_a_redis_bucket_expires_once_it_would_be_full_again(
    redis_url, redis_prefix, two_processes_buckets
):
    one, _ = two_processes_buckets
    client = Redis.from_url(redis_url)
    key = bucket_key(redis_prefix, "anonymous", "203.0.113.9")

    untouched = await one.take("203.0.113.9", cost=0)
    ttl_after_asking = await client.pttl(key)
    await one.take("203.0.113.9")
    ttl = await client.pttl(key)
    await client.aclose()

    assert (untouched, ttl_after_asking) == (Decision(True), -2)  # -2: no such key
    assert 0 < ttl <= 12_001  # one token back at 5 a minute


async def test_an_unreachable_redis_limits_from_memory_with_one_warning(caplog):
    redis = RedisBuckets(f"redis://127.0.0.1:{free_port()}/0", prefix="hub:")
    bucket = redis.bucket("anonymous", Rate(per_minute=2, burst=2))
    caplog.set_level(logging.WARNING, logger="backend.graphql.token_buckets")

    taken = [(await bucket.take("203.0.113.9")).allowed for _ in range(4)]
    other = await bucket.take("203.0.113.10")

    assert taken == [True, True, False, False]
    assert other == Decision(True)
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    await redis.close()


async def test_after_an_outage_redis_is_asked_again_and_its_budget_still_holds():
    clock = FakeClock()
    async with private_redis() as server:
        redis = RedisBuckets(server.url, prefix="hub:", clock=clock)
        bucket = redis.bucket("principal", Rate(per_minute=1, burst=3))

        before = await bucket.take("key")
        await server.crash()
        while_down = [(await bucket.take("key")).allowed for _ in range(3)]
        await server.start()
        within_a_second = await bucket.take("key")
        clock.now += REDIS_RETRY_SECONDS
        back = [(await bucket.take("key")).allowed for _ in range(3)]
        await redis.close()

    assert before == Decision(True)
    assert while_down == [True, True, True]  # from memory: a full bucket of this process's
    assert not within_a_second.allowed  # still memory, emptied meanwhile
    assert back == [True, True, False]  # Redis again, where one of its three was taken
