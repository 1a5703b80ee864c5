"""coalitionFeed over graphql-transport-ws, against a real server."""

import asyncio
import datetime as dt

import httpx
import sqlalchemy as sa
from sqlmodel import col

from backend import models
from backend.main import create_app
from tests.factories import (
    gid,
    make_member_editor,
    make_token,
)
from tests.feed_client import feed_client, pledge
from tests.servers import serve


async def test_a_pledge_reaches_a_subscriber_after_its_commit(live_server, session):
    coalition, token = await make_member_editor(session, name="Brightwave Telecom")

    async with feed_client(live_server.ws_url) as feed:
        ack = await feed.init()
        await feed.subscribe(coalitionId=gid(coalition), types=["COMMITMENT_PLEDGED"])
        pledged = await pledge(live_server, coalition, token)
        item = await feed.next_item()

    assert ack == {"type": "connection_ack"}
    assert item["cursor"]
    assert {key: value for key, value in item.items() if key != "cursor"} == {
        "__typename": "FeedEvent",
        "type": "COMMITMENT_PLEDGED",
        "organisation": {"name": "Brightwave Telecom"},
        "commitment": {
            "ref": pledged["ref"],
            "title": "Tablets for schools",
            "stage": "PLEDGED",
            "amount": "25000",
            "currency": "USD",
            "inKind": [],
        },
        "delivery": None,
        "membership": None,
        "activity": None,
    }


async def test_confidential_amounts_reach_only_the_owner_and_the_secretariat(live_server, session):
    coalition, token = await make_member_editor(session, name="Brightwave Telecom")
    analyst = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    seen = {}

    async with (
        feed_client(live_server.ws_url) as anonymous,
        feed_client(live_server.ws_url) as secretariat,
    ):
        await anonymous.init()
        await secretariat.init(analyst)
        for feed in (anonymous, secretariat):
            await feed.subscribe(coalitionId=gid(coalition), types=["COMMITMENT_PLEDGED"])
        await pledge(live_server, coalition, token, visibility="CONFIDENTIAL")
        seen["anonymous"] = (await anonymous.next_item())["commitment"]["amount"]
        seen["secretariat"] = (await secretariat.next_item())["commitment"]["amount"]

    assert seen == {"anonymous": None, "secretariat": "25000"}


async def test_members_only_pledges_do_not_reach_outsiders(live_server, session):
    coalition, token = await make_member_editor(session, name="Brightwave Telecom")

    async with feed_client(live_server.ws_url) as feed:
        await feed.init()
        await feed.subscribe(coalitionId=gid(coalition), types=["COMMITMENT_PLEDGED"])
        await pledge(live_server, coalition, token, title="Hidden", visibility="MEMBERS")
        await pledge(live_server, coalition, token, title="Public")
        item = await feed.next_item()

    assert item["commitment"]["title"] == "Public"


async def test_resuming_with_a_cursor_replays_what_was_missed_once(live_server, session):
    coalition, token = await make_member_editor(session, name="Brightwave Telecom")

    async with feed_client(live_server.ws_url) as feed:
        await feed.init()
        await feed.subscribe(coalitionId=gid(coalition), types=["COMMITMENT_PLEDGED"])
        await pledge(live_server, coalition, token, title="First")
        first = await feed.next_item()
    for title in ("Second", "Third"):
        await pledge(live_server, coalition, token, title=title)
    async with feed_client(live_server.ws_url) as feed:
        await feed.init()
        await feed.subscribe(
            coalitionId=gid(coalition), types=["COMMITMENT_PLEDGED"], after=first["cursor"]
        )
        missed = [await feed.next_item() for _ in range(2)]
        await pledge(live_server, coalition, token, title="Fourth")
        live = await feed.next_item()

    titles = [item["commitment"]["title"] for item in [*missed, live]]
    assert titles == ["Second", "Third", "Fourth"]


async def test_a_rejected_token_closes_the_socket_with_4403(live_server):
    async with feed_client(live_server.ws_url) as feed:
        await feed.send({"type": "connection_init", "payload": {"authorization": "Bearer no"}})
        code = await feed.closed_with()

    assert code == 4403


async def test_subscribing_before_the_ack_closes_with_4401(live_server):
    async with feed_client(live_server.ws_url) as feed:
        await feed.subscribe()
        code = await feed.closed_with()

    assert code == 4401


async def test_a_second_init_closes_with_4429(live_server):
    async with feed_client(live_server.ws_url) as feed:
        await feed.init()
        await feed.send({"type": "connection_init", "payload": {}})
        code = await feed.closed_with()

    assert code == 4429


async def test_a_duplicate_operation_id_closes_with_4409(live_server):
    async with feed_client(live_server.ws_url) as feed:
        await feed.init()
        await feed.subscribe(id="same")
        await feed.subscribe(id="same")
        code = await feed.closed_with()

    assert code == 4409


async def test_an_invalid_message_closes_with_4400(live_server):
    async with feed_client(live_server.ws_url) as feed:
        await feed.send({"type": "no-such-type"})
        code = await feed.closed_with()

    assert code == 4400


async def test_no_init_in_time_closes_with_4408(live_server):
    async with feed_client(live_server.ws_url) as feed:
        code = await feed.closed_with()

    assert code == 4408


async def test_ping_is_answered_with_pong_and_complete_ends_the_operation(live_server):
    async with feed_client(live_server.ws_url) as feed:
        await feed.init()
        await feed.send({"type": "ping"})
        pong = await feed.receive()
        await feed.subscribe(id="one")
        await feed.send({"id": "one", "type": "complete"})
        await feed.subscribe(id="one")
        await feed.send({"type": "ping"})
        still_open = await feed.receive()

    assert pong == {"type": "pong"}
    assert still_open == {"type": "pong"}


async def test_a_cursor_older_than_the_history_gets_a_reset_then_live_events(
    settings, engine, session
):
    coalition, token = await make_member_editor(session, name="Brightwave Telecom")
    short_memory = settings.model_copy(update={"feed_retention": 2, "relay_interval": 0.2})

    async with serve(create_app(short_memory, engine=engine)) as server:
        async with feed_client(server.ws_url) as feed:
            await feed.init()
            await feed.subscribe(coalitionId=gid(coalition), types=["COMMITMENT_PLEDGED"])
            await pledge(server, coalition, token, title="Old")
            old = await feed.next_item()
            for title in ("Newer", "Newer still", "Newest"):
                await pledge(server, coalition, token, title=title)
                await feed.next_item()
        async with feed_client(server.ws_url) as feed:
            await feed.init()
            await feed.subscribe(
                coalitionId=gid(coalition), types=["COMMITMENT_PLEDGED"], after=old["cursor"]
            )
            reset = await feed.next_item()
            await pledge(server, coalition, token, title="After the reset")
            live = await feed.next_item()

    assert reset["__typename"] == "FeedReset"
    assert reset["message"] == "Events after your cursor are no longer kept."
    assert live["commitment"]["title"] == "After the reset"


async def metrics(client: httpx.AsyncClient) -> dict[str, str]:
    text = (await client.get("/metrics")).text
    return dict(line.split(" ") for line in text.splitlines() if line and not line.startswith("#"))


async def test_metrics_show_subscribers_and_published_events(live_server, session):
    coalition, token = await make_member_editor(session, name="Brightwave Telecom")

    async with feed_client(live_server.ws_url) as feed:
        await feed.init()
        await feed.subscribe(coalitionId=gid(coalition), types=["COMMITMENT_PLEDGED"])
        await pledge(live_server, coalition, token)
        await feed.next_item()
        async with httpx.AsyncClient(base_url=live_server.http_url) as client:
            # The relay marks what it published when its transaction commits, which may be
            # just after the subscriber has the event: the lag is 0 once it has.
            async with asyncio.timeout(10):
                while (values := await metrics(client))["hub_outbox_lag_seconds"] != "0":  # noqa: ASYNC110
                    await asyncio.sleep(0.05)

    assert set(values) == {
        "hub_feed_subscribers",
        "hub_feed_events_received_total",
        "hub_feed_subscribers_dropped_total",
        "hub_outbox_events_published_total",
        "hub_outbox_lag_seconds",
    }
    assert values["hub_feed_subscribers"] == "1"
    assert int(values["hub_outbox_events_published_total"]) >= 2
    assert values["hub_outbox_lag_seconds"] == "0"


async def test_an_embargoed_pledge_is_announced_to_the_public_when_the_embargo_ends(
    live_server, session
):
    coalition, token = await make_member_editor(session, name="Brightwave Telecom")
    tomorrow = (models.utcnow() + dt.timedelta(days=1)).isoformat()

    async with feed_client(live_server.ws_url) as feed:
        await feed.init()
        await feed.subscribe(
            coalitionId=gid(coalition), types=["COMMITMENT_PLEDGED", "COMMITMENT_ANNOUNCED"]
        )
        await pledge(live_server, coalition, token, title="Kept back", embargoUntil=tomorrow)
        await pledge(live_server, coalition, token, title="Public")
        public = await feed.next_item()
        # Time passes: the embargo is over, and the relay's next sweep announces it.
        await session.execute(
            sa.update(models.Commitment)
            .where(col(models.Commitment.title) == "Kept back")
            .values(embargo_until=models.utcnow() - dt.timedelta(seconds=1))
        )
        await session.commit()
        announced = await feed.next_item()

    assert (public["type"], public["commitment"]["title"]) == ("COMMITMENT_PLEDGED", "Public")
    assert (announced["type"], announced["commitment"]["title"]) == (
        "COMMITMENT_ANNOUNCED",
        "Kept back",
    )


async def test_a_malformed_cursor_is_refused_with_bad_cursor(live_server):
    async with feed_client(live_server.ws_url) as feed:
        await feed.init()
        await feed.subscribe(after="not-a-cursor")
        refused = await feed.receive()
        ended = await feed.receive()

    assert refused["type"] == "next"
    assert [error["extensions"] for error in refused["payload"]["errors"]] == [
        {"code": "BAD_CURSOR"}
    ]
    assert ended == {"id": "feed", "type": "complete"}
