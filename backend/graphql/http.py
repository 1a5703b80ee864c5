"""GraphQL over HTTP: orjson encoding and the `application/graphql-response+json` media type."""

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.types.unset import UNSET, UnsetType

from backend.errors import Unauthenticated
from backend.graphql.authentication import Authenticator
from backend.graphql.context import Context
from backend.graphql.transport_ws import HubTransportWSHandler, HubWebSocketAdapter

GRAPHQL_RESPONSE = "application/graphql-response+json"


class _SubResponse(Response):
    # Whether the client asked for the GraphQL-over-HTTP media type, read from its Accept.
    wants_graphql_response = False


class HubGraphQLRouter(GraphQLRouter[Context, None]):
    """Strawberry's router, answering as the GraphQL-over-HTTP specification asks.

    With `Accept: application/graphql-response+json` a request that could not be executed
    (unparsable, invalid, refused as a whole) gets 400 and no `data` entry; a plain
    `application/json` client keeps the legacy 200 answer.

    Websockets speak graphql-transport-ws through `HubTransportWSHandler`, which streams
    the live feed from its shared renders.
    """

    graphql_transport_ws_handler_class = HubTransportWSHandler
    websocket_adapter_class = HubWebSocketAdapter  # type: ignore[assignment]

    def __init__(self, *args: Any, authenticate: Authenticator, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.authenticate = authenticate

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws authenticates in `connection_init`: browsers cannot set
        headers on a websocket. A rejected token closes the socket with 4403."""
        params = context.connection_params or {}
        authorization = params.get("authorization") or params.get("Authorization")
        try:
            context.actor = await self.authenticate(
                authorization if isinstance(authorization, str) else None
            )
        except Unauthenticated as error:
            raise ConnectionRejectionError({"message": error.message}) from error
        return UNSET

    async def get_sub_response(self, request: Request) -> Response:
        response = _SubResponse()
        response.wants_graphql_response = GRAPHQL_RESPONSE in request.headers.get("accept", "")
        return response

    def encode_json(self, data: object) -> str:
        # Text, not bytes: the websocket transport sends what this returns as is, and
        # graphql-transport-ws messages must be text frames (browsers get a Blob otherwise).
        return orjson.dumps(data).decode()

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        status = sub_response.status_code or 200
        media_type = "application/json"
        if getattr(sub_response, "wants_graphql_response", False):
            media_type = GRAPHQL_RESPONSE
            if isinstance(response_data, dict) and response_data.get("data") is None:
                response_data = {
                    key: value for key, value in response_data.items() if key != "data"
                }
                status = 400 if status == 200 else status
        response = Response(
            self.encode_json(response_data), media_type=media_type, status_code=status
        )
        response.headers.raw.extend(
            header for header in sub_response.headers.raw if header[0] != b"content-length"
        )
        return response
