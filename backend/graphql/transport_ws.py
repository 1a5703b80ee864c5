"""graphql-transport-ws: Strawberry's handler, with the feed's shared renders.

Strawberry keeps the protocol (init, ack, ping/pong, close codes, queries and mutations over
the socket, every other subscription). A `coalitionFeed` subscription in a plain document
is streamed here instead: its items come from the same `feed_items` as the reference
resolver, and each item's payload is the text `SharedRenders` rendered once for everyone
who shares it, wrapped in this operation's `next` message without being parsed or
serialised again.
"""

import logging
from contextlib import aclosing
from typing import TYPE_CHECKING, cast

import orjson
from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)

from backend.graphql import limits
from backend.graphql.context import Context, LiveFeed
from backend.graphql.feed import FeedFilter, feed_items
from backend.graphql.feed_renders import FeedSubscription
from backend.services import access
from events.envelope import Positioned

if TYPE_CHECKING:
    from backend.graphql.http import HubGraphQLRouter

log = logging.getLogger("backend.graphql.feed")
_MASKED = {"message": "Unexpected error."}


class HubWebSocketAdapter(ASGIWebSocketAdapter):
    async def send_text(self, text: str) -> None:
        """A message already serialised (graphql-transport-ws messages are text frames)."""
        try:
            await self.ws.send_text(text)
        except WebSocketDisconnect as error:
            raise WebSocketDisconnected from error


class HubTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def run_operation(self, operation: Operation[Context, None]) -> None:
        feed = self.context.feed
        subscription = (
            feed.renders.prepare(operation.query, operation.variables, operation.operation_name)
            if feed is not None and self._may_share(operation)
            else None
        )
        if feed is None or subscription is None:
            await super().run_operation(operation)
            return
        try:
            await self._stream_feed(operation, feed, subscription)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except WebSocketDisconnected:
            self.operations.pop(operation.id, None)

    def _may_share(self, operation: Operation[Context, None]) -> bool:
        """Whether the document is within the limits and, where only trusted documents may
        run, one of them: otherwise Strawberry's path refuses it, as over HTTP."""
        view = cast("HubGraphQLRouter", self.view)
        try:
            document = limits.parse_limited(operation.query, view.limits)
        except GraphQLError:
            return False
        actor = self.context.actor
        return (
            not self.context.settings.only_trusted_documents
            or actor.is_secretariat
            or view.documents.allows(operation.query, document, operation.operation_name)
        )

    async def _stream_feed(
        self, operation: Operation[Context, None], feed: LiveFeed, subscription: FeedSubscription
    ) -> None:
        assert isinstance(self.websocket, HubWebSocketAdapter)
        send = self.websocket.send_text
        head = f'{{"id":{orjson.dumps(operation.id).decode()},"type":"next","payload":'
        try:
            wanted = FeedFilter.of(
                self.context.actor, subscription.coalition_id, subscription.types
            )
            async with aclosing(feed_items(feed, wanted, after=subscription.after)) as items:
                async for item in items:
                    amounts = isinstance(item, Positioned) and access.sees_event_amounts(
                        wanted.actor, item.envelope
                    )
                    if operation.completed:
                        return
                    await send(head + feed.renders.text(subscription, item, amounts) + "}")
        except GraphQLError as error:
            # As the reference path answers: a `next` with the error, then `complete`.
            await send(head + _errors(error.formatted) + "}")
        except WebSocketDisconnected:
            raise
        except Exception:
            # A bug: logged with the request id, masked for the client, and the operation
            # still ends with `complete` (a client must never be left waiting).
            request_id = self.context.request_id
            log.exception("the feed failed (request %s)", request_id)
            masked = {**_MASKED, "extensions": {"code": "INTERNAL", "requestId": request_id}}
            await send(head + _errors(masked) + "}")


def _errors(*errors: object) -> str:
    return orjson.dumps({"data": None, "errors": list(errors)}).decode()
