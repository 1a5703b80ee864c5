"""Visibility plans over GraphQL: set a plan, plan, publish and cancel actions, donor
approval, and who reads `commitment { visibilityPlan }` / `workstream { visibilityPlan }`."""

from backend.models import Role
from tests.factories import (
    gid,
    make_coalition,
    make_commitment,
    make_membership,
    make_organisation,
    make_token,
    make_workstream,
)

SET = """
mutation ($input: SetVisibilityPlanInput!) {
  setVisibilityPlan(input: $input) {
    __typename
    ... on Error { code }
    ... on ValidationFailed { fields { field code } }
    ... on VisibilityPlan { id acknowledgement logoRules donorApprovalRequired }
  }
}
"""
ADD = """
mutation ($input: AddCommunicationActionInput!) {
  addCommunicationAction(input: $input) {
    __typename
    ... on Error { code }
    ... on CommunicationAction { id kind status plannedOn }
  }
}
"""
PUBLISH = """
mutation ($input: PublishCommunicationActionInput!) {
  publishCommunicationAction(input: $input) {
    __typename
    ... on Error { code }
    ... on CommunicationAction { status link publishedOn }
  }
}
"""
CANCEL = """
mutation ($input: CancelCommunicationActionInput!) {
  cancelCommunicationAction(input: $input) {
    __typename
    ... on Error { code }
    ... on CommunicationAction { status }
  }
}
"""
APPROVE = """
mutation ($input: RecordDonorApprovalInput!) {
  recordDonorApproval(input: $input) {
    __typename
    ... on Error { code }
    ... on VisibilityPlan { donorApprovedBy }
  }
}
"""
COMMITMENT_PLAN = """
query ($id: ID!) {
  node(id: $id) {
    ... on Commitment { visibilityPlan { acknowledgement actions { kind status link } } }
  }
}
"""
WORKSTREAM_PLAN = """
query ($id: ID!) {
  node(id: $id) { ... on Workstream { visibilityPlan { acknowledgement } } }
}
"""
ACTION = {"kind": "SOCIAL_POST", "title": "Thank-you post", "plannedOn": "2026-12-10"}


async def _owner(session):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    await make_membership(session, coalition, organisation)
    commitment = await make_commitment(session, coalition, organisation)
    editor = await make_token(session, Role.PARTNER_EDITOR, organisation)
    return coalition, commitment, editor


async def test_the_owner_plans_publishes_and_reads_its_commitments_plan(api, session):
    coalition, commitment, editor = await _owner(session)
    given = {"commitmentId": gid(commitment), "acknowledgement": "With thanks to Acme."}

    plan = (await api(SET, {"input": given}, token=editor))["setVisibilityPlan"]
    assert plan["__typename"] == "VisibilityPlan"
    added = await api(ADD, {"input": {"planId": plan["id"], **ACTION}}, token=editor)
    action = added["addCommunicationAction"]
    assert (action["kind"], action["status"]) == ("SOCIAL_POST", "PLANNED")
    link = "https://example.org/post"
    published = await api(PUBLISH, {"input": {"id": action["id"], "link": link}}, token=editor)
    assert published["publishCommunicationAction"]["status"] == "PUBLISHED"
    again = await api(CANCEL, {"input": {"id": action["id"]}}, token=editor)
    assert again["cancelCommunicationAction"] == {
        "__typename": "Conflict",
        "code": "INVALID_TRANSITION",
    }

    read = await api(COMMITMENT_PLAN, {"id": gid(commitment)}, token=editor)
    assert read["node"]["visibilityPlan"] == {
        "acknowledgement": "With thanks to Acme.",
        "actions": [{"kind": "SOCIAL_POST", "status": "PUBLISHED", "link": link}],
    }
    other = await make_organisation(session)
    await make_membership(session, coalition, other)
    stranger = await make_token(session, Role.PARTNER_EDITOR, other)
    hidden = await api(COMMITMENT_PLAN, {"id": gid(commitment)}, token=stranger)
    assert hidden["node"]["visibilityPlan"] is None
    anonymous = await api(COMMITMENT_PLAN, {"id": gid(commitment)})
    assert anonymous["node"]["visibilityPlan"] is None
    refused = await api(SET, {"input": given}, token=stranger)
    assert refused["setVisibilityPlan"]["__typename"] == "PermissionDenied"


async def test_validation_and_donor_approval(api, session):
    _, commitment, editor = await _owner(session)
    blank = {"commitmentId": gid(commitment), "acknowledgement": " "}
    refused = (await api(SET, {"input": blank}, token=editor))["setVisibilityPlan"]
    assert refused["fields"] == [{"field": "acknowledgement", "code": "REQUIRED"}]
    neither = {"acknowledgement": "Thanks"}
    refused = (await api(SET, {"input": neither}, token=editor))["setVisibilityPlan"]
    assert refused["fields"] == [{"field": "commitmentId", "code": "BAD_RANGE"}]

    given = {
        "commitmentId": gid(commitment),
        "acknowledgement": "Thanks",
        "donorApprovalRequired": True,
    }
    plan = (await api(SET, {"input": given}, token=editor))["setVisibilityPlan"]
    action = (await api(ADD, {"input": {"planId": plan["id"], **ACTION}}, token=editor))[
        "addCommunicationAction"
    ]
    waiting = await api(PUBLISH, {"input": {"id": action["id"]}}, token=editor)
    assert waiting["publishCommunicationAction"]["code"] == "DONOR_APPROVAL_REQUIRED"
    approved = await api(
        APPROVE, {"input": {"planId": plan["id"], "approvedBy": "Jane Doe"}}, token=editor
    )
    assert approved["recordDonorApproval"]["donorApprovedBy"] == "Jane Doe"
    published = await api(PUBLISH, {"input": {"id": action["id"]}}, token=editor)
    assert published["publishCommunicationAction"]["status"] == "PUBLISHED"


async def test_workstream_plans_are_written_and_read_by_the_secretariat_only(api, session):
    coalition, _, editor = await _owner(session)
    workstream = await make_workstream(session, coalition)
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    given = {"workstreamId": gid(workstream), "acknowledgement": "A flagship of the coalition."}

    refused = await api(SET, {"input": given}, token=editor)
    assert refused["setVisibilityPlan"]["__typename"] == "PermissionDenied"
    made = await api(SET, {"input": given}, token=admin)
    assert made["setVisibilityPlan"]["__typename"] == "VisibilityPlan"
    read = await api(WORKSTREAM_PLAN, {"id": gid(workstream)}, token=admin)
    assert read["node"]["visibilityPlan"] == {"acknowledgement": "A flagship of the coalition."}
    hidden = await api(WORKSTREAM_PLAN, {"id": gid(workstream)}, token=editor)
    assert hidden["node"]["visibilityPlan"] is None
