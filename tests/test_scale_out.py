"""Two app processes share one feed through Redis Streams: the scale-out path."""

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx

from backend import models
from tests.factories import gid, make_coalition, make_membership, make_organisation, make_token
from tests.feed_client import feed_client

PLEDGE = """
mutation ($input: PledgeCommitmentInput!) {
  pledgeCommitment(input: $input) { __typename ... on Commitment { ref } }
}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def hub_process(environment: dict[str, str]) -> Iterator[str]:
    """`coalition-hub serve` as an OS process of its own; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "backend", "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=environment)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


async def ready(address: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=2) as client:
        async with asyncio.timeout(60):
            while True:
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)


@asynccontextmanager
async def two_processes(settings, redis_url: str, prefix: str) -> AsyncIterator[tuple[str, str]]:
    environment = {
        **os.environ,
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_REDIS_URL": redis_url,
        "HUB_REDIS_PREFIX": prefix,
        "HUB_RELAY_INTERVAL": "0.2",
    }
    with hub_process(environment) as first, hub_process(environment) as second:
        await asyncio.gather(ready(first), ready(second))
        yield first, second


async def test_a_pledge_made_through_one_process_reaches_a_subscriber_on_another(
    settings, session, redis_url, redis_prefix
):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session, name="Brightwave Telecom")
    await make_membership(session, coalition, organisation)
    token = await make_token(session, models.Role.PARTNER_EDITOR, organisation)
    input = {
        "coalitionId": gid(coalition),
        "title": "Connectivity for 200 schools",
        "resourceKind": "FINANCIAL",
        "amount": "120000",
        "currency": "USD",
    }

    async with two_processes(settings, redis_url, redis_prefix) as (first, second):
        feed_on_second = feed_client(f"ws://{second}/graphql")
        async with feed_on_second as feed, httpx.AsyncClient(base_url=f"http://{first}") as client:
            await feed.init()
            await feed.subscribe(coalitionId=gid(coalition), types=["COMMITMENT_PLEDGED"])
            response = await client.post(
                "/graphql",
                json={"query": PLEDGE, "variables": {"input": input}},
                headers={"Authorization": f"Bearer {token}"},
            )
            item = await feed.next_item()

    ref = response.json()["data"]["pledgeCommitment"]["ref"]
    assert item["commitment"]["ref"] == ref
    assert item["organisation"] == {"name": "Brightwave Telecom"}
