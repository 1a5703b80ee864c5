"""The result cache of compiled reads: a write shows in the next read, whichever process
made it; a cached answer never crosses visibility scopes; an embargo ending is a change."""

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any

import httpx

from backend import models
from backend.graphql.compiled import reads as compiled_reads
from backend.main import create_app
from tests.factories import (
    gid,
    make_coalition,
    make_commitment,
    make_membership,
    make_organisation,
    make_token,
)
from tests.graphql.test_compiled_reads import PORTAL
from tests.hub_processes import two_processes

PLEDGE = """
mutation ($input: PledgeCommitmentInput!) {
  pledgeCommitment(input: $input) { __typename ... on Commitment { ref } }
}
"""


async def _page(client: httpx.AsyncClient, coalition: models.Coalition, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    variables = {"slug": coalition.slug, "coalitionId": gid(coalition)}
    body = {"query": PORTAL, "operationName": "CoalitionPage", "variables": variables}
    response = await client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    return response.json()["data"]["coalition"]


def _titles(page: dict[str, Any]) -> set[str]:
    return {
        commitment["title"]
        for membership in page["memberships"]
        for commitment in membership["organisation"]["commitments"]
    }


async def test_a_pledge_through_another_process_shows_in_the_next_read(
    settings, session, redis_url, redis_prefix
):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session, name="Brightwave Telecom")
    await make_membership(session, coalition, organisation)
    await make_commitment(session, coalition, organisation, title="Laptops for teachers")
    token = await make_token(session, models.Role.PARTNER_EDITOR, organisation)

    async with (
        two_processes(settings, redis_url, redis_prefix) as (first, second),
        httpx.AsyncClient(base_url=f"http://{first}") as reader,
        httpx.AsyncClient(base_url=f"http://{second}") as writer,
    ):
        before = _titles(await _page(reader, coalition))
        # Written behind the hub's back (no write path, so no invalidation): a read
        # that still misses it comes from the cache.
        await make_commitment(session, coalition, organisation, title="Unseen by the cache")
        cached = _titles(await _page(reader, coalition))
        input = {
            "coalitionId": gid(coalition),
            "title": "Connectivity for 200 schools",
            "resourceKind": "FINANCIAL",
            "amount": "120000",
            "currency": "USD",
        }
        pledged = await writer.post(
            "/graphql",
            json={"query": PLEDGE, "variables": {"input": input}},
            headers={"Authorization": f"Bearer {token}"},
        )
        after = _titles(await _page(reader, coalition))

    assert pledged.json()["data"]["pledgeCommitment"]["__typename"] == "Commitment"
    assert before == cached == {"Laptops for teachers"}
    assert after == {
        "Laptops for teachers",
        "Unseen by the cache",
        "Connectivity for 200 schools",
    }


async def test_a_cached_answer_never_crosses_visibility_scopes(settings, engine, session):
    coalition = await make_coalition(session)
    owner = await make_organisation(session, name="Owner")
    await make_membership(session, coalition, owner)
    await make_commitment(
        session,
        coalition,
        owner,
        title="Members only",
        visibility=models.Visibility.MEMBERS,
    )
    await make_commitment(
        session,
        coalition,
        owner,
        title="Confidential",
        amount=Decimal("5000000"),
        visibility=models.Visibility.CONFIDENTIAL,
    )
    member_token = await make_token(session, models.Role.PARTNER_VIEWER, owner)
    cached = create_app(settings.model_copy(update={"read_cache": True}), engine=engine)
    reference = create_app(settings.model_copy(update={"compiled_reads": False}), engine=engine)

    async def read(app: Any, token: str | None) -> dict[str, Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            return await _page(client, coalition, token)

    # Each scope read twice, the member first: the second read of each is a cache hit
    # (the anonymous one answered before the GraphQL stack: see read_lane.py).
    member = [await read(cached, member_token) for _ in range(2)]
    anonymous = [await read(cached, None) for _ in range(2)]

    await compiled_reads.close(cached.state.compiled_reads)
    await compiled_reads.close(reference.state.compiled_reads)
    assert cached.state.compiled_reads.answered["CoalitionPage"] == 3
    assert member == [await read(reference, member_token)] * 2
    assert anonymous == [await read(reference, None)] * 2
    assert _titles(member[0]) == {"Members only", "Confidential"}
    amounts = {
        c["title"]: c["amount"]
        for c in anonymous[0]["memberships"][0]["organisation"]["commitments"]
    }
    assert amounts == {"Confidential": None}


async def test_an_embargo_ending_is_a_change_the_cache_sees(settings, engine, session):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    await make_membership(session, coalition, organisation)
    ends = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5)
    await make_commitment(session, coalition, organisation, title="Launch", embargo_until=ends)
    app = create_app(settings.model_copy(update={"read_cache": True}), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        during = [_titles(await _page(client, coalition)) for _ in range(2)]
        await asyncio.sleep((ends - dt.datetime.now(dt.UTC)).total_seconds() + 0.1)
        after = _titles(await _page(client, coalition))
    await compiled_reads.close(app.state.compiled_reads)

    assert during == [set(), set()]
    assert after == {"Launch"}


async def test_an_anonymous_read_is_answered_again_before_the_graphql_stack(
    settings, engine, session
):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    await make_membership(session, coalition, organisation)
    await make_commitment(session, coalition, organisation, title="Radio lessons")
    token = await make_token(session, models.Role.PARTNER_VIEWER, organisation)
    app = create_app(settings.model_copy(update={"read_cache": True}), engine=engine)
    reads = app.state.compiled_reads
    variables = {"slug": coalition.slug, "coalitionId": gid(coalition)}
    page = {"query": PORTAL, "operationName": "CoalitionPage", "variables": variables}
    ad_hoc = {"query": "{ coalitions { totalCount } }"}
    graphql_response = {"Accept": "application/graphql-response+json"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        first = await client.post("/graphql", json=page)
        again = await client.post("/graphql", json=page)
        media = await client.post("/graphql", json=page, headers=graphql_response)
        answered_anonymously = reads.answered["CoalitionPage"]
        with_token = [
            await client.post("/graphql", json=page, headers={"Authorization": f"Bearer {token}"})
            for _ in range(2)
        ]
        counted = [(await client.post("/graphql", json=ad_hoc)).json() for _ in range(2)]
        # Written behind the hub's back: only an answer that was never stored can see it.
        await make_coalition(session)
        counted.append((await client.post("/graphql", json=ad_hoc)).json())
    await compiled_reads.close(reads)

    assert answered_anonymously == 1
    assert again.content == media.content == first.content
    assert _titles(first.json()["data"]["coalition"]) == {"Radio lessons"}
    assert again.headers["content-type"] == "application/json"
    assert media.headers["content-type"] == "application/graphql-response+json"
    assert reads.answered["CoalitionPage"] == 3  # a token's reads always go through
    assert [r.json() for r in with_token] == [first.json()] * 2
    totals = [body["data"]["coalitions"]["totalCount"] for body in counted]
    assert totals == [1, 1, 2]
