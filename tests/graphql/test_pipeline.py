"""The pipeline over GraphQL: the secretariat opens, moves, clears and converts an
opportunity and reads the pipeline; partners (the prospect included) read nothing of it,
neither the list nor `node(id:)`; refusals name the field or the rule."""

import datetime as dt

from backend import models
from backend.models import Role
from tests.factories import (
    gid,
    make_coalition,
    make_membership,
    make_opportunity,
    make_organisation,
    make_token,
)

RESULT = """
    __typename
    ... on Error { code }
    ... on ValidationFailed { fields { field code } }
    ... on EngagementOpportunity {
      id title stage probability estimatedValue currency motivations
      dueDiligence { decision riskRating validUntil decidedBy }
      prospectOrganisation { name }
      convertedMembership { status }
      convertedCommitment { title amount }
    }
"""


def _mutation(name: str, input_type: str) -> str:
    return f"mutation ($input: {input_type}!) {{ result: {name}(input: $input) {{ {RESULT} }} }}"


OPEN = _mutation("openOpportunity", "OpenOpportunityInput")
UPDATE = _mutation("updateOpportunity", "UpdateOpportunityInput")
MOVE = _mutation("moveOpportunityStage", "MoveOpportunityStageInput")
CLEAR = _mutation("recordDueDiligence", "RecordDueDiligenceInput")
TO_MEMBERSHIP = _mutation("convertOpportunityToMembership", "ConvertOpportunityToMembershipInput")
TO_COMMITMENT = _mutation("convertOpportunityToCommitment", "ConvertOpportunityToCommitmentInput")
LIST = """
query ($coalitionId: ID!, $stage: OpportunityStage) {
  opportunities(coalitionId: $coalitionId, stage: $stage) {
    totalCount
    edges { node { title stage } }
  }
}
"""
NODE = "query ($id: ID!) { node(id: $id) { __typename ... on EngagementOpportunity { title } } }"
PLEDGE = {"title": "Connectivity fund", "resourceKind": "FINANCIAL", "amount": "50000",
          "currency": "USD"}  # fmt: skip


async def _world(session):
    coalition = await make_coalition(session)
    prospect = await make_organisation(session, name="Telco")
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    return coalition, prospect, admin


async def test_the_secretariat_takes_an_opportunity_from_identified_to_a_commitment(api, session):
    coalition, prospect, admin = await _world(session)
    given = {
        "coalitionId": gid(coalition),
        "prospectOrganisationId": gid(prospect),
        "title": "Data bundles for learners",
        "donorKind": "CORPORATE",
        "motivations": ["BRAND_CSR", "MARKET_ENTRY"],
        "estimatedValue": "250000",
        "currency": "EUR",
        "probability": 30,
    }

    opened = (await api(OPEN, {"input": given}, token=admin))["result"]
    id = opened["id"]
    for stage in ("RESEARCH", "DUE_DILIGENCE"):
        moved = (await api(MOVE, {"input": {"id": id, "stage": stage}}, token=admin))["result"]
        assert moved["stage"] == stage
    valid_until = (models.utcnow().date() + dt.timedelta(days=180)).isoformat()
    cleared = await api(
        CLEAR,
        {"input": {"id": id, "decision": "CLEARED", "riskRating": "LOW",
                   "validUntil": valid_until, "decidedBy": "Due-diligence panel"}},
        token=admin,
    )  # fmt: skip
    for stage in ("CULTIVATION", "PROPOSAL", "NEGOTIATION", "AGREED"):
        await api(MOVE, {"input": {"id": id, "stage": stage}}, token=admin)
    converted = await api(TO_COMMITMENT, {"input": {"id": id, **PLEDGE}}, token=admin)

    assert opened == {
        "__typename": "EngagementOpportunity",
        "id": id,
        "title": "Data bundles for learners",
        "stage": "IDENTIFIED",
        "probability": 30,
        "estimatedValue": "250000.00",
        "currency": "EUR",
        "motivations": ["BRAND_CSR", "MARKET_ENTRY"],
        "dueDiligence": {
            "decision": "PENDING", "riskRating": None, "validUntil": None, "decidedBy": None
        },
        "prospectOrganisation": {"name": "Telco"},
        "convertedMembership": None,
        "convertedCommitment": None,
    }  # fmt: skip
    assert cleared["result"]["dueDiligence"] == {
        "decision": "CLEARED", "riskRating": "LOW", "validUntil": valid_until,
        "decidedBy": "Due-diligence panel",
    }  # fmt: skip
    assert converted["result"]["stage"] == "AGREED"
    assert converted["result"]["convertedCommitment"] == {
        "title": "Connectivity fund",
        "amount": "50000.00",
    }


async def test_refusals_name_the_field_or_the_rule(api, session):
    coalition, prospect, admin = await _world(session)
    opportunity = await make_opportunity(session, coalition, prospect)
    agreed = await make_opportunity(
        session, coalition, prospect, stage=models.OpportunityStage.AGREED
    )

    invalid = await api(
        UPDATE,
        {"input": {"id": gid(opportunity), "title": "", "probability": 150, "currency": "EURO"}},
        token=admin,
    )
    skipping = await api(MOVE, {"input": {"id": gid(opportunity), "stage": "AGREED"}}, token=admin)
    conditional = await api(
        CLEAR,
        {"input": {"id": gid(opportunity), "decision": "CLEARED_WITH_CONDITIONS"}},
        token=admin,
    )
    not_agreed = await api(TO_MEMBERSHIP, {"input": {"id": gid(opportunity)}}, token=admin)
    not_cleared = await api(TO_MEMBERSHIP, {"input": {"id": gid(agreed)}}, token=admin)
    wrong_id = await api(MOVE, {"input": {"id": gid(coalition), "stage": "RESEARCH"}}, token=admin)

    assert invalid["result"] == {
        "__typename": "ValidationFailed",
        "code": "INVALID_INPUT",
        "fields": [
            {"field": "title", "code": "REQUIRED"},
            {"field": "currency", "code": "UNKNOWN_CODE"},
            {"field": "probability", "code": "BAD_RANGE"},
        ],
    }
    assert skipping["result"] == {"__typename": "Conflict", "code": "INVALID_TRANSITION"}
    assert conditional["result"]["fields"] == [
        {"field": "conditions", "code": "REQUIRED"},
        {"field": "riskRating", "code": "REQUIRED"},
        {"field": "validUntil", "code": "REQUIRED"},
    ]
    assert not_agreed["result"] == {"__typename": "Conflict", "code": "NOT_AGREED"}
    assert not_cleared["result"] == {
        "__typename": "Conflict",
        "code": "DUE_DILIGENCE_NOT_CLEARED",
    }
    assert wrong_id["result"] == {
        "__typename": "ValidationFailed",
        "code": "INVALID_INPUT",
        "fields": [{"field": "id", "code": "BAD_ID"}],
    }


async def test_an_agreed_cleared_prospect_becomes_a_member_once(api, session):
    coalition, prospect, admin = await _world(session)
    today = models.utcnow().date()
    opportunity = await make_opportunity(
        session, coalition, prospect, stage=models.OpportunityStage.AGREED, cleared_until=today
    )

    converted = await api(TO_MEMBERSHIP, {"input": {"id": gid(opportunity)}}, token=admin)
    again = await api(TO_MEMBERSHIP, {"input": {"id": gid(opportunity)}}, token=admin)

    assert converted["result"]["convertedMembership"] == {"status": "ACTIVE"}
    assert again["result"] == {"__typename": "Conflict", "code": "ALREADY_CONVERTED"}


async def test_partners_read_no_opportunity_and_the_secretariat_reads_them_all(api, session):
    coalition, prospect, admin = await _world(session)
    await make_membership(session, coalition, prospect)
    member = await make_organisation(session)
    await make_membership(session, coalition, member)
    opportunity = await make_opportunity(session, coalition, prospect, title="Upgrade")
    await make_opportunity(
        session, coalition, prospect, title="Lapsed", stage=models.OpportunityStage.DECLINED
    )
    analyst = await make_token(session, Role.SECRETARIAT_ANALYST)
    partners = {
        "prospect's admin": await make_token(session, Role.PARTNER_ADMIN, prospect),
        "member's editor": await make_token(session, Role.PARTNER_EDITOR, member),
        "anonymous": None,
    }
    variables = {"coalitionId": gid(coalition)}

    listed = {
        name: (await api.post(LIST, variables, token=token)).json()
        for name, token in partners.items()
    }
    nodes = {
        name: await api(NODE, {"id": gid(opportunity)}, token=token)
        for name, token in partners.items()
    }
    seen = await api(LIST, variables, token=analyst)
    declined = await api(LIST, {**variables, "stage": "DECLINED"}, token=admin)
    node = await api(NODE, {"id": gid(opportunity)}, token=analyst)

    codes = {
        name: [error["extensions"]["code"] for error in body["errors"]]
        for name, body in listed.items()
    }
    assert codes == {
        "prospect's admin": ["PERMISSION_DENIED"],
        "member's editor": ["PERMISSION_DENIED"],
        "anonymous": ["UNAUTHENTICATED"],
    }
    assert all(body["data"] is None for body in listed.values())
    assert nodes == {name: {"node": None} for name in partners}
    assert seen["opportunities"] == {
        "totalCount": 2,
        "edges": [
            {"node": {"title": "Lapsed", "stage": "DECLINED"}},
            {"node": {"title": "Upgrade", "stage": "IDENTIFIED"}},
        ],
    }
    assert declined["opportunities"]["edges"] == [
        {"node": {"title": "Lapsed", "stage": "DECLINED"}}
    ]
    assert node["node"] == {"__typename": "EngagementOpportunity", "title": "Upgrade"}


async def test_a_partner_admin_is_refused_every_pipeline_write(api, session):
    coalition, prospect, _ = await _world(session)
    await make_membership(session, coalition, prospect)
    opportunity = await make_opportunity(session, coalition, prospect)
    partner = await make_token(session, Role.PARTNER_ADMIN, prospect)
    id = gid(opportunity)

    attempts = {
        "open": (OPEN, {"coalitionId": gid(coalition), "prospectOrganisationId": gid(prospect),
                        "title": "Ours", "donorKind": "CORPORATE"}),
        "update": (UPDATE, {"id": id, "probability": 100}),
        "move": (MOVE, {"id": id, "stage": "RESEARCH"}),
        "due diligence": (CLEAR, {"id": id, "decision": "PENDING"}),
        "to membership": (TO_MEMBERSHIP, {"id": id}),
        "to commitment": (TO_COMMITMENT, {"id": id, **PLEDGE}),
    }  # fmt: skip
    outcomes = {
        name: (await api(document, {"input": input}, token=partner))["result"]
        for name, (document, input) in attempts.items()
    }

    refused = {"__typename": "PermissionDenied", "code": "PERMISSION_DENIED"}
    assert outcomes == {name: refused for name in attempts}
