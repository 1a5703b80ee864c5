import asyncio
import datetime as dt
import logging

import httpx
import pytest
import sqlalchemy as sa
from redis.asyncio import Redis
from sqlmodel import col

from backend import models
from backend.config import Settings
from backend.graphql.read_cache import (
    MemoryReadCache,
    RedisReadCache,
    create_read_cache,
    invalidate_shared,
)
from backend.main import create_app
from backend.services import outbox
from events.memory import MemoryBus
from tests.factories import (
    gid,
    make_coalition,
    make_commitment,
    make_member_editor,
    make_organisation,
)
from tests.hub_processes import free_port
from tests.redis_server import private_redis

NOW = dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC)
KEY = 'CoalitionPage:{"slug":"learning-continuity"}:anonymous'
PLEDGE = """
mutation ($input: PledgeCommitmentInput!) {
  pledgeCommitment(input: $input) { __typename ... on Error { code } }
}
"""


@pytest.fixture(params=["memory", "redis"])
def redis_of_cache(request):
    """Where the `cache` under test keeps its entries: None (memory), or Redis and a prefix."""
    if request.param == "memory":
        return None
    return request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")


@pytest.fixture
async def cache(redis_of_cache):
    if redis_of_cache is None:
        yield MemoryReadCache(100)
        return
    redis_url, prefix = redis_of_cache
    cache = RedisReadCache(redis_url, prefix=prefix)
    yield cache
    await cache.close()


@pytest.fixture
async def redis_caches(redis_url, redis_prefix):
    """Two processes' caches on one Redis."""
    one = RedisReadCache(redis_url, prefix=redis_prefix)
    two = RedisReadCache(redis_url, prefix=redis_prefix)
    yield one, two
    await one.close()
    await two.close()


async def _pledge(app, coalition, token, *, amount="1000"):
    """What the pledge mutation answers, sent to `app` over ASGI as a portal would."""
    variables = {
        "input": {
            "coalitionId": gid(coalition),
            "title": "Mobile data for teachers",
            "resourceKind": "FINANCIAL",
            "amount": amount,
            "currency": "EUR",
        }
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        response = await client.post(
            "/graphql",
            json={"query": PLEDGE, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    return response.json()


async def test_a_stored_value_is_served_for_its_key_and_generation_only(cache):
    generation = await cache.generation()

    await cache.put(KEY, generation, b'{"data":{"coalition":null}}', None)

    assert [
        await cache.get(KEY, generation, NOW),
        await cache.get(KEY + ":member", generation, NOW),
        await cache.get(KEY, generation + 1, NOW),
    ] == [b'{"data":{"coalition":null}}', None, None]


async def test_after_a_write_nothing_stored_before_it_is_served(cache):
    before = await cache.generation()
    await cache.put(KEY, before, b"before the write", None)

    await cache.invalidate()

    after = await cache.generation()
    assert (after, await cache.get(KEY, after, NOW)) == (before + 1, None)


async def test_a_result_read_before_a_write_and_stored_after_it_is_never_served(cache):
    # The reader took the generation and queried; then the write committed and bumped.
    generation = await cache.generation()
    await cache.invalidate()

    await cache.put(KEY, generation, b"missing the write", None)

    assert await cache.get(KEY, await cache.generation(), NOW) is None


async def test_an_entry_is_served_only_before_its_valid_until(cache):
    generation = await cache.generation()
    moment = dt.timedelta(microseconds=1)

    for name, valid_until in [("past", NOW - moment), ("now", NOW), ("future", NOW + moment)]:
        await cache.put(name, generation, name.encode(), valid_until)

    assert [await cache.get(name, generation, NOW) for name in ("past", "now", "future")] == [
        None,
        None,
        b"future",
    ]


async def test_the_memory_cache_forgets_the_least_recently_used_entry_beyond_its_size():
    cache = MemoryReadCache(2)
    generation = await cache.generation()
    await cache.put("a", generation, b"A", None)
    await cache.put("b", generation, b"B", None)
    await cache.get("a", generation, NOW)

    await cache.put("c", generation, b"C", None)

    assert [await cache.get(key, generation, NOW) for key in "abc"] == [b"A", None, b"C"]


async def test_redis_entries_expire_within_an_hour_to_bound_memory(redis_url, redis_prefix):
    cache = RedisReadCache(redis_url, prefix=redis_prefix)
    generation = await cache.generation()
    client = Redis.from_url(redis_url)

    await cache.put(KEY, generation, b"value", None)

    keys = [key async for key in client.scan_iter(match=f"{redis_prefix}read-cache:*")]
    entries = [key for key in keys if key != cache.generation_key.encode()]
    ttls = [await client.ttl(key) for key in entries]
    assert (len(entries), 0 < ttls[0] <= 3600) == (1, True), (entries, ttls)
    await client.aclose()
    await cache.close()


async def test_two_processes_share_entries_and_see_each_others_writes(redis_caches):
    one, two = redis_caches
    generation = await one.generation()
    await one.put(KEY, generation, b"stored by one", None)
    served_to_two = await two.get(KEY, await two.generation(), NOW)

    await two.invalidate()

    after = await one.generation()
    assert (served_to_two, after, await one.get(KEY, after, NOW)) == (
        b"stored by one",
        generation + 1,
        None,
    )


async def test_a_lost_generation_starts_again_above_the_old_count(redis_url, redis_caches):
    # Evicted, deleted, or a Redis restarted without its data while entries survived.
    cache, _ = redis_caches
    generation = await cache.generation()
    await cache.put(KEY, generation, b"stored before the loss", None)
    client = Redis.from_url(redis_url)
    await asyncio.sleep(0.01)

    await client.delete(cache.generation_key)

    again = await cache.generation()
    assert (again > generation, await cache.get(KEY, again, NOW)) == (True, None)
    await client.aclose()


async def test_an_unreachable_redis_bypasses_the_cache_with_one_warning(caplog):
    cache = RedisReadCache(f"redis://127.0.0.1:{free_port()}/0", prefix="hub:")
    caplog.set_level(logging.WARNING, logger="backend.graphql.read_cache")

    answers = []
    for _ in range(3):
        answers.append(await cache.generation())
        answers.append(await cache.get(KEY, 1, NOW))
        await cache.put(KEY, 1, b"value", None)

    assert answers == [None] * 6
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    await cache.close()


async def test_a_write_redis_missed_keeps_this_process_off_the_cache_until_recorded():
    async with private_redis() as server:
        writer = RedisReadCache(server.url, prefix="hub:")
        other = RedisReadCache(server.url, prefix="hub:")
        generation = await writer.generation()
        await writer.put(KEY, generation, b"missing the write", None)
        await server.crash()

        await writer.invalidate()

        while_down = await writer.generation()
        await server.start()
        # Back, with its data: the other process is in the documented window, this one not.
        served_to_writer = await writer.get(KEY, generation, NOW)
        served_to_other = await other.get(KEY, await other.generation(), NOW)
        recorded = await writer.generation()
        after = await other.generation()
        assert (while_down, served_to_writer, served_to_other, recorded, after) == (
            None,
            None,
            b"missing the write",
            generation + 1,
            generation + 1,
        )
        assert await other.get(KEY, after, NOW) is None
        await writer.close()
        await other.close()


async def test_a_pledge_through_the_api_bumps_the_generation_a_refusal_does_not(
    settings, engine, session
):
    app = create_app(settings.model_copy(update={"read_cache": True}), engine=engine)
    cache = app.state.read_cache
    coalition, token = await make_member_editor(session)
    before = await cache.generation()

    refused = await _pledge(app, coalition, token, amount="-1")
    after_refusal = await cache.generation()
    pledged = await _pledge(app, coalition, token)

    assert (refused, after_refusal) == (
        {"data": {"pledgeCommitment": {"__typename": "ValidationFailed", "code": "INVALID_INPUT"}}},
        before,
    )
    assert (pledged, await cache.generation()) == (
        {"data": {"pledgeCommitment": {"__typename": "Commitment"}}},
        before + 1,
    )


async def test_a_pledge_in_one_process_bumps_the_generation_another_reads(
    settings, engine, session, redis_url, redis_prefix, redis_caches
):
    _, elsewhere = redis_caches
    shared = {"read_cache": True, "redis_url": redis_url, "redis_prefix": redis_prefix}
    app = create_app(settings.model_copy(update=shared), engine=engine)
    coalition, token = await make_member_editor(session)
    before = await elsewhere.generation()

    pledged = await _pledge(app, coalition, token)

    assert (pledged, await elsewhere.generation()) == (
        {"data": {"pledgeCommitment": {"__typename": "Commitment"}}},
        before + 1,
    )
    await app.state.read_cache.close()
    await app.state.bus.close()


async def test_an_embargo_announced_by_the_relay_bumps_the_generation(session_factory, session):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    tomorrow = models.utcnow() + dt.timedelta(days=1)
    embargoed = await make_commitment(session, coalition, organisation, embargo_until=tomorrow)
    await session.execute(
        sa.update(models.Commitment)
        .where(col(models.Commitment.id) == embargoed.id)
        .values(embargo_until=models.utcnow())
    )
    await session.commit()
    cache = MemoryReadCache(10)
    announced = asyncio.Event()

    async def after_announcing() -> None:
        await cache.invalidate()
        announced.set()

    relay = outbox.Relay(
        session_factory, MemoryBus(), interval=0.05, after_announcing=after_announcing
    )

    relay.start()
    try:
        await asyncio.wait_for(announced.wait(), timeout=10)
        # A few more sweeps, which find nothing left to announce.
        await asyncio.sleep(0.3)
    finally:
        await relay.stop()

    assert await cache.generation() == 1


async def test_a_command_bumps_the_generation_servers_share(
    settings, redis_url, redis_prefix, redis_caches
):
    server, _ = redis_caches
    shared = {"read_cache": True, "redis_url": redis_url, "redis_prefix": redis_prefix}
    before = await server.generation()

    await invalidate_shared(settings.model_copy(update=shared))

    assert await server.generation() == before + 1


async def test_the_settings_choose_the_cache():
    redis_url = "redis://127.0.0.1:6379/0"
    kinds = [
        create_read_cache(Settings(read_cache=False, redis_url=redis_url)),
        create_read_cache(Settings(read_cache=True, redis_url=None, read_cache_size=7)),
        create_read_cache(Settings(read_cache=True, redis_url=redis_url)),
    ]

    assert [type(kind) for kind in kinds] == [type(None), MemoryReadCache, RedisReadCache]
    assert kinds[1].size == 7
    await kinds[2].close()
