"""CSV exports over HTTP for the secretariat: `GET /exports/{organisations,commitments,
deliveries}.csv`, filtered as the commitments query is, streamed as they are read.

Who may export and over which scope is decided here for HTTP and the command line alike
(`prepare`); the files themselves are written by backend.reports.csv_exports.
"""

from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from backend import db
from backend.actors import Actor
from backend.errors import DomainError, InvalidInput, PermissionDenied, Unauthenticated
from backend.graphql.authentication import Authenticator
from backend.graphql.dashboard import scope_for
from backend.reports import csv_exports, filters
from backend.reports.scope import Scope
from backend.services import access

CSV = "text/csv; charset=utf-8"


async def prepare(
    connection: AsyncConnection, actor: Actor, wanted: filters.Filters
) -> tuple[Scope, filters.Selection]:
    """The scope and selection of an export by `actor`: the secretariat only
    (Unauthenticated, PermissionDenied), with filters that name something (InvalidInput)."""
    access.require_secretariat(actor)
    selection = await filters.resolve(connection, wanted)
    scope = scope_for(
        actor,
        coalition_ids=selection.coalition_ids,
        period_from=selection.period_from,
        period_to=selection.period_to,
    )
    return scope, selection


def _refused(error: DomainError) -> Response:
    if isinstance(error, InvalidInput):
        status = 400
        problems = [
            {
                "message": issue.message,
                "extensions": {"code": issue.code, "parameter": issue.field},
            }
            for issue in error.issues
        ]
    else:
        status = 401 if isinstance(error, Unauthenticated) else 403
        problems = [{"message": error.message, "extensions": {"code": error.code}}]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(
        orjson.dumps({"errors": problems}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


Text = Annotated[str | None, Query()]


async def commitment_filters(
    coalition: Text = None,
    workstream: Text = None,
    organisation: Text = None,
    organisation_type: Text = None,
    stage: Annotated[list[str] | None, Query()] = None,
    resource_kind: Text = None,
    country: Text = None,
    sdg_target: Text = None,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: Text = None,
) -> filters.Filters:
    return filters.Filters(
        coalition=coalition,
        workstream=workstream,
        organisation=organisation,
        organisation_type=organisation_type,
        stages=stage or (),
        resource_kind=resource_kind,
        country=country,
        sdg_target=sdg_target,
        period_from=from_,
        period_to=to,
    )


Wanted = Annotated[filters.Filters, Depends(commitment_filters)]


def router(*, authenticate: Authenticator, session_factory: db.SessionFactory) -> APIRouter:
    """The export routes, signing callers in with the app's `authenticate`."""
    routes = APIRouter(prefix="/exports", include_in_schema=False)

    async def export(request: Request, name: str, wanted: filters.Filters) -> Response:
        # CredentialsRejected (a bad token) leaves for the app's handler: 401.
        actor = await authenticate.of_request(request)
        try:
            async with session_factory() as session:
                scope, selection = await prepare(await session.connection(), actor, wanted)
        except (InvalidInput, PermissionDenied) as error:
            return _refused(error)
        return StreamingResponse(
            _stream(session_factory, name, scope, selection),
            media_type=CSV,
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )

    @routes.get("/organisations.csv")
    async def organisations(
        request: Request,
        coalition: Text = None,
        organisation: Text = None,
        organisation_type: Text = None,
    ) -> Response:
        wanted = filters.Filters(
            coalition=coalition, organisation=organisation, organisation_type=organisation_type
        )
        return await export(request, "organisations", wanted)

    @routes.get("/commitments.csv")
    async def commitments(request: Request, wanted: Wanted) -> Response:
        return await export(request, "commitments", wanted)

    @routes.get("/deliveries.csv")
    async def deliveries(request: Request, wanted: Wanted) -> Response:
        return await export(request, "deliveries", wanted)

    return routes


async def _stream(
    session_factory: db.SessionFactory, name: str, scope: Scope, selection: filters.Selection
) -> AsyncIterator[bytes]:
    async with session_factory() as session:
        connection = await session.connection()
        async for chunk in csv_exports.EXPORTS[name](connection, scope, selection):
            yield chunk
