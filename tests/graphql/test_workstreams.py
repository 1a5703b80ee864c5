import sqlalchemy as sa

from backend import models
from backend.graphql.relay import to_global_id
from backend.models import Role
from tests.factories import gid, make_coalition, make_organisation, make_token, make_workstream
from tests.results import DENIED, NOT_FOUND, invalid, table_sizes

RESULT = """
    __typename
    ... on Error { code }
    ... on ValidationFailed { fields { field code } }
"""
WORKSTREAM = (
    "id name kind description targetMetric targetValue targetDate status coalition { slug }"
)
CREATE_WORKSTREAM = f"""
mutation ($input: CreateWorkstreamInput!) {{
  createWorkstream(input: $input) {{ {RESULT} ... on Workstream {{ {WORKSTREAM} }} }}
}}
"""
UPDATE_WORKSTREAM = f"""
mutation ($input: UpdateWorkstreamInput!) {{
  updateWorkstream(input: $input) {{ {RESULT} ... on Workstream {{ {WORKSTREAM} }} }}
}}
"""


async def test_create_workstream_returns_it_with_its_target(api, session):
    coalition = await make_coalition(session, slug="gec")
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    given = {
        "coalitionId": gid(coalition),
        "name": "Teachers",
        "kind": "FLAGSHIP",
        "description": "Support for teachers.",
        "targetMetric": "teachers trained",
        "targetValue": "1000000",
        "targetDate": "2025-12-31",
    }

    data = await api(CREATE_WORKSTREAM, {"input": given}, token=admin)

    workstream = await session.scalar(sa.select(models.Workstream))
    assert data["createWorkstream"] == {
        "__typename": "Workstream",
        "id": gid(workstream),
        "name": "Teachers",
        "kind": "FLAGSHIP",
        "description": "Support for teachers.",
        "targetMetric": "teachers trained",
        "targetValue": "1000000",
        "targetDate": "2025-12-31",
        "status": "ACTIVE",
        "coalition": {"slug": "gec"},
    }


async def test_create_workstream_refusals(api, session):
    coalition = await make_coalition(session)
    await make_workstream(session, coalition, name="Teachers")
    organisation = await make_organisation(session)
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    partner = await make_token(session, Role.PARTNER_ADMIN, organisation)
    unknown = to_global_id("Coalition", 999)
    before = await table_sizes(session)

    def workstream(**fields):
        given = {"coalitionId": gid(coalition), "name": "Gender", "kind": "FLAGSHIP"}
        return {"input": {**given, **fields}}

    duplicate = await api(CREATE_WORKSTREAM, workstream(name="Teachers"), token=admin)
    unfit = await api(CREATE_WORKSTREAM, workstream(name=" ", targetValue="-5"), token=admin)
    missing = await api(CREATE_WORKSTREAM, workstream(coalitionId=unknown), token=admin)
    by_partner = await api(CREATE_WORKSTREAM, workstream(), token=partner)

    assert duplicate["createWorkstream"] == invalid(("name", "DUPLICATE"))
    assert unfit["createWorkstream"] == invalid(
        ("name", "REQUIRED"), ("targetValue", "NOT_POSITIVE")
    )
    assert missing["createWorkstream"] == NOT_FOUND
    assert by_partner["createWorkstream"] == DENIED
    assert await table_sizes(session) == before


async def test_update_workstream_closes_it_and_keeps_the_rest(api, session):
    coalition = await make_coalition(session, slug="gec")
    workstream = await make_workstream(
        session, coalition, name="Connectivity", kind=models.WorkstreamKind.MISSION
    )
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    given = {"id": gid(workstream), "status": "CLOSED", "targetMetric": "schools connected"}

    data = await api(UPDATE_WORKSTREAM, {"input": given}, token=admin)

    assert data["updateWorkstream"] == {
        "__typename": "Workstream",
        "id": gid(workstream),
        "name": "Connectivity",
        "kind": "MISSION",
        "description": None,
        "targetMetric": "schools connected",
        "targetValue": None,
        "targetDate": None,
        "status": "CLOSED",
        "coalition": {"slug": "gec"},
    }


async def test_update_workstream_refusals(api, session):
    coalition = await make_coalition(session)
    workstream = await make_workstream(session, coalition)
    organisation = await make_organisation(session)
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    partner = await make_token(session, Role.PARTNER_ADMIN, organisation)
    unknown = to_global_id("Workstream", 999)
    before = await table_sizes(session)

    too_long = await api(
        UPDATE_WORKSTREAM, {"input": {"id": gid(workstream), "name": "x" * 201}}, token=admin
    )
    emptied = {"id": gid(workstream), "name": None, "kind": None, "status": None}
    cleared = await api(UPDATE_WORKSTREAM, {"input": emptied}, token=admin)
    missing = await api(UPDATE_WORKSTREAM, {"input": {"id": unknown, "name": "X"}}, token=admin)
    by_partner = await api(
        UPDATE_WORKSTREAM, {"input": {"id": gid(workstream), "name": "X"}}, token=partner
    )

    assert too_long["updateWorkstream"] == invalid(("name", "TOO_LONG"))
    assert cleared["updateWorkstream"] == invalid(
        ("name", "REQUIRED"), ("kind", "REQUIRED"), ("status", "REQUIRED")
    )
    assert missing["updateWorkstream"] == NOT_FOUND
    assert by_partner["updateWorkstream"] == DENIED
    assert await table_sizes(session) == before
