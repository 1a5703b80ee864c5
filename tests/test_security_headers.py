"""What browsers are told: security headers, CORS for configured origins only, and the
websocket Origin check."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.apps import app_with, client_of
from tests.feed_client import PROTOCOL
from tests.servers import serve

PORTAL = "https://portal.example.org"
VIEWER = {"query": "{ viewer { name } }"}


@pytest_asyncio.fixture(loop_scope="session")
async def portal_app(settings: Any, engine: Any) -> AsyncIterator[FastAPI]:
    async with app_with(settings, engine, allowed_origins=[PORTAL]) as app:
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def client(portal_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(portal_app) as client:
        yield client


async def test_api_answers_carry_the_security_headers(client):
    response = await client.post("/graphql", json=VIEWER)

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["content-security-policy"] == (
        "default-src 'none'; frame-ancestors 'none'"
    )
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers


async def test_the_wall_screen_gets_a_policy_for_its_own_script_and_socket(client):
    response = await client.get("/feed")

    policy = response.headers["content-security-policy"]
    assert "script-src 'unsafe-inline'" in policy and "connect-src 'self' ws: wss:" in policy
    assert "cache-control" not in response.headers


async def test_production_answers_tell_browsers_to_use_https_only(settings, engine):
    async with (
        app_with(settings, engine, env="production") as app,
        client_of(app, "https://hub.test") as client,
    ):
        response = await client.get("/healthz")

    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_cors_is_answered_for_the_configured_origins_only(client):
    preflight = {"Access-Control-Request-Method": "POST"}

    allowed = await client.options("/graphql", headers={"Origin": PORTAL, **preflight})
    refused = await client.options(
        "/graphql", headers={"Origin": "https://evil.example", **preflight}
    )
    read = await client.post("/graphql", json=VIEWER, headers={"Origin": PORTAL})
    other = await client.post("/graphql", json=VIEWER, headers={"Origin": "https://evil.example"})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == PORTAL
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert read.headers["access-control-allow-origin"] == PORTAL
    assert "retry-after" in read.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in other.headers


async def test_without_configured_origins_no_cors_header_is_sent(api):
    response = await api.client.post("/graphql", json=VIEWER, headers={"Origin": PORTAL})

    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [(PORTAL, True), ("https://evil.example", False), (None, True)],
)
async def test_websocket_handshakes_from_other_origins_are_refused(portal_app, origin, accepted):
    async with serve(portal_app) as server:
        try:
            async with connect(
                server.ws_url,
                subprotocols=[PROTOCOL],  # type: ignore[list-item]
                origin=origin,  # type: ignore[arg-type]
            ) as socket:
                opened = socket.subprotocol == PROTOCOL
        except InvalidStatus as refusal:
            opened = False
            assert refusal.response.status_code == 403

    assert opened is accepted
