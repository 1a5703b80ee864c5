"""A graphql-transport-ws client, as the portal's `graphql-ws` library speaks it."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.factories import gid

PROTOCOL = "graphql-transport-ws"
FEED = """
subscription ($coalitionId: ID, $types: [FeedEventType!], $after: String) {
  coalitionFeed(coalitionId: $coalitionId, types: $types, after: $after) {
    __typename
    cursor
    ... on FeedEvent {
      type
      organisation { name }
      commitment { ref title stage amount currency inKind { quantity unit } }
      delivery { status amount }
      membership { status }
      activity { title }
    }
    ... on FeedReset { message }
  }
}
"""


class FeedClient:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        """The next message; the time limit only guards against a hang."""
        frame = await asyncio.wait_for(self.socket.recv(), 30)
        # The protocol's messages are text frames; a browser would get a Blob for bytes.
        assert isinstance(frame, str), f"binary frame: {frame!r}"
        message: dict[str, Any] = json.loads(frame)
        return message

    async def init(self, token: str | None = None) -> dict[str, Any]:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, id: str = "feed", *, document: str = FEED, **variables: Any) -> None:
        payload = {"query": document, "variables": variables}
        await self.send({"id": id, "type": "subscribe", "payload": payload})

    async def next_item(self) -> dict[str, Any]:
        """The next feed item (skipping pings), as `coalitionFeed` answered it."""
        while True:
            message = await self.receive()
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            item: dict[str, Any] = message["payload"]["data"]["coalitionFeed"]
            return item

    async def closed_with(self) -> int | None:
        """The close code once the server has closed the socket."""
        try:
            while True:
                await asyncio.wait_for(self.socket.recv(), 30)
        except Exception:
            pass
        return self.socket.close_code


@asynccontextmanager
async def feed_client(url: str) -> AsyncIterator[FeedClient]:
    async with connect(url, subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
        yield FeedClient(socket)


PLEDGE = """
mutation ($input: PledgeCommitmentInput!) {
  pledgeCommitment(input: $input) { __typename ... on Commitment { ref } }
}
"""


async def pledge(server: Any, coalition: Any, token: str, **fields: Any) -> dict[str, Any]:
    """A pledge over HTTP, as a partner's editor makes it; its `pledgeCommitment` result."""
    input = {
        "coalitionId": gid(coalition),
        "title": "Tablets for schools",
        "resourceKind": "FINANCIAL",
        "amount": "25000",
        "currency": "USD",
        **fields,
    }
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        response = await client.post(
            "/graphql",
            json={"query": PLEDGE, "variables": {"input": input}},
            headers={"Authorization": f"Bearer {token}"},
        )
    return response.json()["data"]["pledgeCommitment"]
