import datetime as dt

import sqlalchemy as sa

from backend import models
from backend.graphql.relay import to_global_id
from backend.models import ActivityKind, Role
from tests.factories import (
    gid,
    make_activity,
    make_coalition,
    make_membership,
    make_organisation,
    make_token,
    make_workstream,
)
from tests.results import DENIED, NOT_FOUND, invalid, recorded_events, table_sizes

PUBLISH = """
mutation ($input: PublishActivityInput!) {
  publishActivity(input: $input) {
    __typename
    ... on Error { code }
    ... on ValidationFailed { fields { field code } }
    ... on Activity {
      id kind title summary occurredAt countries links visibility embargoUntil publishedBy
      coalition { slug } workstream { name } organisation { name } organisations { name }
    }
  }
}
"""
ACTIVITIES = """
query ($filter: ActivityFilter, $first: Int! = 20, $after: String) {
  activities(filter: $filter, first: $first, after: $after) {
    totalCount
    edges { node { title } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def published_events(session):
    return await recorded_events(session, "activity.published")


def titles(data):
    return [edge["node"]["title"] for edge in data["activities"]["edges"]]


def at(day, hour=10):
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


async def test_partner_publishes_for_its_own_organisation(api, session):
    coalition = await make_coalition(session, slug="gec")
    workstream = await make_workstream(session, coalition, name="Connectivity")
    organisation = await make_organisation(session, name="Airtel", acronym="AT")
    involved = await make_organisation(session, name="Ministry of Education")
    await make_membership(session, coalition, organisation)
    editor = await make_token(session, Role.PARTNER_EDITOR, organisation, name="Ann at Airtel")
    given = {
        "coalitionId": gid(coalition),
        "kind": "LAUNCH",
        "title": "Free data for learners",
        "occurredAt": "2026-03-01T10:00:00+00:00",
        "workstreamId": gid(workstream),
        "organisationIds": [gid(involved)],
        "summary": "Zero-rated learning sites.",
        "countries": ["KE", "UG"],
        "links": ["https://example.org/launch"],
    }

    data = await api(PUBLISH, {"input": given}, token=editor)

    activity = await session.scalar(sa.select(models.Activity))
    assert data["publishActivity"] == {
        "__typename": "Activity",
        "id": gid(activity),
        "kind": "LAUNCH",
        "title": "Free data for learners",
        "summary": "Zero-rated learning sites.",
        "occurredAt": "2026-03-01T10:00:00+00:00",
        "countries": ["KE", "UG"],
        "links": ["https://example.org/launch"],
        "visibility": "PUBLIC",
        "embargoUntil": None,
        "publishedBy": "Ann at Airtel",
        "coalition": {"slug": "gec"},
        "workstream": {"name": "Connectivity"},
        "organisation": {"name": "Airtel"},
        "organisations": [{"name": "Ministry of Education"}],
    }
    assert await published_events(session) == [
        (
            "activity.published",
            "Activity",
            activity.id,
            coalition.id,
            organisation.id,
            models.Visibility.PUBLIC,
            {
                "id": activity.id,
                "kind": "LAUNCH",
                "title": "Free data for learners",
                "occurred_at": "2026-03-01T10:00:00Z",
                "organisation": {"id": organisation.id, "name": "Airtel", "acronym": "AT"},
                "workstream": "Connectivity",
                "countries": ["KE", "UG"],
            },
        )
    ]


async def test_secretariat_publishes_without_an_organisation(api, session):
    coalition = await make_coalition(session)
    admin = await make_token(session, Role.SECRETARIAT_ADMIN, name="Secretariat")
    given = {
        "coalitionId": gid(coalition),
        "kind": "DEBATE",
        "title": "ResiliArt debate",
        "occurredAt": "2026-03-02T15:30:00+00:00",
        "visibility": "MEMBERS",
    }

    data = await api(PUBLISH, {"input": given}, token=admin)

    activity = await session.scalar(sa.select(models.Activity))
    result = data["publishActivity"]
    assert (result["organisation"], result["publishedBy"], result["visibility"]) == (
        None,
        "Secretariat",
        "MEMBERS",
    )
    assert await published_events(session) == [
        (
            "activity.published",
            "Activity",
            activity.id,
            coalition.id,
            None,
            models.Visibility.MEMBERS,
            {
                "id": activity.id,
                "kind": "DEBATE",
                "title": "ResiliArt debate",
                "occurred_at": "2026-03-02T15:30:00Z",
                "organisation": None,
                "workstream": None,
                "countries": [],
            },
        )
    ]


async def test_publish_activity_names_every_refused_field(api, session):
    coalition = await make_coalition(session)
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    given = {
        "coalitionId": gid(coalition),
        "kind": "REPORT",
        "title": "x" * 201,
        "occurredAt": "2026-03-02T15:30:00+00:00",
        "countries": ["KE", "XX"],
        "links": ["ftp://files.example.org/report.pdf"],
        "organisationIds": [to_global_id("Organisation", 999)],
    }
    before = await table_sizes(session)

    data = await api(PUBLISH, {"input": given}, token=admin)

    assert data["publishActivity"] == invalid(
        ("title", "TOO_LONG"),
        ("countries.1", "UNKNOWN_CODE"),
        ("links.0", "BAD_FORMAT"),
        ("organisationIds.0", "BAD_RANGE"),
    )
    assert await table_sizes(session) == before


async def test_publish_activity_refusals(api, session):
    coalition = await make_coalition(session)
    elsewhere = await make_workstream(session, await make_coalition(session))
    member = await make_organisation(session)
    outsider = await make_organisation(session)
    await make_membership(session, coalition, member)
    member_editor = await make_token(session, Role.PARTNER_EDITOR, member)
    member_viewer = await make_token(session, Role.PARTNER_VIEWER, member)
    outsider_editor = await make_token(session, Role.PARTNER_EDITOR, outsider)
    analyst = await make_token(session, Role.SECRETARIAT_ANALYST)
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    before = await table_sizes(session)

    def activity(**fields):
        given = {
            "coalitionId": gid(coalition),
            "kind": "EVENT",
            "title": "Webinar",
            "occurredAt": "2026-03-02T15:30:00+00:00",
        }
        return {"input": {**given, **fields}}

    for_another = await api(PUBLISH, activity(organisationId=gid(outsider)), token=member_editor)
    by_viewer = await api(PUBLISH, activity(), token=member_viewer)
    by_outsider = await api(PUBLISH, activity(), token=outsider_editor)
    by_analyst = await api(PUBLISH, activity(), token=analyst)
    no_coalition = await api(
        PUBLISH, activity(coalitionId=to_global_id("Coalition", 999)), token=admin
    )
    foreign_workstream = await api(PUBLISH, activity(workstreamId=gid(elsewhere)), token=admin)

    assert for_another["publishActivity"] == DENIED
    assert by_viewer["publishActivity"] == DENIED
    assert by_outsider["publishActivity"] == DENIED
    assert by_analyst["publishActivity"] == DENIED
    assert no_coalition["publishActivity"] == NOT_FOUND
    assert foreign_workstream["publishActivity"] == NOT_FOUND
    assert await table_sizes(session) == before


async def test_times_need_a_utc_offset_and_are_read_back_in_utc(api, session):
    coalition = await make_coalition(session)
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    given = {"coalitionId": gid(coalition), "kind": "EVENT", "title": "Webinar"}
    before = await table_sizes(session)

    naive = await api.post(
        PUBLISH, {"input": {**given, "occurredAt": "2026-03-01T11:00:00"}}, token=admin
    )
    unwritten = await table_sizes(session)
    naive_filter = await api.post(ACTIVITIES, {"filter": {"occurredFrom": "2026-03-01T00:00:00"}})
    await api(PUBLISH, {"input": {**given, "occurredAt": "2026-03-01T11:00:00+01:00"}}, token=admin)
    read = await api("{ activities { edges { node { occurredAt } } } }")

    assert [naive.status_code, naive_filter.status_code] == [200, 200]
    assert naive.json()["data"] is None
    assert "needs a UTC offset" in naive.json()["errors"][0]["message"]
    assert naive_filter.json()["data"] is None
    assert "needs a UTC offset" in naive_filter.json()["errors"][0]["message"]
    assert unwritten == before
    assert read == {
        "activities": {"edges": [{"node": {"occurredAt": "2026-03-01T10:00:00+00:00"}}]}
    }


async def test_activities_are_latest_first_and_paged(api, session):
    coalition = await make_coalition(session)
    for day, title in ((1, "Oldest"), (3, "Latest"), (2, "Middle")):
        await make_activity(session, coalition, title=title, occurred_at=at(day))

    first = await api(ACTIVITIES, {"first": 2})
    rest = await api(
        ACTIVITIES, {"first": 2, "after": first["activities"]["pageInfo"]["endCursor"]}
    )

    assert titles(first) == ["Latest", "Middle"]
    assert first["activities"]["pageInfo"]["hasNextPage"] is True
    assert first["activities"]["totalCount"] == 3
    assert titles(rest) == ["Oldest"]
    assert rest["activities"]["pageInfo"]["hasNextPage"] is False


async def test_activities_filters(api, session):
    coalition = await make_coalition(session)
    other_coalition = await make_coalition(session)
    airtel = await make_organisation(session)
    ministry = await make_organisation(session)
    await make_activity(
        session,
        coalition,
        title="Launch by Airtel",
        kind=ActivityKind.LAUNCH,
        organisation_id=airtel.id,
        countries=["KE"],
        occurred_at=at(1),
    )
    await make_activity(
        session,
        coalition,
        title="Training with Airtel",
        kind=ActivityKind.TRAINING,
        organisation_ids=[ministry.id, airtel.id],
        countries=["UG", "KE"],
        occurred_at=at(2),
    )
    await make_activity(
        session, coalition, title="Secretariat news", kind=ActivityKind.NEWS, occurred_at=at(3)
    )
    await make_activity(
        session, other_coalition, title="Elsewhere", kind=ActivityKind.LAUNCH, occurred_at=at(4)
    )

    async def matching(**filter):
        data = await api(ACTIVITIES, {"filter": filter})
        assert data["activities"]["totalCount"] == len(data["activities"]["edges"])
        return titles(data)

    assert await matching(coalitionId=gid(other_coalition)) == ["Elsewhere"]
    assert await matching(coalitionId=gid(coalition), kinds=["LAUNCH", "NEWS"]) == [
        "Secretariat news",
        "Launch by Airtel",
    ]
    assert await matching(country="KE") == ["Training with Airtel", "Launch by Airtel"]
    assert await matching(organisationId=gid(airtel)) == [
        "Training with Airtel",
        "Launch by Airtel",
    ]
    assert await matching(organisationId=gid(ministry)) == ["Training with Airtel"]
    occurred = {"occurredFrom": at(2).isoformat(), "occurredUntil": at(4).isoformat()}
    assert await matching(**occurred) == ["Secretariat news", "Training with Airtel"]


async def test_node_shows_a_members_only_activity_to_members(api, session):
    coalition = await make_coalition(session)
    member = await make_organisation(session)
    outsider = await make_organisation(session)
    await make_membership(session, coalition, member)
    activity = await make_activity(
        session, coalition, title="Members' call", visibility=models.Visibility.MEMBERS
    )
    member_viewer = await make_token(session, Role.PARTNER_VIEWER, member)
    outsider_viewer = await make_token(session, Role.PARTNER_VIEWER, outsider)
    query = "query ($id: ID!) { node(id: $id) { __typename id ... on Activity { title } } }"
    variables = {"id": gid(activity)}

    to_member = await api(query, variables, token=member_viewer)
    to_outsider = await api(query, variables, token=outsider_viewer)
    to_anonymous = await api(query, variables)

    assert to_member == {
        "node": {"__typename": "Activity", "id": gid(activity), "title": "Members' call"}
    }
    assert to_outsider == {"node": None}
    assert to_anonymous == {"node": None}
