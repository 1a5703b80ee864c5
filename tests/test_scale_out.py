"""Two app processes share one feed through Redis Streams: the scale-out path."""

import httpx

from backend import models
from tests.factories import gid, make_coalition, make_membership, make_organisation, make_token
from tests.feed_client import feed_client
from tests.hub_processes import two_processes

PLEDGE = """
mutation ($input: PledgeCommitmentInput!) {
  pledgeCommitment(input: $input) { __typename ... on Commitment { ref } }
}
"""


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
