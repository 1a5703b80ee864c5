"""Rate limits as `coalition-hub serve` applies them: processes on one Redis draw on one
budget per client, and behind a trusted proxy the client is the forwarded address."""

import httpx

from tests.hub_processes import hub_environment, hub_processes

TYPENAME = {"query": "{ __typename }"}


async def test_requests_alternated_between_two_processes_share_one_limit(
    settings, engine, redis_url, redis_prefix
):
    environment = {
        **hub_environment(settings, redis_url, redis_prefix),
        "HUB_RATE_LIMITS": "1",
        "HUB_RATE_LIMIT_ANONYMOUS_PER_MINUTE": "5",
        "HUB_RATE_LIMIT_ANONYMOUS_BURST": "5",
    }

    async with hub_processes(environment, 2) as hubs:
        clients = [httpx.AsyncClient(base_url=f"http://{hub.address}") for hub in hubs]
        statuses = [
            (await clients[n % 2].post("/graphql", json=TYPENAME)).status_code for n in range(8)
        ]
        for client in clients:
            await client.aclose()

    assert statuses == [200] * 5 + [429] * 3


async def test_behind_a_trusted_proxy_each_forwarded_client_has_a_budget_of_its_own(
    settings, engine, redis_url, redis_prefix
):
    limited = {
        **hub_environment(settings, redis_url, redis_prefix),
        "HUB_RATE_LIMITS": "1",
        "HUB_RATE_LIMIT_ANONYMOUS_PER_MINUTE": "2",
        "HUB_RATE_LIMIT_ANONYMOUS_BURST": "2",
    }
    # `serve` believes X-Forwarded-For from loopback unless told otherwise.
    limited.pop("FORWARDED_ALLOW_IPS", None)
    behind_loopback = {**limited, "HUB_REDIS_PREFIX": f"{redis_prefix}trusted:"}
    behind_other = {
        **limited,
        "HUB_REDIS_PREFIX": f"{redis_prefix}untrusted:",
        "FORWARDED_ALLOW_IPS": "192.0.2.1",
    }

    async def statuses(address: str) -> list[int]:
        async with httpx.AsyncClient(base_url=f"http://{address}") as client:
            return [
                (
                    await client.post(
                        "/graphql", json=TYPENAME, headers={"X-Forwarded-For": forwarded}
                    )
                ).status_code
                for forwarded in ("203.0.113.1", "203.0.113.1", "203.0.113.1", "203.0.113.2")
            ]

    async with hub_processes(behind_loopback, 1) as (trusting,):
        trusted = await statuses(trusting.address)
    async with hub_processes(behind_other, 1) as (distrusting,):
        untrusted = await statuses(distrusting.address)

    assert trusted == [200, 200, 429, 200]
    assert untrusted == [200, 200, 429, 429]  # every request is 127.0.0.1's
