"""Buses for the event tests: the in-memory one, and Redis Streams on a real server.

The server and the key prefixes come from tests/conftest.py (`redis_url`,
`redis_run_prefix`, `redis_prefix`); each test gets a stream of its own.
"""

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from events import channels
from events.bus import Bus
from events.envelope import Envelope
from events.memory import MemoryBus
from events.redis_streams import RedisStreamBus

MakeBus = Callable[..., Bus]
# Nothing listens on port 1: a Redis that does not answer.
UNREACHABLE = "redis://127.0.0.1:1/0"


@pytest_asyncio.fixture(loop_scope="session")
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    """A plain client, for looking at the server the way an operator would."""
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def make_redis_bus(
    redis_url: str, redis_prefix: str
) -> AsyncIterator[Callable[..., RedisStreamBus]]:
    buses: list[RedisStreamBus] = []

    def make(**options: Any) -> RedisStreamBus:
        options.setdefault("stream", channels.feed_stream(redis_prefix))
        options.setdefault("listener_name", channels.feed_listener(redis_prefix))
        # Short blocks keep a closed bus's listener from lingering; exact trimming makes
        # the retention tests deterministic.
        options.setdefault("block_ms", 1000)
        options.setdefault("exact_trim", True)
        bus = RedisStreamBus(redis_url, **options)
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        await bus.close()


@pytest_asyncio.fixture(loop_scope="session")
async def make_memory_bus() -> AsyncIterator[Callable[..., MemoryBus]]:
    buses: list[MemoryBus] = []

    def make(**options: Any) -> MemoryBus:
        bus = MemoryBus(**options)
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        await bus.close()


@pytest.fixture(params=["memory", "redis"])
def make_bus(request: pytest.FixtureRequest) -> MakeBus:
    """Builds buses of one kind; each test that uses it runs once per kind."""
    make: MakeBus = request.getfixturevalue(f"make_{request.param}_bus")
    return make


@pytest.fixture
def bus(make_bus: MakeBus) -> Bus:
    return make_bus()


def envelope(number: int = 1, **changes: Any) -> Envelope:
    """An activity event, told apart from its siblings by `number` (its subject id)."""
    fields: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "type": "activity.published",
        "occurred_at": dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC),
        "coalition_id": 1,
        "organisation_id": 2,
        "visibility": "PUBLIC",
        "embargo_until": None,
        "subject_type": "activity",
        "subject_id": number,
        "payload": {"id": number, "title": f"Activity {number}"},
    }
    return Envelope(**(fields | changes))
