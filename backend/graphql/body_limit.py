"""The request body limit, before anything reads a body: a larger one is refused with 413.

Starlette and the read lane read a whole body into memory; a client could otherwise send
megabytes for each request. A declared `Content-Length` over the limit is refused before a
byte is read; a body without one (chunked) is read up to the limit and refused past it.
"""

import orjson

from backend import errors
from backend.asgi import ASGIApp, Message, Receive, Scope, Send
from backend.graphql.http import GRAPHQL_RESPONSE

# How much of a refused body is read and dropped before answering (then the connection
# closes unread).
DRAINED = 4 * 2**20


class BodyLimit:
    def __init__(self, app: ASGIApp, *, limit: int, path: str = "/graphql") -> None:
        self.app = app
        self.limit = limit
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send, headers, receive, read=0)
            return
        chunks: list[Message] = []
        size = 0
        while True:
            message = await receive()
            chunks.append(message)
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(send, headers, receive, read=size)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> Message:
            return chunks.pop(0) if chunks else await receive()

        await self.app(scope, replay, send)

    async def _refuse(
        self, send: Send, headers: dict[bytes, bytes], receive: Receive, *, read: int
    ) -> None:
        # Read (and drop) what the client is still sending, up to a bound: a client that
        # has not finished sending would otherwise see the connection reset, not the 413.
        while read < DRAINED:
            message = await receive()
            read += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        explained = f"The request body is larger than {self.limit} bytes."
        body = orjson.dumps(
            {"errors": [{"message": explained, "extensions": {"code": errors.REQUEST_TOO_LARGE}}]}
        )
        wanted = GRAPHQL_RESPONSE.encode()
        media = wanted if wanted in headers.get(b"accept", b"") else b"application/json"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", media),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
