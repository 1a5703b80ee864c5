"""Inputs no portal sends, refused as the API refuses any bad input — never a server error.

Each case here is one the schema fuzzer (test_fuzz.py) found answered `INTERNAL`.
"""

import pytest

from backend import models
from backend.graphql.relay import to_global_id
from tests.factories import gid, make_coalition, make_organisation, make_token

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
