import pytest
import sqlalchemy as sa

from backend import models
from tests.factories import (
    gid,
    make_coalition,
    make_commitment,
    make_membership,
    make_organisation,
    make_token,
    make_workstream,
)

REFUSAL = "__typename ... on ValidationFailed { code fields { field code } }"
PLEDGE = f"""
mutation Pledge($input: PledgeCommitmentInput!) {{
  pledgeCommitment(input: $input) {{ {REFUSAL} }}
}}
"""
WRITES = {
    mutation: f"""
    mutation ($input: {input_type}!) {{ {mutation}(input: $input) {{ {REFUSAL} }} }}
    """
    for mutation, input_type in [
        ("reviseCommitment", "ReviseCommitmentInput"),
        ("advanceCommitment", "AdvanceCommitmentInput"),
        ("withdrawCommitment", "CloseCommitmentInput"),
        ("cancelCommitment", "CloseCommitmentInput"),
    ]
}
LINE = {"category": "CONNECTIVITY", "description": "Mobile data", "quantity": "5000", "unit": "GB"}
WRITTEN = [models.Commitment, models.InKindLine, models.FeedEvent, models.AuditRecord]


async def _partner(session, coalition, role=models.Role.PARTNER_EDITOR):
    organisation = await make_organisation(session)
    await make_membership(session, coalition, organisation)
    return organisation, await make_token(session, role, organisation)


async def _counts(session):
    return {
        model.__tablename__: await session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in WRITTEN
    }


def _pledge(coalition, **fields):
    return {
        "coalitionId": gid(coalition),
        "title": "School connectivity fund",
        "resourceKind": "FINANCIAL",
        "amount": "1000",
        "currency": "USD",
        **fields,
    }


def _refused(mutation, *fields):
    return {
        mutation: {
            "__typename": "ValidationFailed",
            "code": "INVALID_INPUT",
            "fields": [{"field": field, "code": code} for field, code in fields],
        }
    }


IN_KIND = {"resourceKind": "IN_KIND", "amount": None, "currency": None, "inKind": [LINE]}


@pytest.mark.parametrize(
    ("fields", "refused"),
    [
        ({"currency": "XYZ"}, [("currency", "UNKNOWN_CODE")]),
        ({"countries": ["KE", "XX"]}, [("countries.1", "UNKNOWN_CODE")]),
        ({"amount": "0"}, [("amount", "NOT_POSITIVE")]),
        ({"amount": "-250"}, [("amount", "NOT_POSITIVE")]),
        ({"amount": "10.00001"}, [("amount", "TOO_PRECISE")]),
        ({"amount": "100000000000000"}, [("amount", "BAD_RANGE")]),
        ({"amount": "999999999999999"}, [("amount", "BAD_RANGE")]),
        ({"amount": None}, [("amount", "REQUIRED")]),
        ({"sdgTargets": ["4.1", "4.99"]}, [("sdgTargets.1", "UNKNOWN_CODE")]),
        ({"startDate": "2025-07-01", "endDate": "2025-06-30"}, [("endDate", "BAD_RANGE")]),
        ({"title": "x" * 201}, [("title", "TOO_LONG")]),
        ({"title": "  "}, [("title", "REQUIRED")]),
        ({"earmarking": "9"}, [("earmarking", "UNKNOWN_CODE")]),
        ({"inKind": [LINE]}, [("inKind", "NOT_ALLOWED")]),
        ({**IN_KIND, "amount": "5"}, [("amount", "NOT_ALLOWED")]),
        ({**IN_KIND, "inKind": []}, [("inKind", "REQUIRED")]),
        ({**IN_KIND, "inKind": [{**LINE, "unit": ""}]}, [("inKind.0.unit", "REQUIRED")]),
        (
            {**IN_KIND, "inKind": [{**LINE, "quantity": "0"}]},
            [("inKind.0.quantity", "NOT_POSITIVE")],
        ),
        (
            {**IN_KIND, "inKind": [LINE, {**LINE, "fairValue": "10", "fairValueCurrency": "EUR"}]},
            [("inKind.1.valuationMethod", "REQUIRED")],
        ),
        (
            {**IN_KIND, "inKind": [{**LINE, "fairValueCurrency": "EUR"}]},
            [("inKind.0.fairValueCurrency", "NOT_ALLOWED")],
        ),
        ({"description": "x" * 10_001}, [("description", "TOO_LONG")]),
    ],
)
async def test_a_bad_pledge_is_refused_naming_the_field_and_writes_nothing(
    api, session, fields, refused
):
    coalition = await make_coalition(session)
    _, token = await _partner(session, coalition)
    before = await _counts(session)

    data = await api(PLEDGE, {"input": _pledge(coalition, **fields)}, token=token)

    assert data == _refused("pledgeCommitment", *refused)
    assert await _counts(session) == before


async def test_a_title_of_two_hundred_characters_is_accepted(api, session):
    coalition = await make_coalition(session)
    _, token = await _partner(session, coalition)

    data = await api(PLEDGE, {"input": _pledge(coalition, title="x" * 200)}, token=token)

    assert data == {"pledgeCommitment": {"__typename": "Commitment"}}


async def test_every_problem_is_named_at_once(api, session):
    coalition = await make_coalition(session)
    _, token = await _partner(session, coalition)
    pledge = _pledge(
        coalition,
        title="x" * 201,
        currency="XYZ",
        countries=["XX"],
        sdgTargets=["4.99"],
        startDate="2025-07-01",
        endDate="2025-06-30",
    )

    data = await api(PLEDGE, {"input": pledge}, token=token)

    assert data == _refused(
        "pledgeCommitment",
        ("title", "TOO_LONG"),
        ("currency", "UNKNOWN_CODE"),
        ("countries.0", "UNKNOWN_CODE"),
        ("sdgTargets.0", "UNKNOWN_CODE"),
        ("endDate", "BAD_RANGE"),
    )


@pytest.mark.parametrize("field", ["coalitionId", "organisationId", "workstreamId"])
async def test_an_id_of_another_type_is_refused(api, session, field):
    coalition = await make_coalition(session)
    organisation, token = await _partner(session, coalition)
    wrong = {
        "coalitionId": gid(organisation),
        "organisationId": gid(coalition),
        "workstreamId": gid(coalition),
    }
    before = await _counts(session)

    data = await api(PLEDGE, {"input": _pledge(coalition, **{field: wrong[field]})}, token=token)

    assert data == _refused("pledgeCommitment", (field, "BAD_ID"))
    assert await _counts(session) == before


async def test_an_id_that_is_no_global_id_is_refused(api, session):
    coalition = await make_coalition(session)
    _, token = await _partner(session, coalition)

    data = await api(PLEDGE, {"input": _pledge(coalition, coalitionId="not-an-id")}, token=token)

    assert data == _refused("pledgeCommitment", ("coalitionId", "BAD_ID"))


async def test_the_secretariat_must_say_which_organisation_pledges(api, session):
    coalition = await make_coalition(session)
    token = await make_token(session, models.Role.SECRETARIAT_ADMIN)
    before = await _counts(session)

    data = await api(PLEDGE, {"input": _pledge(coalition)}, token=token)

    assert data == _refused("pledgeCommitment", ("organisationId", "REQUIRED"))
    assert await _counts(session) == before


async def test_an_unknown_enum_value_is_a_graphql_validation_error(api, session):
    coalition = await make_coalition(session)
    _, token = await _partner(session, coalition)
    before = await _counts(session)

    response = await api.post(
        PLEDGE, {"input": _pledge(coalition, resourceKind="FOO")}, token=token
    )

    assert response.status_code == 200
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "Variable '$input' has invalid value at .resourceKind: "
                "Value 'FOO' does not exist in 'ResourceKind' enum.",
                "locations": [{"line": 2, "column": 17}],
            }
        ],
    }
    assert await _counts(session) == before


async def _pledged(session):
    coalition = await make_coalition(session)
    organisation, token = await _partner(session, coalition)
    workstream = await make_workstream(session, coalition)
    commitment = await make_commitment(session, coalition, organisation, title="Original")
    return commitment, workstream, token


@pytest.mark.parametrize(
    ("changes", "refused"),
    [
        ({"amount": "-1"}, [("amount", "NOT_POSITIVE")]),
        ({"title": None}, [("title", "REQUIRED")]),
        ({"countries": ["XX"]}, [("countries.0", "UNKNOWN_CODE")]),
        (
            {"resourceKind": "IN_KIND"},
            [("amount", "NOT_ALLOWED"), ("currency", "NOT_ALLOWED"), ("inKind", "REQUIRED")],
        ),
        ({"workstreamId": "not-an-id"}, [("workstreamId", "BAD_ID")]),
    ],
)
async def test_a_bad_revision_is_refused_and_changes_nothing(api, session, changes, refused):
    commitment, _, token = await _pledged(session)
    before = await _counts(session)

    data = await api(
        WRITES["reviseCommitment"],
        {"input": {"id": gid(commitment), "version": 1, **changes}},
        token=token,
    )

    assert data == _refused("reviseCommitment", *refused)
    assert await _counts(session) == before
    row = await session.get(models.Commitment, commitment.id, populate_existing=True)
    assert (row.title, row.amount, row.version) == ("Original", commitment.amount, 1)


@pytest.mark.parametrize("mutation", ["withdrawCommitment", "cancelCommitment"])
@pytest.mark.parametrize(
    ("reason", "code"), [("", "REQUIRED"), (" ", "REQUIRED"), ("x" * 2001, "TOO_LONG")]
)
async def test_closing_needs_a_reason(api, session, mutation, reason, code):
    commitment, _, partner = await _pledged(session)
    token = (
        partner
        if mutation == "withdrawCommitment"
        else await make_token(session, models.Role.SECRETARIAT_ADMIN)
    )
    before = await _counts(session)

    data = await api(
        WRITES[mutation],
        {"input": {"id": gid(commitment), "version": 1, "reason": reason}},
        token=token,
    )

    assert data == _refused(mutation, ("reason", code))
    assert await _counts(session) == before
    row = await session.get(models.Commitment, commitment.id, populate_existing=True)
    assert (row.stage, row.version) == (models.Stage.PLEDGED, 1)


@pytest.mark.parametrize("mutation", list(WRITES))
async def test_a_commitment_id_of_another_type_is_refused(api, session, mutation):
    _, workstream, token = await _pledged(session)
    inputs = {
        "reviseCommitment": {"title": "New"},
        "advanceCommitment": {"stage": "COMMITTED"},
        "withdrawCommitment": {"reason": "Budget cut"},
        "cancelCommitment": {"reason": "Budget cut"},
    }
    before = await _counts(session)

    data = await api(
        WRITES[mutation],
        {"input": {"id": gid(workstream), "version": 1, **inputs[mutation]}},
        token=token,
    )

    assert data == _refused(mutation, ("id", "BAD_ID"))
    assert await _counts(session) == before
