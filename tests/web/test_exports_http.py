"""CSV exports over HTTP: the secretariat downloads them, streamed; anyone else is refused,
and a filter that names nothing is a 400 naming the parameter."""

import asyncio
from typing import Any

import pytest

from backend import models
from tests.apps import app_with, client_of
from tests.factories import make_coalition, make_organisation, make_token
from tests.reports import bulk
from tests.reports.exported import exported, rows_of
from tests.reports.exports_world import build

NAMES = ["organisations", "commitments", "deliveries"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _analyst(session: Any) -> str:
    return await make_token(session, models.Role.SECRETARIAT_ANALYST)


async def _asgi_get(app: Any, path: str, query: str, token: str) -> tuple[int, list[bytes]]:
    """GET through the whole ASGI stack: the status and each body message the app sent."""
    done = asyncio.Event()
    messages: list[dict[str, Any]] = []
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"hub.test"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 40000),
        "server": ("hub.test", 80),
    }
    await app(scope, receive, send)
    [start] = [message for message in messages if message["type"] == "http.response.start"]
    bodies = [message["body"] for message in messages if message["type"] == "http.response.body"]
    return start["status"], [body for body in bodies if body]


@pytest.mark.parametrize("name", NAMES)
async def test_an_anonymous_caller_is_asked_to_sign_in(api, name):
    response = await api.client.get(f"/exports/{name}.csv")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "errors": [
            {
                "message": "Sign in with an API token to do this.",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ]
    }


async def test_an_unknown_token_is_refused_as_graphql_refuses_it(api):
    response = await api.client.get(
        "/exports/commitments.csv", headers=_bearer("chub_not-a-real-token")
    )

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


@pytest.mark.parametrize(
    "role", [models.Role.PARTNER_ADMIN, models.Role.PARTNER_EDITOR, models.Role.PARTNER_VIEWER]
)
async def test_a_partner_may_not_export_even_its_own_commitments(api, session, role):
    world = await build(session)
    token = await make_token(session, role, world.kalinga)

    response = await api.client.get(
        "/exports/commitments.csv",
        params={"coalition": "learning-continuity", "stage": "NOT-A-STAGE"},
        headers=_bearer(token),
    )

    # Refused before the filters are looked at: a partner learns nothing from a 400.
    assert response.status_code == 403
    assert response.json() == {
        "errors": [
            {
                "message": "Only the secretariat may see this.",
                "extensions": {"code": "PERMISSION_DENIED"},
            }
        ]
    }


@pytest.mark.parametrize("name", NAMES)
async def test_the_secretariat_downloads_each_export_as_an_attachment(
    api, session, session_factory, name
):
    await build(session)
    token = await _analyst(session)

    response = await api.client.get(
        f"/exports/{name}.csv", params={"coalition": "learning-continuity"}, headers=_bearer(token)
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="{name}.csv"'
    # The security headers still apply: no cache keeps a copy of the record.
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert rows_of(response.content) == await exported(
        session_factory, name, coalition="learning-continuity"
    )


async def test_filters_come_from_the_query_string_with_repeated_stages(
    api, session, session_factory
):
    world = await build(session)
    token = await make_token(session, models.Role.SECRETARIAT_ADMIN)

    response = await api.client.get(
        "/exports/commitments.csv?coalition=learning-continuity&stage=WITHDRAWN&stage=PLEDGED"
        "&from=2025-06-13&to=2025-07-31&organisation_type=21",
        headers=_bearer(token),
    )

    assert response.status_code == 200, response.text
    assert [values[0] for values in rows_of(response.content)[1:]] == [
        world.unconverted.ref,
        world.withdrawn.ref,
    ]


async def test_filters_that_name_nothing_are_a_400_naming_each_parameter(api, session):
    await build(session)
    token = await _analyst(session)

    response = await api.client.get(
        "/exports/deliveries.csv",
        params={"coalition": "nowhere", "stage": ["PLEDGED", "DONE"], "from": "June"},
        headers=_bearer(token),
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "errors": [
            {
                "message": "No coalition has the slug 'nowhere'.",
                "extensions": {"code": "UNKNOWN_CODE", "parameter": "coalition"},
            },
            {
                "message": "'DONE' is not a stage (PLEDGED, COMMITTED, IN_DELIVERY, FULFILLED, "
                "WITHDRAWN, CANCELLED).",
                "extensions": {"code": "UNKNOWN_CODE", "parameter": "stage"},
            },
            {
                "message": "'June' is not a date (YYYY-MM-DD).",
                "extensions": {"code": "BAD_FORMAT", "parameter": "from"},
            },
        ]
    }


async def test_a_large_export_leaves_in_several_body_chunks(app, session):
    coalition = await make_coalition(session, slug="bulk")
    organisation = await make_organisation(session)
    assert coalition.id is not None and organisation.id is not None
    await bulk.insert(
        session, coalition_id=coalition.id, organisation_id=organisation.id, count=2500
    )
    token = await _analyst(session)

    status, chunks = await _asgi_get(app, "/exports/commitments.csv", "coalition=bulk", token)

    # The header, then a chunk per batch of about 1,000 commitments, as they are read.
    body = b"".join(chunks)
    assert status == 200
    assert chunks[0].startswith(b"ref,coalition,") and chunks[0].endswith(b"created_at\r\n")
    assert len(chunks) >= 4
    assert max(len(chunk) for chunk in chunks) < len(body) / 2
    assert len(rows_of(body)) == 2501


async def test_exports_are_rate_limited_per_credential(settings, engine, session):
    token = await _analyst(session)
    async with (
        app_with(
            settings,
            engine,
            rate_limits=True,
            rate_limit_principal_per_minute=1,
            rate_limit_principal_burst=1,
        ) as app,
        client_of(app) as client,
    ):
        first = await client.get("/exports/organisations.csv", headers=_bearer(token))
        second = await client.get("/exports/organisations.csv", headers=_bearer(token))

    assert (first.status_code, second.status_code) == (200, 429)
    assert second.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
