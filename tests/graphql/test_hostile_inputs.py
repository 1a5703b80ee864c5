"""Inputs no portal sends, refused as the API refuses any bad input — never a server error.

Each case here once answered `INTERNAL` (or, on one database only, passed unchecked); the
schema fuzzer (test_fuzz.py) found most of them.
"""

import base64
from pathlib import Path
from typing import Any

import orjson
import pytest

from backend import models
from backend.graphql.relay import to_global_id
from tests.factories import gid, make_coalition, make_organisation, make_token

ROOT = Path(__file__).resolve().parents[2]
# 2^31 overflows PostgreSQL's INTEGER ids, 2^63 SQLite's as well.
HUGE_IDS = [2**31, 2**63]

READS = """
query Reads($node: ID!, $organisation: ID!) {
  node(id: $node) { id }
  organisation(id: $organisation) { id }
}
"""
TOKENS = "query Tokens($organisation: ID!) { apiTokens(organisationId: $organisation) { name } }"
PLEDGE = """
mutation Pledge($input: PledgeCommitmentInput!) {
  pledgeCommitment(input: $input) {
    __typename ... on ValidationFailed { fields { field code } }
  }
}
"""


@pytest.mark.parametrize("number", HUGE_IDS)
async def test_an_id_too_large_for_any_row_finds_nothing_or_is_refused_as_a_filter(
    api, session, number
):
    secretariat = await make_token(session, models.Role.SECRETARIAT_ADMIN)
    variables = {
        "node": to_global_id("Commitment", number),
        "organisation": to_global_id("Organisation", number),
    }

    reads = await api.post(READS, variables, token=secretariat)
    tokens = await api.post(TOKENS, {"organisation": variables["organisation"]}, token=secretariat)

    assert reads.json() == {"data": {"node": None, "organisation": None}}
    assert [error["extensions"] for error in tokens.json()["errors"]] == [
        {"code": "INVALID_INPUT", "fields": [{"field": "organisationId", "code": "BAD_ID"}]}
    ]


@pytest.mark.parametrize("number", HUGE_IDS)
async def test_a_write_naming_an_id_too_large_is_refused_with_bad_id(api, session, number):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    secretariat = await make_token(session, models.Role.SECRETARIAT_ADMIN)
    input = {
        "coalitionId": gid(coalition),
        "organisationId": gid(organisation),
        "workstreamId": to_global_id("Workstream", number),
        "title": "Laptops",
        "resourceKind": "FINANCIAL",
        "amount": "10",
        "currency": "USD",
    }

    data = await api(PLEDGE, {"input": input}, token=secretariat)

    assert data == {
        "pledgeCommitment": {
            "__typename": "ValidationFailed",
            "fields": [{"field": "workstreamId", "code": "BAD_ID"}],
        }
    }


def cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(parts))).decode()


PAGES = """
query Pages($coalitions: String, $commitments: String, $activities: String) {
  coalitions(after: $coalitions) { totalCount }
  commitments(after: $commitments) { totalCount }
  activities(after: $activities) { totalCount }
}
"""
BAD_CURSOR = {"code": "INVALID_INPUT", "fields": [{"field": "after", "code": "BAD_FORMAT"}]}


@pytest.mark.parametrize(
    "list_name, after",
    [
        ("coalitions", cursor("name", 5, 1)),
        ("coalitions", cursor("name", None, 1)),
        ("coalitions", cursor("name", "Coalition", 2**40)),
        ("commitments", cursor("newest", "2026-01-01T00:00:00", 1)),
        ("commitments", cursor("newest", "0001-01-01T00:00:00+01:00", 1)),
        ("activities", cursor("latest", "9999-12-31T23:59:59-01:00", 1)),
    ],
    ids=["number", "null", "huge id", "no offset", "before year 1", "after year 9999"],
)
async def test_a_forged_cursor_is_refused_like_a_garbled_one(api, session, list_name, after):
    await make_coalition(session)

    response = await api.post(PAGES, {list_name: after})

    assert [error["extensions"] for error in response.json()["errors"]] == [BAD_CURSOR]


@pytest.mark.parametrize(
    "amount, code", [("1E+999999999", "BAD_RANGE"), ("1E-999999999", "TOO_PRECISE")]
)
async def test_an_amount_beyond_the_decimal_context_is_refused_not_rounded(
    api, session, amount, code
):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    secretariat = await make_token(session, models.Role.SECRETARIAT_ADMIN)
    input = {
        "coalitionId": gid(coalition),
        "organisationId": gid(organisation),
        "title": "Laptops",
        "resourceKind": "FINANCIAL",
        "amount": amount,
        "currency": "USD",
    }

    data = await api(PLEDGE, {"input": input}, token=secretariat)

    assert data == {
        "pledgeCommitment": {
            "__typename": "ValidationFailed",
            "fields": [{"field": "amount", "code": code}],
        }
    }


WORKSTREAM = """
mutation Workstream($coalition: ID!, $date: Date, $value: Decimal) {
  createWorkstream(
    input: {coalitionId: $coalition, name: "Teachers", kind: FLAGSHIP, targetDate: $date,
            targetValue: $value}
  ) { __typename }
}
"""
CREATED_FROM = (
    "query Since($from: DateTime) { commitments(filter: {createdFrom: $from}) { totalCount } }"
)


def codes(response: Any) -> list[str | None]:
    return [error.get("extensions", {}).get("code") for error in response.json()["errors"]]


@pytest.mark.parametrize(
    "variables",
    [
        {"date": "2026-02-30"},
        {"date": "yesterday"},
        {"value": "ten"},
        {"value": True},
    ],
)
async def test_a_malformed_date_or_decimal_is_refused_with_bad_user_input(api, session, variables):
    coalition = await make_coalition(session)
    secretariat = await make_token(session, models.Role.SECRETARIAT_ADMIN)

    response = await api.post(
        WORKSTREAM, {"coalition": gid(coalition), **variables}, token=secretariat
    )

    assert codes(response) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "instant", ["2026-03-01", "2026-03-01T09:00:00", "0001-01-01T00:00:00+01:00"]
)
async def test_a_malformed_instant_or_one_outside_the_utc_calendar_is_bad_user_input(
    api, session, instant
):
    as_variable = await api.post(CREATED_FROM, {"from": instant})
    as_literal = await api.post(
        f'{{ commitments(filter: {{createdFrom: "{instant}"}}) {{ totalCount }} }}'
    )

    assert (codes(as_variable), codes(as_literal)) == (["BAD_USER_INPUT"], ["BAD_USER_INPUT"])


NUL_IN_TEXT = "Text must not contain the NUL character (U+0000)."


async def test_text_holding_a_nul_character_is_refused_before_any_resolver(api, session):
    coalition = await make_coalition(session, slug="education")
    organisation = await make_organisation(session)
    secretariat = await make_token(session, models.Role.SECRETARIAT_ADMIN)
    pledge = {
        "coalitionId": gid(coalition),
        "organisationId": gid(organisation),
        "title": "Laptops\u0000",
        "resourceKind": "FINANCIAL",
        "amount": "10",
        "currency": "USD",
    }

    literal = await api.post('{ coalition(slug: "education\\u0000") { id } }')
    variable = await api.post(
        "query Search($search: String) { organisations(filter: {search: $search}) { totalCount } }",
        {"search": "a\u0000"},
    )
    write = await api.post(PLEDGE, {"input": pledge}, token=secretariat)

    assert [literal.json(), variable.json(), write.json()] == [
        {
            "data": None,
            "errors": [
                {
                    "message": NUL_IN_TEXT,
                    "locations": [{"line": 1, "column": 19}],
                    "extensions": {"code": "BAD_USER_INPUT"},
                }
            ],
        },
        {
            "data": None,
            "errors": [
                {
                    "message": f"Variable '$search': {NUL_IN_TEXT}",
                    "extensions": {"code": "BAD_USER_INPUT"},
                }
            ],
        },
        {
            "data": None,
            "errors": [
                {
                    "message": f"Variable '$input': {NUL_IN_TEXT}",
                    "extensions": {"code": "BAD_USER_INPUT"},
                }
            ],
        },
    ]


async def test_a_trusted_query_with_a_nul_in_its_variables_is_refused_every_time(
    api, session, caplog
):
    coalition = await make_coalition(session, slug="education")
    portal = (ROOT / "schema" / "operations" / "portal.graphql").read_text(encoding="utf-8")
    request = {"query": portal, "operationName": "CoalitionPage"}
    # Once answered through the stack, the document's next requests reach its compiled read.
    variables = {"slug": "education", "coalitionId": gid(coalition)}
    await api.client.post("/graphql", json={**request, "variables": variables})
    hostile = {**variables, "slug": "education\u0000"}

    answers = [
        (await api.client.post("/graphql", json={**request, "variables": hostile})).json()
        for _ in range(2)
    ]

    refusal = {
        "data": None,
        "errors": [
            {
                "message": f"Variable '$slug': {NUL_IN_TEXT}",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ],
    }
    assert answers == [refusal, refusal]
    assert [
        record.getMessage() for record in caplog.records if "compiled" in record.getMessage()
    ] == []
