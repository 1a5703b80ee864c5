"""The whole schema, fuzzed: generated queries and mutations never get an unexplained error.

hypothesis-graphql builds documents from the schema — every root field, arguments inlined
as literals, hostile values for the custom scalars and ids of real rows mixed with
garbage — and each is sent through the real app (over ASGI, as the portal would) as an
anonymous reader, a partner editor or the secretariat, against a small seeded world.
Every answer must be below HTTP 500, JSON, and each error in it must carry a code that
is not INTERNAL (a masked unexpected error). An error without a code passes only as
GraphQL's own validation error (no `path`): the generator means to keep to every rule, and
with these seeds none occurs, but a new version of it may not.

Hypothesis runs in a worker thread, derandomised (the same documents every run); each
request goes to the test's event loop. The world is seeded once per test; the
mutations' rows accumulate within it.
"""

import asyncio
import base64
import datetime as dt
from decimal import Decimal
from typing import Any

import graphql
import httpx
import hypothesis_graphql
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.graphql.schema import NODE_TYPES, schema
from tests.factories import (
    gid,
    in_kind_line,
    make_activity,
    make_coalition,
    make_commitment,
    make_delivery,
    make_membership,
    make_organisation,
    make_token,
    make_workstream,
)

SCHEMA = schema._schema
QUERY_EXAMPLES = 150
MUTATION_EXAMPLES = 150
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


def strings(*values: str) -> st.SearchStrategy[graphql.ValueNode]:
    return st.sampled_from(values).map(nodes.String)


# Each scalar: values a portal would send, values at and past its limits, and any text.
DECIMALS = st.one_of(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=2).map(
        nodes.String
    ),
    strings(
        "0", "-1", "0.00001", "1E3", "1E+17", "1E+999999999", "1E-999999999", "NaN",
        "-Infinity", "sNaN", " 12", "1_000", "", "9" * 60, "ten",
    ),
    st.integers(min_value=-(2**31), max_value=2**31 - 1).map(nodes.Int),
    st.text(max_size=20).map(nodes.String),
)  # fmt: skip
DATES = st.one_of(
    st.dates().map(lambda day: nodes.String(day.isoformat())),
    strings("2026-02-30", "0000-01-01", "10000-01-01", "2026-1-1", "20260101", ""),
    st.text(max_size=12).map(nodes.String),
)
OFFSETS = st.sampled_from(["Z", "+00:00", "+01:00", "-12:00", "+14:00", ""])
DATETIMES = st.one_of(
    st.builds(
        lambda instant, offset: nodes.String(instant.isoformat() + offset),
        st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
        OFFSETS,
    ),
    strings(
        "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-03-01T25:00:00Z",
        "2026-03-01", "now", "",
    ),
    st.text(max_size=20).map(nodes.String),
)  # fmt: skip
INTS = st.one_of(
    st.integers(min_value=-2, max_value=110),
    st.sampled_from([-(2**31), 2**31 - 1]),
).map(nodes.Int)
TYPE_NAMES = [node_type.__name__ for node_type in NODE_TYPES] + ["AuditRecord", "Nope", ""]


def forged_ids() -> st.SearchStrategy[graphql.ValueNode]:
    """Ids of no row: other numbers, other types, huge numbers, not base64 at all."""
    numbers = st.one_of(st.integers(min_value=-5, max_value=1000), st.integers(min_value=2**31))
    encoded = st.builds(
        lambda name, number: base64.urlsafe_b64encode(f"{name}:{number}".encode()).decode(),
        st.sampled_from(TYPE_NAMES),
        numbers,
    )
    return st.one_of(
        encoded.map(nodes.String),
        st.text(max_size=30).map(nodes.String),
        st.integers(min_value=-(2**31), max_value=2**31 - 1).map(nodes.Int),
    )


def scalars(ids: list[str]) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    real = st.sampled_from(ids).map(nodes.String)
    return {
        "Decimal": DECIMALS,
        "Date": DATES,
        "DateTime": DATETIMES,
        "Int": INTS,
        # Mostly real rows, so the resolvers behind them run too.
        "ID": st.one_of(real, real, forged_ids()),
    }


async def given_a_world(api: Any, session: AsyncSession) -> tuple[list[str | None], list[str]]:
    """A coalition with members, commitments of every visibility, deliveries, activities
    and tokens; the callers' tokens (anonymous, partner editor, secretariat admin) and the
    global ids of every row."""
    coalition = await make_coalition(session, slug="education")
    elsewhere = await make_coalition(session, slug="elsewhere")
    workstream = await make_workstream(session, coalition)
    partner = await make_organisation(session, name="Partner")
    other = await make_organisation(session, name="Other member")
    outsider = await make_organisation(session, name="Outsider")
    memberships = [
        await make_membership(session, coalition, partner),
        await make_membership(session, coalition, other),
        await make_membership(session, elsewhere, outsider),
        await make_membership(session, elsewhere, partner, status=models.MembershipStatus.APPLIED),
    ]
    line = in_kind_line(
        fair_value=Decimal("1200"), fair_value_currency="USD", valuation_method="List price"
    )
    commitments = [
        await make_commitment(session, coalition, partner, workstream_id=workstream.id),
        await make_commitment(session, coalition, other, visibility=models.Visibility.MEMBERS),
        await make_commitment(
            session,
            coalition,
            other,
            stage=models.Stage.COMMITTED,
            visibility=models.Visibility.CONFIDENTIAL,
            resource_kind=models.ResourceKind.MIXED,
            in_kind=[line],
        ),
        await make_commitment(
            session,
            coalition,
            partner,
            stage=models.Stage.COMMITTED,
            embargo_until=models.utcnow() + dt.timedelta(days=30),
        ),
        await make_commitment(session, elsewhere, outsider, stage=models.Stage.FULFILLED),
    ]
    deliveries = [
        await make_delivery(session, commitments[2], receiving_organisation_id=partner.id),
        await make_delivery(session, commitments[3]),
    ]
    activities = [
        await make_activity(session, coalition, organisation_id=partner.id),
        await make_activity(
            session, coalition, organisation_id=other.id, visibility=models.Visibility.MEMBERS
        ),
    ]
    editor = await make_token(session, models.Role.PARTNER_EDITOR, partner)
    secretariat = await make_token(session, models.Role.SECRETARIAT_ADMIN)
    await make_token(session, models.Role.PARTNER_ADMIN, other)
    listed = await api(
        "{ apiTokens { id } inKind: commitments { edges { node { inKind { id } } } } }",
        token=secretariat,
    )
    ids = [
        gid(row)
        for row in [
            coalition, elsewhere, workstream, partner, other, outsider,
            *memberships, *commitments, *deliveries, *activities,
        ]
    ]  # fmt: skip
    ids += [token["id"] for token in listed["apiTokens"]]
    ids += [line["id"] for edge in listed["inKind"]["edges"] for line in edge["node"]["inKind"]]
    return [None, editor, secretariat], ids


def unexplained(response: httpx.Response) -> list[Any]:
    """What is wrong with an answer: a server error, no JSON, or an error without a code
    (but for validation's, which have no path) or with INTERNAL."""
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}"]
    try:
        body = response.json()
    except ValueError:
        return ["not JSON"]
    return [error for error in body.get("errors") or [] if _unexplained_error(error)]


def _unexplained_error(error: dict[str, Any]) -> bool:
    code = (error.get("extensions") or {}).get("code")
    if code is None:
        # Validation errors have no path: anything raised while executing does.
        return "path" in error
    return bool(code == "INTERNAL")


async def fuzz(
    api: Any,
    documents: st.SearchStrategy[str],
    tokens: list[str | None],
    *,
    examples: int,
) -> None:
    """Send `examples` generated documents, each as one of `tokens`; fail on the first
    answer with something unexplained (Hypothesis then shrinks the document)."""
    loop = asyncio.get_running_loop()

    @settings(FUZZ, max_examples=examples)
    @given(document=documents, token=st.sampled_from(tokens))
    def send(document: str, token: str | None) -> None:
        response = asyncio.run_coroutine_threadsafe(api.post(document, token=token), loop).result()

        assert unexplained(response) == [], (document, response.text)

    await asyncio.to_thread(send)


async def test_generated_queries_get_no_unexplained_error(api, session):
    tokens, ids = await given_a_world(api, session)
    queries = hypothesis_graphql.queries(SCHEMA, custom_scalars=scalars(ids))

    await fuzz(api, queries, tokens, examples=QUERY_EXAMPLES)


async def test_generated_mutations_get_no_unexplained_error(api, session):
    tokens, ids = await given_a_world(api, session)
    mutations = hypothesis_graphql.mutations(SCHEMA, custom_scalars=scalars(ids))

    await fuzz(api, mutations, tokens, examples=MUTATION_EXAMPLES)


def test_unexplained_finds_masked_errors_and_errors_without_a_code():
    def answer(status: int, body: Any) -> httpx.Response:
        return httpx.Response(status, json=body)

    validation = {"message": "Cannot query field 'x'.", "locations": []}
    masked = {"message": "Unexpected error.", "path": ["node"], "extensions": {"code": "INTERNAL"}}
    no_code = {"message": "boom", "path": ["node"]}
    refused = {
        "message": "Invalid input: first.",
        "path": ["x"],
        "extensions": {"code": "INVALID_INPUT"},
    }

    found = [
        unexplained(answer(200, {"data": None, "errors": [validation, refused]})),
        unexplained(answer(200, {"data": None, "errors": [masked, no_code, refused]})),
        unexplained(answer(500, {})),
        unexplained(httpx.Response(200, text="<html>")),
    ]

    assert found == [[], [masked, no_code], ["HTTP 500"], ["not JSON"]]
