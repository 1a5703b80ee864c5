"""`GET /exports/iati/{slug}.xml`: a coalition's IATI 2.03 activity file.

It holds public data only (README.md, "IATI 2.03 export"), so it needs no credentials;
`?by=workstream` gives one activity per workstream.
"""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from backend.errors import BAD_REQUEST, DomainError, NotFound
from backend.reports import iati

router = APIRouter()

IATI_XML = "application/xml"


def _refusal(status: int, code: str, message: str) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status)


@router.get("/exports/iati/{slug}.xml", include_in_schema=False)
async def iati_activities(request: Request, slug: str, by: str = "coalition") -> Response:
    try:
        grouping = iati.Grouping(by)
    except ValueError:
        allowed = " or ".join(item.value for item in iati.Grouping)
        return _refusal(400, BAD_REQUEST, f"`by` must be {allowed}, not '{by}'.")
    try:
        async with request.app.state.session_factory() as session:
            body = await iati.activity_file(session, slug=slug, by=grouping)
    except NotFound as error:
        return _refusal(404, error.code, error.message)
    except DomainError as error:
        return _refusal(409, error.code, error.message)
    return Response(body, media_type=IATI_XML)
