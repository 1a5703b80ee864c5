"""A mutation's feed events leave for the bus after its COMMIT, and only then."""

import asyncio

from backend.services import outbox
from tests.factories import (
    gid,
    make_member_editor,
)

PLEDGE = """
mutation ($input: PledgeCommitmentInput!) {
  pledgeCommitment(input: $input) { __typename ... on Commitment { id ref } }
}
"""


def pledge(coalition, **fields):
    input = {
        "coalitionId": gid(coalition),
        "title": "Tablets",
        "resourceKind": "FINANCIAL",
        "amount": "500",
        "currency": "USD",
    }
    return {"input": {**input, **fields}}


async def test_a_pledge_reaches_the_bus_after_its_commit(api, app, session, session_factory):
    coalition, token = await make_member_editor(session)
    await outbox.publish_pending(session_factory, app.state.bus)
    before = await app.state.bus.latest()
    app.state.relay.start()
    try:
        listened = app.state.bus.listen(after=before)

        result = await api(PLEDGE, pledge(coalition), token=token)
        batch = await asyncio.wait_for(anext(listened), timeout=30)
    finally:
        await app.state.relay.stop()

    envelope = batch[0].envelope
    assert (envelope.type, envelope.subject_type) == ("commitment.pledged", "Commitment")
    assert envelope.payload["ref"] == result["pledgeCommitment"]["ref"]


async def test_a_refused_pledge_sends_nothing(api, app, session, session_factory):
    coalition, token = await make_member_editor(session)
    await outbox.publish_pending(session_factory, app.state.bus)
    before = await app.state.bus.latest()

    result = await api(PLEDGE, pledge(coalition, currency="XYZ"), token=token)
    published = await outbox.publish_pending(session_factory, app.state.bus)

    assert result["pledgeCommitment"]["__typename"] == "ValidationFailed"
    assert published == 0
    assert await app.state.bus.latest() == before
