import sqlalchemy as sa

from backend import models
from backend.graphql.relay import to_global_id
from backend.models import Role
from tests.factories import (
    gid,
    make_coalition,
    make_membership,
    make_organisation,
    make_token,
    make_workstream,
)
from tests.results import DENIED, NOT_FOUND, invalid, table_sizes

RESULT = """
    __typename
    ... on Error { code }
    ... on ValidationFailed { fields { field code } }
"""
COALITION = """
    id slug name kind status launchedOn description
    sdgGoals { code name }
    hostOrganisation { name }
"""
CREATE = f"""
mutation ($input: CreateCoalitionInput!) {{
  createCoalition(input: $input) {{ {RESULT} ... on Coalition {{ {COALITION} }} }}
}}
"""
UPDATE = f"""
mutation ($input: UpdateCoalitionInput!) {{
  updateCoalition(input: $input) {{ {RESULT} ... on Coalition {{ {COALITION} }} }}
}}
"""


def outcome_of(mutation, input_type):
    """A document asking only which result a mutation gave, and its code."""
    result = "__typename ... on Error { code }"
    return f"mutation ($input: {input_type}!) {{ {mutation}(input: $input) {{ {result} }} }}"


PLEDGE = outcome_of("pledgeCommitment", "PledgeCommitmentInput")
ADMIT = outcome_of("admitMember", "AdmitMemberInput")
PUBLISH = outcome_of("publishActivity", "PublishActivityInput")
CREATE_WORKSTREAM = outcome_of("createWorkstream", "CreateWorkstreamInput")
COALITIONS = """
query ($first: Int!, $after: String, $status: CoalitionStatus) {
  coalitions(first: $first, after: $after, status: $status) {
    totalCount
    edges { node { slug name status } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
EDUCATION = "Goal 4. Ensure inclusive and equitable quality education and promote lifelong "
EDUCATION += "learning opportunities for all"
PARTNERSHIPS = "Goal 17. Strengthen the means of implementation and revitalize the Global "
# The UNSDG code list has a no-break space here, and the hub passes it on unchanged.
PARTNERSHIPS += "Partnership for Sustainable\xa0Development"


def new_coalition(**fields):
    return {"slug": "global-education", "name": "Global Education", "kind": "COALITION", **fields}


async def test_create_coalition_returns_it_with_official_sdg_names(api, session):
    host = await make_organisation(session, name="UNESCO")
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    given = new_coalition(
        name="Global Education Coalition",
        hostOrganisationId=gid(host),
        launchedOn="2020-03-26",
        description="Keeps learning going during school closures.",
        sdgGoals=["4", "17"],
    )

    data = await api(CREATE, {"input": given}, token=admin)

    coalition = await session.scalar(sa.select(models.Coalition))
    assert data["createCoalition"] == {
        "__typename": "Coalition",
        "id": gid(coalition),
        "slug": "global-education",
        "name": "Global Education Coalition",
        "kind": "COALITION",
        "status": "ACTIVE",
        "launchedOn": "2020-03-26",
        "description": "Keeps learning going during school closures.",
        "sdgGoals": [{"code": "4", "name": EDUCATION}, {"code": "17", "name": PARTNERSHIPS}],
        "hostOrganisation": {"name": "UNESCO"},
    }


async def test_create_coalition_names_every_refused_field(api, session):
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    given = new_coalition(slug="Global_Education", name="x" * 201, sdgGoals=["4", "18"])
    before = await table_sizes(session)

    data = await api(CREATE, {"input": given}, token=admin)

    assert data["createCoalition"] == invalid(
        ("slug", "BAD_FORMAT"), ("name", "TOO_LONG"), ("sdgGoals.1", "UNKNOWN_CODE")
    )
    assert await table_sizes(session) == before


async def test_create_coalition_refuses_a_slug_in_use(api, session):
    await make_coalition(session, slug="global-education")
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    before = await table_sizes(session)

    data = await api(CREATE, {"input": new_coalition()}, token=admin)

    assert data["createCoalition"] == invalid(("slug", "DUPLICATE"))
    assert await table_sizes(session) == before


async def test_create_coalition_with_an_unknown_host_is_not_found(api, session):
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    given = new_coalition(hostOrganisationId=to_global_id("Organisation", 999))
    before = await table_sizes(session)

    data = await api(CREATE, {"input": given}, token=admin)

    assert data["createCoalition"] == NOT_FOUND
    assert await table_sizes(session) == before


async def test_only_secretariat_admins_create_coalitions(api, session):
    organisation = await make_organisation(session)
    partner = await make_token(session, Role.PARTNER_ADMIN, organisation)
    analyst = await make_token(session, Role.SECRETARIAT_ANALYST)
    before = await table_sizes(session)

    by_partner = await api(CREATE, {"input": new_coalition()}, token=partner)
    by_analyst = await api(CREATE, {"input": new_coalition()}, token=analyst)

    assert by_partner["createCoalition"] == DENIED
    assert by_analyst["createCoalition"] == DENIED
    assert await table_sizes(session) == before


async def test_anonymous_create_coalition_is_unauthenticated(api, session):
    before = await table_sizes(session)

    response = await api.post(CREATE, {"input": new_coalition()})

    body = response.json()
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]
    assert await table_sizes(session) == before


async def test_update_coalition_changes_only_the_given_fields(api, session):
    coalition = await make_coalition(
        session, slug="gec", name="GEC", sdg_goals=["4"], description="Before."
    )
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    given = {"id": gid(coalition), "name": "Global Education Coalition", "sdgGoals": ["4", "17"]}

    data = await api(UPDATE, {"input": given}, token=admin)

    assert data["updateCoalition"] == {
        "__typename": "Coalition",
        "id": gid(coalition),
        "slug": "gec",
        "name": "Global Education Coalition",
        "kind": "COALITION",
        "status": "ACTIVE",
        "launchedOn": None,
        "description": "Before.",
        "sdgGoals": [{"code": "4", "name": EDUCATION}, {"code": "17", "name": PARTNERSHIPS}],
        "hostOrganisation": None,
    }


async def test_a_closed_coalition_takes_no_pledge_member_activity_or_workstream(api, session):
    coalition = await make_coalition(session)
    member = await make_organisation(session)
    await make_membership(session, coalition, member)
    newcomer = await make_organisation(session)
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    editor = await make_token(session, Role.PARTNER_EDITOR, member)

    closed = await api(UPDATE, {"input": {"id": gid(coalition), "status": "CLOSED"}}, token=admin)
    before = await table_sizes(session)
    pledge = {
        "coalitionId": gid(coalition),
        "title": "Data for learners",
        "resourceKind": "FINANCIAL",
        "amount": "1000",
        "currency": "USD",
    }
    pledged = await api(PLEDGE, {"input": pledge}, token=editor)
    admission = {"coalitionId": gid(coalition), "organisationId": gid(newcomer)}
    admitted = await api(ADMIT, {"input": admission}, token=admin)
    activity = {
        "coalitionId": gid(coalition),
        "kind": "EVENT",
        "title": "Launch",
        "occurredAt": "2026-01-10T09:00:00+00:00",
    }
    published = await api(PUBLISH, {"input": activity}, token=admin)
    workstream = {"coalitionId": gid(coalition), "name": "Teachers", "kind": "FLAGSHIP"}
    created = await api(CREATE_WORKSTREAM, {"input": workstream}, token=admin)

    assert closed["updateCoalition"]["status"] == "CLOSED"
    conflict = {"__typename": "Conflict", "code": "COALITION_CLOSED"}
    assert pledged["pledgeCommitment"] == conflict
    assert admitted["admitMember"] == conflict
    assert published["publishActivity"] == conflict
    assert created["createWorkstream"] == {**conflict}
    assert await table_sizes(session) == before


async def test_update_coalition_refusals(api, session):
    await make_coalition(session, slug="taken")
    coalition = await make_coalition(session, slug="mine")
    organisation = await make_organisation(session)
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    partner = await make_token(session, Role.PARTNER_ADMIN, organisation)
    unknown = to_global_id("Coalition", 999)
    no_host = {"id": gid(coalition), "hostOrganisationId": to_global_id("Organisation", 999)}
    before = await table_sizes(session)

    taken = await api(UPDATE, {"input": {"id": gid(coalition), "slug": "taken"}}, token=admin)
    emptied = {"id": gid(coalition), "slug": None, "kind": None, "status": None}
    cleared = await api(UPDATE, {"input": emptied}, token=admin)
    missing = await api(UPDATE, {"input": {"id": unknown, "name": "X"}}, token=admin)
    wrong_kind = await api(UPDATE, {"input": {"id": gid(organisation), "name": "X"}}, token=admin)
    without_host = await api(UPDATE, {"input": no_host}, token=admin)
    by_partner = await api(UPDATE, {"input": {"id": gid(coalition), "name": "X"}}, token=partner)

    assert taken["updateCoalition"] == invalid(("slug", "DUPLICATE"))
    assert cleared["updateCoalition"] == invalid(
        ("slug", "REQUIRED"), ("kind", "REQUIRED"), ("status", "REQUIRED")
    )
    assert missing["updateCoalition"] == NOT_FOUND
    assert wrong_kind["updateCoalition"] == invalid(("id", "BAD_ID"))
    assert without_host["updateCoalition"] == NOT_FOUND
    assert by_partner["updateCoalition"] == DENIED
    assert await table_sizes(session) == before


async def test_coalitions_are_paged_by_name(api, session):
    for name in ("Gamma", "Alpha", "Beta"):
        await make_coalition(session, slug=name.lower(), name=name)

    first = await api(COALITIONS, {"first": 2})
    rest = await api(
        COALITIONS, {"first": 2, "after": first["coalitions"]["pageInfo"]["endCursor"]}
    )

    assert first["coalitions"]["totalCount"] == 3
    assert [edge["node"]["name"] for edge in first["coalitions"]["edges"]] == ["Alpha", "Beta"]
    assert first["coalitions"]["pageInfo"]["hasNextPage"] is True
    assert rest["coalitions"] == {
        "totalCount": 3,
        "edges": [{"node": {"slug": "gamma", "name": "Gamma", "status": "ACTIVE"}}],
        "pageInfo": {
            "hasNextPage": False,
            "endCursor": rest["coalitions"]["pageInfo"]["endCursor"],
        },
    }


async def test_coalitions_filter_by_status(api, session):
    await make_coalition(session, slug="open", name="Open")
    await make_coalition(session, slug="over", name="Over", status=models.CoalitionStatus.CLOSED)

    data = await api(COALITIONS, {"first": 10, "status": "CLOSED"})

    assert data["coalitions"]["totalCount"] == 1
    assert data["coalitions"]["edges"] == [
        {"node": {"slug": "over", "name": "Over", "status": "CLOSED"}}
    ]


async def test_coalition_by_slug(api, session):
    coalition = await make_coalition(session, slug="gec", name="GEC")
    await make_workstream(session, coalition, name="Teachers")
    query = "query ($slug: String!) { coalition(slug: $slug) { name workstreams { name } } }"

    found = await api(query, {"slug": "gec"})
    unknown = await api(query, {"slug": "nowhere"})

    assert found == {"coalition": {"name": "GEC", "workstreams": [{"name": "Teachers"}]}}
    assert unknown == {"coalition": None}


async def test_node_fetches_coalitions_and_workstreams(api, session):
    coalition = await make_coalition(session, name="GEC")
    workstream = await make_workstream(session, coalition, name="Teachers")
    query = """
    query ($id: ID!) {
      node(id: $id) {
        __typename id
        ... on Coalition { name }
        ... on Workstream { name coalition { name } }
      }
    }
    """

    as_coalition = await api(query, {"id": gid(coalition)})
    as_workstream = await api(query, {"id": gid(workstream)})
    unknown = await api(query, {"id": to_global_id("Coalition", 999)})

    assert as_coalition == {
        "node": {"__typename": "Coalition", "id": gid(coalition), "name": "GEC"}
    }
    assert as_workstream == {
        "node": {
            "__typename": "Workstream",
            "id": gid(workstream),
            "name": "Teachers",
            "coalition": {"name": "GEC"},
        }
    }
    assert unknown == {"node": None}


THRESHOLD = "__typename ... on Coalition { visibilityPlanThresholdUsd } " + RESULT
CREATE_WITH_THRESHOLD = f"""
mutation ($input: CreateCoalitionInput!) {{ createCoalition(input: $input) {{ {THRESHOLD} }} }}
"""
UPDATE_THRESHOLD = f"""
mutation ($input: UpdateCoalitionInput!) {{ updateCoalition(input: $input) {{ {THRESHOLD} }} }}
"""


async def test_the_visibility_plan_threshold_is_set_refused_below_zero_and_reset(api, session):
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    given = new_coalition(visibilityPlanThresholdUsd="250000")

    created = (await api(CREATE_WITH_THRESHOLD, {"input": given}, token=admin))["createCoalition"]
    coalition = await session.scalar(sa.select(models.Coalition))
    changes = [
        {"visibilityPlanThresholdUsd": "-0.01"},
        {"visibilityPlanThresholdUsd": "0"},
        {"visibilityPlanThresholdUsd": None},
    ]
    updated = [
        (await api(UPDATE_THRESHOLD, {"input": {"id": gid(coalition), **change}}, token=admin))[
            "updateCoalition"
        ]
        for change in changes
    ]

    assert created == {"__typename": "Coalition", "visibilityPlanThresholdUsd": "250000.00"}
    assert updated == [
        invalid(("visibilityPlanThresholdUsd", "BAD_RANGE")),
        {"__typename": "Coalition", "visibilityPlanThresholdUsd": "0.00"},
        {"__typename": "Coalition", "visibilityPlanThresholdUsd": "100000.00"},
    ]
