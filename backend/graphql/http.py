"""GraphQL over HTTP: orjson encoding, the `application/graphql-response+json` media type,
trusted documents by id, and requests refused as a whole before they run."""

import hashlib
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.types.execution import PreExecutionError
from strawberry.types.unset import UNSET, UnsetType

from backend import errors
from backend.errors import Unauthenticated
from backend.graphql.authentication import Authenticator
from backend.graphql.context import Context
from backend.graphql.limits import Limits
from backend.graphql.transport_ws import HubTransportWSHandler, HubWebSocketAdapter
from backend.graphql.trusted_documents import TrustedDocuments

GRAPHQL_RESPONSE = "application/graphql-response+json"


class Refused(Exception):
    """A request refused as a whole, before any GraphQL runs: an error with `code`, sent
    with `status` (and `legacy_status` to `application/json` clients)."""

    def __init__(
        self, code: str, message: str, *, status: int = 400, legacy_status: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.legacy_status = legacy_status if legacy_status is not None else status

    def body(self) -> dict[str, Any]:
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


def refused_response(refusal: Refused, accept: str) -> Response:
    """The answer to a refused request, in the media type the client asked for."""
    wants_graphql_response = GRAPHQL_RESPONSE in accept
    return Response(
        orjson.dumps(refusal.body()),
        media_type=GRAPHQL_RESPONSE if wants_graphql_response else "application/json",
        status_code=refusal.status if wants_graphql_response else refusal.legacy_status,
    )


def with_document(documents: TrustedDocuments, request: dict[str, Any]) -> dict[str, Any]:
    """The request with `query` set from its `documentId` (or persisted-query hash), if it
    names one; Refused when it names none of the trusted documents."""
    extensions = request.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    document_id = request.get("documentId")
    if document_id is None and persisted is None:
        return request
    if document_id is None and isinstance(persisted, dict):
        document_id = persisted.get("sha256Hash")
    if not isinstance(document_id, str):
        raise Refused(errors.BAD_REQUEST, "`documentId` must be a string `sha256:<hex>`.")
    document = documents.by_id(document_id)
    if document is None:
        # 200 to plain JSON clients, as Apollo's persisted-query links expect.
        raise Refused(
            errors.PERSISTED_QUERY_NOT_FOUND,
            "No trusted document has this id (`coalition-hub operations manifest`).",
            legacy_status=200,
        )
    query = request.get("query")
    if query is not None and hashlib.sha256(str(query).encode()).hexdigest() != document.sha256:
        raise Refused(errors.BAD_REQUEST, "The `query` sent is not the document its id names.")
    return {**request, "query": document.body}


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

    def __init__(
        self,
        *args: Any,
        authenticate: Authenticator,
        documents: TrustedDocuments,
        limits: Limits,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.authenticate = authenticate
        self.documents = documents
        self.limits = limits

    async def run(  # type: ignore[override]
        self, request: Any, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        accept = request.headers.get("accept", "")
        try:
            return await super().run(request, context=context, root_value=root_value)
        except Refused as refusal:
            return refused_response(refusal, accept)
        except HTTPException as error:
            # Strawberry's own refusals (bad JSON, content type, method), as GraphQL errors.
            if error.reason.endswith("not allowed when using GET"):
                # GraphQL over HTTP: a mutation sent with GET is 405, and is not run.
                not_allowed = Refused(errors.METHOD_NOT_ALLOWED, error.reason, status=405)
                response = refused_response(not_allowed, accept)
                response.headers["Allow"] = "POST"
                return response
            return refused_response(
                Refused(errors.BAD_REQUEST, error.reason, status=error.status_code), accept
            )

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET naming a trusted document by id has no `query`, and is not a page request.
        return "documentId" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    def decode_json(self, data: str | bytes) -> object:
        decoded = orjson.loads(data)
        if isinstance(decoded, list):
            # One operation per request: each is limited, rate-limited and logged alone.
            raise Refused(
                errors.BATCHING_NOT_SUPPORTED, "Send one operation per request, not a list."
            )
        return decoded

    def parse_json(self, data: str | bytes) -> Any:
        decoded = super().parse_json(data)
        return with_document(self.documents, decoded) if isinstance(decoded, dict) else decoded

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        return with_document(self.documents, super().parse_query_params(params))

    async def process_result(self, request: Request, result: Any) -> Any:
        processed = await super().process_result(request, result)
        if isinstance(result, PreExecutionError):
            # Nothing ran: the GraphQL-over-HTTP specification's "no `data` entry".
            processed.pop("data", None)
        return processed

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
            if isinstance(response_data, dict) and "data" not in response_data:
                status = 400 if status == 200 else status
        elif isinstance(response_data, dict) and "data" not in response_data:
            # Older clients read `data: null` next to the errors.
            response_data = {"data": None, **response_data}
        response = Response(
            self.encode_json(response_data), media_type=media_type, status_code=status
        )
        response.headers.raw.extend(
            header for header in sub_response.headers.raw if header[0] != b"content-length"
        )
        return response
