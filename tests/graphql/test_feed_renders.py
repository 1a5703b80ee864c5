"""The feed's shared renders: one execution per (document, variables, visibility), and the
same answers as Strawberry's reference path, for every role."""

import asyncio
import json
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from backend import models
from backend.graphql import schema as graphql_schema
from backend.graphql.feed_renders import SharedRenders
from events.envelope import Envelope
from tests.factories import (
    gid,
    make_activity,
    make_commitment,
    make_delivery,
    make_member_editor,
    make_membership,
    make_organisation,
    make_token,
)
from tests.feed_client import FeedClient, feed_client, pledge

SELECTION = """
  __typename
  cursor
  ... on FeedEvent {
    eventId type occurredAt coalitionId
    organisation { id name acronym }
    commitment {
      id ref title stage resourceKind workstream amount currency amountUsd
      inKind { category quantity unit description }
      countries reason
    }
    delivery {
      id commitmentId commitmentRef commitmentTitle status deliveredOn
      amount currency quantity unit country beneficiaries
    }
    membership { id status role }
    activity { id kind title occurredAt workstream countries }
    need { id ref title country category quantity unit priority neededBy }
    offer { id ref title category countries worldwide capacity unit }
    match { id status needRef needTitle country offerRef offerTitle quantity unit score }
    communication {
      id kind title publishedOn link commitmentRef commitmentTitle workstream
    }
  }
  ... on FeedReset { message }
"""
ARGUMENTS = "coalitionId: $coalitionId, after: $after"
VARIABLES = "$coalitionId: ID, $after: String"
SHARED = f"subscription Feed({VARIABLES}) {{ coalitionFeed({ARGUMENTS}) {{ {SELECTION} }} }}"
# The same selection behind a fragment at the root: the shared renders leave it to
# Strawberry, which executes it per subscriber and event — the reference.
REFERENCE = f"""
subscription Feed({VARIABLES}) {{ ...Root }}
fragment Root on Subscription {{ coalitionFeed({ARGUMENTS}) {{ {SELECTION} }} }}
"""


def renders() -> SharedRenders:
    return SharedRenders(graphql_schema.schema._schema)


def test_only_plain_valid_feed_subscriptions_take_the_shared_renders():
    shared = renders()

    assert shared.prepare(SHARED, {"after": None}, None) is not None
    assert shared.prepare(SHARED, {}, "Feed") is not None
    assert shared.prepare(REFERENCE, {}, None) is None
    assert shared.prepare(SHARED, {}, "Other") is None
    assert shared.prepare(SHARED, {"coalitionId": 5}, None) is not None  # ID takes an int
    assert shared.prepare(SHARED, {"after": 5}, None) is None  # ... a String does not
    assert shared.prepare("subscription { coalitionFeed { nope } }", {}, None) is None
    assert shared.prepare("subscription { coalitionFeed { cursor", {}, None) is None
    assert shared.prepare("query { viewer { __typename } }", {}, None) is None
    assert shared.prepare(SHARED, ["not", "an", "object"], None) is None  # type: ignore[arg-type]
    directive = "subscription ($on: Boolean!) { coalitionFeed @include(if: $on) { cursor } }"
    assert shared.prepare(directive, {"on": True}, None) is None


def test_subscribers_differing_only_in_after_share_a_render_group():
    shared = renders()

    first = shared.prepare(SHARED, {"coalitionId": "Q29hbGl0aW9uOjE=", "after": None}, None)
    resumed = shared.prepare(SHARED, {"coalitionId": "Q29hbGl0aW9uOjE=", "after": "1-0"}, None)
    other = shared.prepare(SHARED, {"coalitionId": "Q29hbGl0aW9uOjI="}, None)

    assert first is not None and resumed is not None and other is not None
    assert first.group is resumed.group
    assert other.group is not first.group
    assert (first.after, resumed.after) == (None, "1-0")


async def read_until(feed: FeedClient, ids: set[str], last_title: str) -> dict[str, list[Any]]:
    """Payloads per operation id until every operation has seen the item titled
    `last_title`; errors and completions are kept as payloads too."""
    received: dict[str, list[Any]] = defaultdict(list)
    done: set[str] = set()
    while done != ids:
        message = await feed.receive()
        if message["type"] == "ping":
            continue
        received[message["id"]].append(message.get("payload", message["type"]))
        item = (message.get("payload") or {}).get("data", {}) or {}
        commitment = (item.get("coalitionFeed") or {}).get("commitment") or {}
        if commitment.get("title") == last_title or message["type"] == "complete":
            done.add(message["id"])
    return received


async def test_every_role_gets_from_the_shared_renders_what_the_reference_path_gives(
    live_server, session
):
    coalition, token = await make_member_editor(session, name="Brightwave Telecom")
    organisation = await make_organisation(session, name="Open Learning Foundation")
    await make_membership(session, coalition, organisation)
    outsider = await make_token(session, models.Role.PARTNER_EDITOR, organisation)
    analyst = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    roles = {"anonymous": None, "owner": token, "outsider": outsider, "secretariat": analyst}
    feeds: dict[str, FeedClient] = {}
    received: dict[str, dict[str, list[Any]]] = {}

    async with (
        feed_client(live_server.ws_url) as feeds["anonymous"],
        feed_client(live_server.ws_url) as feeds["owner"],
        feed_client(live_server.ws_url) as feeds["outsider"],
        feed_client(live_server.ws_url) as feeds["secretariat"],
    ):
        for role, feed in feeds.items():
            await feed.init(roles[role])
            await feed.subscribe("shared", document=SHARED, coalitionId=gid(coalition))
            await feed.subscribe("reference", document=REFERENCE, coalitionId=gid(coalition))
        await pledge(live_server, coalition, token, title="Public")
        await pledge(live_server, coalition, token, title="Secret", visibility="CONFIDENTIAL")
        await pledge(live_server, coalition, token, title="Members", visibility="MEMBERS")
        await pledge(
            live_server,
            coalition,
            token,
            title="Data",
            resourceKind="IN_KIND",
            amount=None,
            currency=None,
            inKind=[
                {
                    "category": "CONNECTIVITY",
                    "description": "Data",
                    "quantity": "5000",
                    "unit": "GB",
                }
            ],
        )
        commitment = await make_commitment(
            session, coalition, organisation, amount=Decimal("7000"), stage=models.Stage.COMMITTED
        )
        await make_delivery(session, commitment, beneficiaries=120, country="KE")
        await make_activity(session, coalition, title="Launch")
        await pledge(live_server, coalition, token, title="Last")
        for role, feed in feeds.items():
            received[role] = await read_until(feed, {"shared", "reference"}, "Last")

    for role in roles:
        assert received[role]["shared"] == received[role]["reference"], role
    titles = {
        role: [
            (payload["data"]["coalitionFeed"]["commitment"] or {}).get("title")
            for payload in received[role]["shared"]
        ]
        for role in roles
    }
    assert "Members" in titles["outsider"] and "Members" not in titles["anonymous"]
    assert len(received["secretariat"]["shared"]) >= 9


async def test_an_error_reads_the_same_on_both_paths(live_server):
    async with feed_client(live_server.ws_url) as feed:
        await feed.init()
        for id, document in (("shared", SHARED), ("reference", REFERENCE)):
            await feed.subscribe(id, document=document, after="not-a-cursor")
        messages = [await feed.receive() for _ in range(4)]

    by_id: dict[str, list[Any]] = defaultdict(list)
    for message in messages:
        by_id[message.pop("id")].append(message)
    assert by_id["shared"] == by_id["reference"]
    assert by_id["shared"][0]["payload"]["errors"][0]["extensions"] == {"code": "BAD_CURSOR"}
    assert by_id["shared"][1] == {"type": "complete"}


async def test_each_event_is_rendered_once_per_visibility_and_sent_as_the_same_text(
    live_server, session
):
    coalition, token = await make_member_editor(session, name="Brightwave Telecom")
    shared: SharedRenders = live_server.app.state.renders
    frames: dict[str, list[str]] = defaultdict(list)
    audiences = {"anonymous 1": None, "anonymous 2": None, "anonymous 3": None, "owner": token}

    async with (
        feed_client(live_server.ws_url) as first,
        feed_client(live_server.ws_url) as second,
        feed_client(live_server.ws_url) as third,
        feed_client(live_server.ws_url) as owner,
    ):
        feeds = dict(zip(audiences, (first, second, third, owner), strict=True))
        for audience, feed in feeds.items():
            await feed.init(audiences[audience])
            await feed.subscribe(coalitionId=gid(coalition), types=["COMMITMENT_PLEDGED"])
        rendered, reused = shared.rendered, shared.reused
        await pledge(live_server, coalition, token, title="Secret", visibility="CONFIDENTIAL")
        for audience, feed in feeds.items():
            frames[audience].append(await feed.socket.recv())  # type: ignore[arg-type]

    # Two renders (without and with the amounts), each sent again to the others.
    assert (shared.rendered - rendered, shared.reused - reused) == (2, 2)
    assert frames["anonymous 1"] == frames["anonymous 2"] == frames["anonymous 3"]
    public = json.loads(frames["anonymous 1"][0])["payload"]["data"]["coalitionFeed"]
    private = json.loads(frames["owner"][0])["payload"]["data"]["coalitionFeed"]
    assert (public["commitment"]["amount"], private["commitment"]["amount"]) == (None, "25000")


async def test_an_event_that_cannot_be_rendered_ends_the_operation_with_a_masked_error(
    live_server,
):
    # A payload its catalogue entry refuses: what a bug, or a newer process, could publish.
    garbled = Envelope(
        id=str(uuid.uuid4()),
        type="commitment.pledged",
        occurred_at=models.utcnow(),
        coalition_id=None,
        organisation_id=None,
        visibility="PUBLIC",
        embargo_until=None,
        subject_type="commitment",
        subject_id=1,
        payload={"unexpected": True},
    )

    async with feed_client(live_server.ws_url) as feed:
        await feed.init()
        await feed.subscribe(document=SHARED)
        async with asyncio.timeout(30):
            while live_server.app.state.fanout.subscribers == 0:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        await live_server.app.state.bus.publish(garbled)
        failed, ended = await feed.receive(), await feed.receive()

    [error] = failed["payload"]["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL" and error["extensions"]["requestId"]
    assert "unexpected" not in json.dumps(failed)
    assert ended == {"id": "feed", "type": "complete"}


def test_the_portals_feed_subscriptions_take_the_shared_renders():
    path = Path(__file__).resolve().parents[2] / "schema" / "operations" / "feed.graphql"
    document = path.read_text(encoding="utf-8")
    shared = renders()

    for name in ("WallScreenFeed", "PortalFeed"):
        assert shared.prepare(document, {}, name) is not None, name
