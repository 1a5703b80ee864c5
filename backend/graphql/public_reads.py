"""Anonymous reads of trusted documents answered before the GraphQL stack.

The public portal's reads carry no token and repeat: the same document and variables, byte
for byte, from every visitor. Once a compiled read has answered one (`CompiledReads`
stores the whole response body here, under the read cache's write generation taken when
the request arrived), this ASGI middleware answers the same bytes again without routing,
GraphQL parsing, validation or a context — a few tens of microseconds instead of the
half millisecond the stack costs. It follows the read cache's rules: an entry is served
only under the generation it was stored under (every committed write bumps it) and before
its `valid_until` (the next embargo end).

Only POST bodies without an Authorization header are looked up, and only responses of
compiled reads are ever stored, so a token's reads, mutations, ad-hoc documents and
errors always go through the stack.
"""

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from backend.graphql import http
from backend.graphql.read_cache import ReadCache

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Where a miss leaves (key, generation) for the compiled read to store its response under.
SCOPE_KEY = "hub.public_read"
LARGEST_BODY = 100_000
GRAPHQL_RESPONSE = http.GRAPHQL_RESPONSE.encode()


def response_body(data: str) -> bytes:
    """The body the GraphQL endpoint sends for a result with `data` and nothing else."""
    return b'{"data":' + data.encode() + b"}"


class PublicReads:
    def __init__(self, app: ASGIApp, *, cache: ReadCache | None, path: str = "/graphql") -> None:
        self.app = app
        self.cache = cache
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.cache is None
            or scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != self.path
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if b"authorization" in headers:
            await self.app(scope, receive, send)
            return
        body = await _body(receive)
        replay = _replay(body, receive)
        generation = await self.cache.generation() if len(body) <= LARGEST_BODY else None
        if generation is None:
            await self.app(scope, replay, send)
            return
        key = "public:" + hashlib.sha256(body).hexdigest()
        cached = await self.cache.get(key, generation, dt.datetime.now(dt.UTC))
        if cached is None:
            scope[SCOPE_KEY] = (key, generation)
            await self.app(scope, replay, send)
            return
        media = (
            GRAPHQL_RESPONSE
            if GRAPHQL_RESPONSE in headers.get(b"accept", b"")
            else b"application/json"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", media),
                    (b"content-length", str(len(cached)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": cached})


async def _body(receive: Receive) -> bytes:
    """The whole request body (what came before a disconnect, if the client went away)."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for the app behind: the body already read, then whatever comes next."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed
