"""The abuse suite: documents built to exhaust the hub, each refused with its code before
anything runs (no SQL statement), and the hub answers a normal query right after.

The app here keeps every limit at its default (the suite's shared settings raise the cost
limit for its own wide documents). How fast the refusals are is measured by
bench/abuse.py, not asserted here.
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from graphql import parse
from graphql.language import Lexer, Source, TokenKind

from backend.config import Settings
from backend.graphql import limits as operation_limits
from backend.graphql.schema import schema
from backend.graphql.trusted_documents import TrustedDocuments
from tests.apps import app_with, client_of
from tests.feed_client import feed_client
from tests.servers import serve

DEFAULT_COST = Settings.model_fields["max_cost"].default
OPERATIONS = Path(__file__).resolve().parents[2] / "schema" / "operations"
DEFAULT_LIMITS = operation_limits.Limits()
VIEWER = "{ viewer { name } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def nested(levels: int) -> str:
    """`levels` fields deep: organisation → memberships → organisation → …"""
    pairs = levels // 2
    return (
        "{ organisations(first: 1) { edges { node { "
        + "memberships { organisation { " * pairs
        + "name"
        + " } }" * pairs
        + " } } } }"
    )


def nested_through_fragments(levels: int) -> str:
    pairs = levels // 2
    fragments = "\n".join(
        f"fragment F{i} on Organisation {{ memberships {{ organisation {{ ...F{i + 1} }} }} }}"
        for i in range(pairs)
    )
    return (
        "{ organisations(first: 1) { edges { node { ...F0 } } } }\n"
        + fragments
        + f"\nfragment F{pairs} on Organisation {{ name }}"
    )


# `first: 100` three times over, within the depth limit (9 levels of fields).
COST_BOMB = """
{ coalitions(first: 100) { edges { node {
    commitments(first: 100) { edges { node {
      coalition { commitments(first: 100) { totalCount } }
    } } }
} } } }
"""


@pytest_asyncio.fixture(loop_scope="session")
async def guarded_app(settings: Settings, engine: Any) -> AsyncIterator[FastAPI]:
    async with app_with(settings, engine, max_cost=DEFAULT_COST) as app:
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def client(guarded_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(guarded_app) as client:
        yield client


async def refusal(client: httpx.AsyncClient, body: Any, **headers: str) -> tuple[int, list[str]]:
    if isinstance(body, bytes):
        response = await client.post(
            "/graphql", content=body, headers={"Content-Type": "application/json", **headers}
        )
    else:
        response = await client.post("/graphql", json=body, headers=headers)
    errors = response.json()["errors"]
    return response.status_code, [error["extensions"]["code"] for error in errors]


ATTACKS = {
    "100 levels deep": ({"query": nested(100)}, 200, ["DEPTH_LIMIT_EXCEEDED"]),
    "100 levels deep through fragments": (
        {"query": nested_through_fragments(100)},
        200,
        ["DEPTH_LIMIT_EXCEEDED"],
    ),
    # 1,000 aliases do not fit in the document size limit, which refuses them first.
    "1,000 aliases": (
        {"query": "{ " + " ".join(f"a{i}: viewer {{ name }}" for i in range(1000)) + " }"},
        200,
        ["DOCUMENT_TOO_LARGE"],
    ),
    "16 aliases": (
        {"query": "{ " + " ".join(f"a{i}: viewer {{ name }}" for i in range(16)) + " }"},
        200,
        ["TOO_MANY_ALIASES"],
    ),
    "a 2 MB document": ({"query": "{ viewer { name } }" + " " * 2_000_000}, 413, []),
    "a 20,000-character document": (
        {"query": "{ viewer { name } }" + " " * 20_000},
        200,
        ["DOCUMENT_TOO_LARGE"],
    ),
    "2,500 tokens": ({"query": "{ viewer { " + "name " * 2500 + "} }"}, 200, ["TOO_MANY_TOKENS"]),
    "51 directives": (
        {"query": "{ viewer { " + "name @include(if: true) " * 51 + "} }"},
        200,
        ["TOO_MANY_DIRECTIVES"],
    ),
    "1,000 batched operations": ([{"query": VIEWER}] * 1000, 400, ["BATCHING_NOT_SUPPORTED"]),
    "a cost bomb within the depth limit": ({"query": COST_BOMB}, 200, ["COST_LIMIT_EXCEEDED"]),
    "a page of 101": (
        {"query": "{ coalitions(first: 101) { totalCount } }"},
        200,
        ["INVALID_INPUT"],
    ),
    "not GraphQL": ({"query": "{ viewer { name "}, 200, ["GRAPHQL_PARSE_FAILED"]),
    "a field that is not there": (
        {"query": "{ viewer { nickname } }"},
        200,
        ["GRAPHQL_VALIDATION_FAILED"],
    ),
}


@pytest.mark.parametrize("attack", ATTACKS)
async def test_an_abusive_request_is_refused_before_it_runs(client, statement_counter, attack):
    body, status, codes = ATTACKS[attack]
    if status == 413:
        codes = ["REQUEST_TOO_LARGE"]

    statement_counter.reset()
    refused = await refusal(client, body)
    statements = statement_counter.count
    normal = await client.post("/graphql", json={"query": VIEWER})

    assert refused == (status, codes)
    assert statements == 0
    assert normal.json() == {"data": {"viewer": {"name": "anonymous"}}}


async def test_graphql_response_clients_get_a_4xx_without_data_for_a_refusal(client):
    response = await client.post(
        "/graphql", json={"query": nested(20)}, headers={"Accept": GRAPHQL_RESPONSE}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in response.json()


async def test_a_declared_body_over_the_limit_is_refused_unread(client):
    response = await client.post(
        "/graphql",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": "100001"},
    )

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


async def test_the_portal_documents_are_within_the_limits(client):
    # The coalition page's nominal cost passes the limit: trusted documents are exempt
    # from it (README "Security"), while an ad-hoc copy of it is not.
    portal = (
        'query Page { coalition(slug: "none") { memberships { organisation { '
        "commitments { inKind { id } deliveries { id } } } } } }"
    )

    ad_hoc = await refusal(client, {"query": portal})
    trusted = await client.post(
        "/graphql",
        json={
            "query": (OPERATIONS / "portal.graphql").read_text("utf-8"),
            "operationName": "CoalitionPage",
            "variables": {"slug": "none", "coalitionId": "Q29hbGl0aW9uOjE="},
        },
    )

    assert ad_hoc == (200, ["COST_LIMIT_EXCEEDED"])
    assert trusted.json() == {"data": {"coalition": None}}


async def test_limits_hold_on_websockets_for_the_shared_feed_renders_too(guarded_app):
    aliased_feed = (
        "subscription { coalitionFeed { " + " ".join(f"c{i}: cursor" for i in range(16)) + " } }"
    )
    many_tokens = "subscription { coalitionFeed { " + "c " * 2500 + "} }"

    async with serve(guarded_app) as server, feed_client(server.ws_url) as client:
        await client.init()
        await client.subscribe("tokens", document=many_tokens)
        tokens = await client.receive()
        await client.subscribe("aliases", document=aliased_feed)
        aliases = await client.receive()

    assert tokens["type"] == "error" and tokens["id"] == "tokens"
    assert [error["extensions"]["code"] for error in tokens["payload"]] == ["TOO_MANY_TOKENS"]
    assert aliases["type"] == "error" and aliases["id"] == "aliases"
    assert [error["extensions"]["code"] for error in aliases["payload"]] == ["TOO_MANY_ALIASES"]


@pytest.mark.parametrize(
    "text",
    [
        *(path.read_text("utf-8") for path in sorted(OPERATIONS.glob("*.graphql"))),
        '{ a(s: "x # y \\" z", b: """block "" \\""" text""") }  # a comment { { {',
        "query { a(x: -1.5e3, y: 0) @d { ...F } } fragment F on T { b }",
    ],
)
def test_the_token_count_before_parsing_is_the_lexers(text):
    lexer = Lexer(Source(text))
    counted = 0
    while lexer.advance().kind is not TokenKind.EOF:
        counted += 1

    assert not operation_limits.more_tokens_than(text, counted)
    assert operation_limits.more_tokens_than(text, counted - 1)


def test_every_trusted_document_is_within_the_depth_limit_and_two_exceed_the_cost():
    limits = operation_limits.Limits(cost=10**9)

    measured = {
        document.name: operation_limits.measure(schema._schema, parse(document.body), limits)[
            document.name
        ]
        for document in TrustedDocuments().documents
    }

    assert max(measure.depth for measure in measured.values()) <= DEFAULT_LIMITS.depth
    # The portal's own pages, exempt from the cost limit (README "Security").
    assert {name: m.cost for name, m in measured.items() if m.cost > DEFAULT_LIMITS.cost} == {
        "CoalitionPage": 33282,
        "Commitments": 8502,
    }
