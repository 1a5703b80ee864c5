"""Trusted documents: the allow-list of schema/operations/, by id, by hash or by text, and
what production lets each caller run."""

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from fastapi import FastAPI
from typer.testing import CliRunner

from backend import models
from backend.cli import app as cli
from backend.graphql import limits as operation_limits
from backend.graphql.schema import ValidationCacheByText
from backend.graphql.trusted_documents import TrustedDocuments
from tests.apps import app_with, client_of
from tests.factories import make_organisation, make_token
from tests.feed_client import feed_client
from tests.servers import serve

OPERATIONS = Path(__file__).resolve().parents[2] / "schema" / "operations"
PORTAL = (OPERATIONS / "portal.graphql").read_text("utf-8")
FEED = (OPERATIONS / "feed.graphql").read_text("utf-8")
GRAPHQL_RESPONSE = "application/graphql-response+json"
VIEWER = {d.name: d for d in TrustedDocuments().documents}["Viewer"]
AD_HOC = "{ viewer { name } }"


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


@pytest_asyncio.fixture(loop_scope="session")
async def production(settings: Any, engine: Any) -> AsyncIterator[FastAPI]:
    async with app_with(settings, engine, env="production", ws_init_timeout=2.0) as app:
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def client(production: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(production, "https://hub.test") as client:
        yield client


def test_the_manifest_lists_every_operation_under_the_hash_of_its_body():
    result = CliRunner().invoke(cli, ["operations", "manifest"])

    manifest = json.loads(result.stdout)
    names = {operation["name"] for operation in manifest["operations"]}
    assert result.exit_code == 0
    assert manifest["format"] == "apollo-persisted-query-manifest"
    assert {"CoalitionPage", "PledgeCommitment", "AuditTrail", "WallScreenFeed"} <= names
    for operation in manifest["operations"]:
        assert operation["id"] == hashlib.sha256(operation["body"].encode()).hexdigest()


async def test_anonymous_production_callers_run_trusted_documents_only(client):
    by_id = await client.post("/graphql", json={"documentId": VIEWER.id})
    by_hash = await client.post(
        "/graphql",
        json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": VIEWER.sha256}}},
    )
    by_text = await client.post("/graphql", json={"query": VIEWER.body})
    by_file = await client.post("/graphql", json={"query": PORTAL, "operationName": "Viewer"})
    by_get = await client.get("/graphql", params={"documentId": VIEWER.id})
    ad_hoc = await client.post("/graphql", json={"query": AD_HOC})

    expected = {"data": {"viewer": {"name": "anonymous", "role": None,
                                    "memberCoalitionIds": [], "organisation": None}}}  # fmt: skip
    for response in (by_id, by_hash, by_text, by_file, by_get):
        assert response.json() == expected
    assert codes(ad_hoc) == ["OPERATION_NOT_ALLOWED"]


async def test_a_partner_is_held_to_the_trusted_documents_and_the_secretariat_is_not(
    client, session
):
    organisation = await make_organisation(session)
    partner = await make_token(session, models.Role.PARTNER_EDITOR, organisation)
    analyst = await make_token(session, models.Role.SECRETARIAT_ANALYST)

    partner_ad_hoc = await client.post(
        "/graphql", json={"query": AD_HOC}, headers={"Authorization": f"Bearer {partner}"}
    )
    analyst_ad_hoc = await client.post(
        "/graphql", json={"query": AD_HOC}, headers={"Authorization": f"Bearer {analyst}"}
    )
    analyst_introspection = await client.post(
        "/graphql",
        json={"query": "{ __schema { queryType { name } } }"},
        headers={"Authorization": f"Bearer {analyst}"},
    )

    assert codes(partner_ad_hoc) == ["OPERATION_NOT_ALLOWED"]
    assert analyst_ad_hoc.json()["data"]["viewer"]["name"].startswith("secretariat_analyst")
    # Introspection stays off in production for everyone.
    assert set(codes(analyst_introspection)) == {"GRAPHQL_VALIDATION_FAILED"}


async def test_anonymous_introspection_in_production_is_refused(client):
    response = await client.post("/graphql", json={"query": "{ __schema { types { name } } }"})

    assert codes(response) == ["OPERATION_NOT_ALLOWED"]


async def test_an_unknown_document_id_is_not_found(client):
    unknown = "sha256:" + "0" * 64

    legacy = await client.post("/graphql", json={"documentId": unknown})
    modern = await client.post(
        "/graphql", json={"documentId": unknown}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    wrong_type = await client.post("/graphql", json={"documentId": 7})
    mismatch = await client.post("/graphql", json={"documentId": VIEWER.id, "query": AD_HOC})

    assert (legacy.status_code, codes(legacy)) == (200, ["PERSISTED_QUERY_NOT_FOUND"])
    assert (modern.status_code, codes(modern)) == (400, ["PERSISTED_QUERY_NOT_FOUND"])
    assert (wrong_type.status_code, codes(wrong_type)) == (400, ["BAD_REQUEST"])
    assert (mismatch.status_code, codes(mismatch)) == (400, ["BAD_REQUEST"])


async def test_development_runs_ad_hoc_documents(api):
    response = await api.post(AD_HOC)

    assert response.json() == {"data": {"viewer": {"name": "anonymous"}}}


async def test_the_feed_takes_trusted_subscriptions_only_in_production(production):
    ad_hoc = "subscription { coalitionFeed { cursor } }"
    trusted = {"query": FEED, "operationName": "WallScreenFeed", "variables": {}}

    async with serve(production) as server, feed_client(server.ws_url) as feed:
        await feed.init()
        await feed.subscribe("ad-hoc", document=ad_hoc)
        refused = await feed.receive()
        await feed.send({"id": "trusted", "type": "subscribe", "payload": trusted})
        await feed.send({"type": "ping"})
        # Whatever comes before the pong would be the trusted subscription's refusal.
        answered = await feed.receive()

    assert refused["type"] == "error"
    assert [error["extensions"]["code"] for error in refused["payload"]] == [
        "OPERATION_NOT_ALLOWED"
    ]
    assert answered == {"type": "pong"}


async def test_repeated_trusted_operations_hit_the_parser_and_validation_caches(api, session):
    analyst = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    audit = (OPERATIONS / "secretariat.graphql").read_text("utf-8")
    body = {"query": audit, "operationName": "AuditTrail", "variables": {"entityId": "x"}}
    headers = {"Authorization": f"Bearer {analyst}"}
    await api.client.post("/graphql", json=body, headers=headers)
    parsed = operation_limits.parse_cache_info()
    validation = (ValidationCacheByText.hits, ValidationCacheByText.misses)

    for _ in range(5):
        await api.client.post("/graphql", json=body, headers=headers)

    reparsed = operation_limits.parse_cache_info()
    assert (reparsed.hits - parsed.hits, reparsed.misses - parsed.misses) == (5, 0)
    assert (
        ValidationCacheByText.hits - validation[0],
        ValidationCacheByText.misses - validation[1],
    ) == (5, 0)
