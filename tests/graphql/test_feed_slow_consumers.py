"""A subscriber that stops reading is dropped, never holds up the others, and resumes."""

import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import connect

from backend.main import create_app
from events.envelope import Envelope
from tests.factories import gid, make_member_editor
from tests.feed_client import PROTOCOL, FeedClient, feed_client, pledge
from tests.servers import serve

FEED = """
subscription ($coalitionId: ID, $after: String) {
  coalitionFeed(coalitionId: $coalitionId, types: [COMMITMENT_PLEDGED], after: $after) {
    cursor
    ... on FeedEvent {
      eventId type occurredAt coalitionId
      organisation { id name acronym }
      commitment { id ref title stage resourceKind amount currency amountUsd countries }
    }
  }
}
"""
QUEUE_SIZE = 8
# Events published per round: fewer than the queue holds, so a subscriber that reads keeps up.
ROUND = 4
# Bounds the test: the reader's socket buffers fill long before this many rounds.
MAX_ROUNDS = 5000


@asynccontextmanager
async def reluctant_client(url: str, port: int) -> AsyncIterator[FeedClient]:
    """A client with the smallest receive buffers, so the server's sends to it block as soon
    as it stops reading."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    async with connect(url, sock=sock, subprotocols=[PROTOCOL], max_queue=1) as client:  # type: ignore[list-item]
        yield FeedClient(client)


async def read_until_ended(feed: FeedClient) -> tuple[list[str], list[dict[str, Any]]]:
    """The event ids the operation delivered, and its errors, up to its `complete`."""
    ids, errors = [], []
    while (message := await feed.receive())["type"] != "complete":
        assert message["type"] == "next", message
        if "errors" in message["payload"]:
            errors += message["payload"]["errors"]
        else:
            ids.append(message["payload"]["data"]["coalitionFeed"]["eventId"])
    return ids, errors


async def test_a_subscriber_that_stops_reading_is_dropped_and_delays_no_one(
    settings, engine, session
):
    coalition, token = await make_member_editor(session, name="Brightwave Telecom")
    small_queues = settings.model_copy(
        update={"feed_queue_size": QUEUE_SIZE, "relay_interval": 0.2}
    )

    async with serve(create_app(small_queues, engine=engine)) as server:
        bus, fanout = server.app.state.bus, server.app.state.fanout

        async def publish_copy() -> str:
            """The pledge's event again under a new id, straight onto the bus: thousands
            of feed events in seconds, rendered and sent like any other."""
            envelope = template.model_copy(update={"id": str(uuid.uuid4())})
            await bus.publish(envelope)
            return envelope.id

        async with (
            feed_client(server.ws_url) as keen,
            reluctant_client(server.ws_url, server.port) as reluctant,
        ):
            cursors: dict[str, str] = {}
            for feed in (keen, reluctant):
                await feed.init()
                await feed.subscribe(document=FEED, coalitionId=gid(coalition))
            await pledge(server, coalition, token)
            for feed in (keen, reluctant):
                first = await feed.next_item()
            pledged = await bus.replay(None, limit=1000)
            template: Envelope = next(
                positioned.envelope
                for positioned in pledged
                if positioned.envelope.id == first["eventId"]
            )
            # The reluctant one reads no more; the keen one reads every round.
            published: list[str] = []
            keen_ids: list[str] = []
            for _ in range(MAX_ROUNDS):
                batch = [await publish_copy() for _ in range(ROUND)]
                published += batch
                for _ in batch:
                    item = await keen.next_item()
                    keen_ids.append(item["eventId"])
                    cursors[item["eventId"]] = item["cursor"]
                if fanout.dropped:
                    break

            assert fanout.dropped == 1, "the reluctant subscriber was never dropped"
            assert keen_ids == published
            assert fanout.subscribers == 1

            # Reading again: what was on its way, then the end of the operation with RESUME.
            delivered, errors = await read_until_ended(reluctant)
            assert [error["extensions"]["code"] for error in errors] == ["RESUME"]
            assert delivered == published[: len(delivered)]
            resume_after = cursors[delivered[-1]] if delivered else first["cursor"]
            await reluctant.subscribe(
                "again", document=FEED, coalitionId=gid(coalition), after=resume_after
            )
            missed = [
                (await reluctant.next_item())["eventId"]
                for _ in range(len(published) - len(delivered))
            ]

    assert delivered + missed == published
