"""The read lane: the portal's trusted reads answered before the GraphQL stack.

The portal sends the same few documents, byte for byte, thousands of times. Routing,
Strawberry's HTTP view, its context and its extension hooks cost more per request than
answering such a read from its compiled statement, so this ASGI middleware answers them
itself, in two steps:

1. **Public reads.** An anonymous POST whose body a compiled read has already answered
   gets the same response bytes again, from the read cache: stored under the cache's
   write generation taken when the request arrived (every committed write bumps it) and
   served only before its `valid_until` (the next embargo end).
2. **Compiled reads.** A POST whose document text (or trusted `documentId`) and operation
   name this process has already parsed, validated and planned through the stack
   (`CompiledReads.known_plan`)
   is answered from its compiled statement (or the read cache), with the request's
   variables coerced and its token authenticated here, as the stack would.

Anything else goes through the stack untouched: the first request of each document,
other documents, mutations, GET, other content types, batches, variables the statement
cannot take, a bad token (the stack answers 401), and any failure of the compiled read.
"""

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import orjson

from backend.actors import Actor
from backend.asgi import ASGIApp, Message, Receive, Scope, Send
from backend.errors import Unauthenticated
from backend.graphql.read_cache import ReadCache

if TYPE_CHECKING:
    from backend.graphql.compiled.reads import CompiledReads
    from backend.graphql.trusted_documents import TrustedDocuments

Authenticate = Callable[[str | None], Awaitable[Actor]]

# Where a miss leaves (key, generation) for the compiled read to store its response under.
SCOPE_KEY = "hub.public_read"
LARGEST_BODY = 100_000
GRAPHQL_RESPONSE = b"application/graphql-response+json"
JSON = b"application/json"
# What a request body may hold for the lane to answer it (the stack ignores nothing else).
REQUEST_KEYS = frozenset({"query", "documentId", "operationName", "variables"})


def response_body(data: bytes) -> bytes:
    """The body the GraphQL endpoint sends for a result with `data` and nothing else."""
    return b'{"data":' + data + b"}"


class ReadLane:
    def __init__(
        self,
        app: ASGIApp,
        *,
        cache: ReadCache | None,
        reads: "CompiledReads | None",
        authenticate: Authenticate,
        documents: "TrustedDocuments | None" = None,
        path: str = "/graphql",
    ) -> None:
        self.app = app
        self.cache = cache
        self.reads = reads
        self.authenticate = authenticate
        self.documents = documents
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            (self.cache is None and self.reads is None)
            or scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != self.path
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        body = await _body(receive)
        replay = _replay(body, receive)
        if len(body) > LARGEST_BODY:
            await self.app(scope, replay, send)
            return
        authorization = headers.get(b"authorization")
        media = GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in headers.get(b"accept", b"") else JSON
        public: tuple[str, int] | None = None
        if authorization is None and self.cache is not None:
            generation = await self.cache.generation()
            if generation is not None:
                key = "public:" + hashlib.sha256(body).hexdigest()
                cached = await self.cache.get(key, generation, dt.datetime.now(dt.UTC))
                if cached is not None:
                    await _respond(send, media, cached)
                    return
                public = scope[SCOPE_KEY] = (key, generation)
        if self.reads is not None and _plain_json(headers):
            data = await self._compiled(body, authorization, public)
            if data is not None:
                await _respond(send, media, response_body(data))
                return
        await self.app(scope, replay, send)

    async def _compiled(
        self, body: bytes, authorization: bytes | None, public: tuple[str, int] | None
    ) -> bytes | None:
        """The `data` of a trusted read this process has planned, or None: the stack."""
        assert self.reads is not None
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(request, dict) or not request.keys() <= REQUEST_KEYS:
            return None
        text, operation_name = request.get("query"), request.get("operationName")
        document_id = request.get("documentId")
        if text is None and isinstance(document_id, str) and self.documents is not None:
            # A trusted document by id: its text is what the stack planned it under.
            document = self.documents.by_id(document_id)
            if document is not None:
                # Its one operation: the name the stack planned it under.
                text, operation_name = document.body, operation_name or document.name
        elif document_id is not None:
            return None  # the stack checks that the text is the document named
        variables = request.get("variables")
        if (
            not isinstance(text, str)
            or not isinstance(operation_name, str | None)
            or not isinstance(variables, dict | None)
        ):
            return None
        plan = self.reads.known_plan(text, operation_name)
        if plan is None:
            return None
        try:
            actor = await self.authenticate(
                authorization.decode("latin-1") if authorization is not None else None
            )
        except Unauthenticated:
            return None  # the stack answers 401
        return await self.reads.answer(
            plan, actor, self.cache, public, text, operation_name, variables
        )


def _plain_json(headers: dict[bytes, bytes]) -> bool:
    """A JSON body asking for a single JSON answer (not a stream, not multipart)."""
    accept = headers.get(b"accept", b"")
    return JSON in headers.get(b"content-type", b"") and not (
        b"text/event-stream" in accept or b"multipart/mixed" in accept
    )


async def _respond(send: Send, media: bytes, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", media), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


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
