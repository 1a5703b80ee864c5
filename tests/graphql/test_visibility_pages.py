"""Filters and keyset pages over commitments narrow what the reader may see — never widen it.

Split from test_visibility.py: same rules, seen through `commitments(filter:, first:, after:)`.
"""

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from tests.factories import (
    gid,
    in_kind_line,
    make_coalition,
    make_commitment,
    make_membership,
    make_organisation,
    make_token,
    make_workstream,
)

LIST = """
query List($filter: CommitmentFilter, $first: Int!, $after: String, $order: CommitmentOrder!) {
  commitments(filter: $filter, first: $first, after: $after, orderBy: $order) {
    totalCount edges { node { id title } } pageInfo { hasNextPage endCursor }
  }
}
"""


async def given_a_catalogue(session: AsyncSession) -> dict[str, Any]:
    """Five commitments, oldest first; the last two are hidden from anonymous readers."""
    coalition = await make_coalition(session, slug="catalogue")
    elsewhere = await make_coalition(session)
    workstream = await make_workstream(session, coalition)
    company = await make_organisation(session, name="Company", organisation_type="70")
    ngo = await make_organisation(session, name="NGO", organisation_type="21")
    member = await make_organisation(session, name="Member")
    for organisation in (company, member):
        await make_membership(session, coalition, organisation)
    await make_membership(session, elsewhere, ngo)
    connectivity = {
        "workstream_id": workstream.id,
        "resource_kind": models.ResourceKind.IN_KIND,
        "amount": None,
        "currency": None,
        "in_kind": [in_kind_line()],
        "countries": ["KE"],
        "sdg_targets": ["4.1"],
    }
    made = [
        await make_commitment(session, coalition, company, title="Connectivity", **connectivity),
        await make_commitment(
            session,
            coalition,
            company,
            title="Cash",
            stage=models.Stage.COMMITTED,
            countries=["BR"],
            sdg_targets=["4.c"],
        ),
        await make_commitment(
            session,
            elsewhere,
            ngo,
            title="Devices",
            resource_kind=models.ResourceKind.MIXED,
            in_kind=[in_kind_line(category=models.InKindCategory.DEVICES, unit="device")],
            countries=["KE", "UG"],
            sdg_targets=["4.1", "4.4"],
        ),
        await make_commitment(
            session,
            coalition,
            company,
            title="Members only",
            visibility=models.Visibility.MEMBERS,
            **connectivity,
        ),
        await make_commitment(
            session,
            elsewhere,
            ngo,
            title="Embargoed",
            stage=models.Stage.COMMITTED,
            countries=["KE"],
            sdg_targets=["4.1"],
            embargo_until=models.utcnow() + dt.timedelta(days=30),
        ),
    ]
    return {
        "@coalition": gid(coalition),
        "@workstream": gid(workstream),
        "@company": gid(company),
        "made": made,
        "member": await make_token(session, models.Role.PARTNER_VIEWER, member),
    }


def resolved(filter: dict[str, Any], catalogue: dict[str, Any]) -> dict[str, Any]:
    """`filter` with `@name` placeholders replaced by the catalogue's global ids."""
    return {
        name: catalogue[value] if isinstance(value, str) and value.startswith("@") else value
        for name, value in filter.items()
    }


def titles(data: dict[str, Any]) -> tuple[list[str], int]:
    page = data["commitments"]
    return [edge["node"]["title"] for edge in page["edges"]], page["totalCount"]


ALL = ["Devices", "Cash", "Connectivity"]
OWN = ["Cash", "Connectivity"]
KENYA = ["Devices", "Connectivity"]
CONNECTIVITY = ["Connectivity"]
MEMBERS = "Members only"


# filter, what anonymous readers see, what a member of the coalition sees (also "Members
# only"); nobody here sees "Embargoed".
FILTERS = [
    ({}, ALL, [MEMBERS, *ALL]),
    ({"coalitionId": "@coalition"}, OWN, [MEMBERS, *OWN]),
    ({"workstreamId": "@workstream"}, CONNECTIVITY, [MEMBERS, *CONNECTIVITY]),
    ({"organisationId": "@company"}, OWN, [MEMBERS, *OWN]),
    ({"organisationType": "21"}, ["Devices"], ["Devices"]),
    ({"stages": ["COMMITTED"]}, ["Cash"], ["Cash"]),
    ({"stages": ["PLEDGED", "COMMITTED"]}, ALL, [MEMBERS, *ALL]),
    ({"resourceKind": "IN_KIND"}, CONNECTIVITY, [MEMBERS, *CONNECTIVITY]),
    ({"country": "KE"}, KENYA, [MEMBERS, *KENYA]),
    ({"sdgTarget": "4.1"}, KENYA, [MEMBERS, *KENYA]),
    ({"sdgTarget": "4.7"}, [], []),
    ({"coalitionId": "@coalition", "country": "KE"}, CONNECTIVITY, [MEMBERS, *CONNECTIVITY]),
]


async def test_commitment_filters_narrow_the_visible_rows(api, session):
    catalogue = await given_a_catalogue(session)

    seen = []
    for filter, _, _ in FILTERS:
        variables = {"filter": resolved(filter, catalogue), "first": 100, "order": "NEWEST_FIRST"}
        anonymous = await api(LIST, variables)
        member = await api(LIST, variables, token=catalogue["member"])
        seen.append((filter, titles(anonymous), titles(member)))

    assert seen == [
        (filter, (for_anonymous, len(for_anonymous)), (for_member, len(for_member)))
        for filter, for_anonymous, for_member in FILTERS
    ]


async def test_created_range_includes_its_start_and_excludes_its_end(api, session):
    catalogue = await given_a_catalogue(session)
    _, cash, _, members_only, _ = catalogue["made"]
    window = {
        "createdFrom": cash.created_at.isoformat(),
        "createdUntil": members_only.created_at.isoformat(),
    }
    variables = {"filter": window, "first": 100, "order": "NEWEST_FIRST"}

    anonymous = await api(LIST, variables)
    member = await api(LIST, variables, token=catalogue["member"])

    assert titles(anonymous) == titles(member) == (["Devices", "Cash"], 2)


NESTED_LIST = """
query Nested($slug: String!, $first: Int!, $after: String) {
  coalition(slug: $slug) {
    commitments(first: $first, after: $after) {
      totalCount edges { node { id } } pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def all_pages(api: Any, document: str, variables: dict[str, Any]) -> list[Any]:
    """Every page of the (top-level or coalition's) commitments, following `endCursor`."""
    pages = []
    after = None
    while True:
        data = await api(document, {**variables, "after": after})
        page = data["commitments"] if "commitments" in data else data["coalition"]["commitments"]
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]


# Repeated titles make the TITLE order fall back on the id to keep its place.
PAGED_TITLES = ["Beta", "Alpha", "Beta", "Hidden", "Gamma", "Beta", "Alpha", "Embargoed", "Delta"]


@pytest.mark.parametrize(
    ("document", "order"),
    [
        (LIST, "NEWEST_FIRST"),
        (LIST, "OLDEST_FIRST"),
        (LIST, "TITLE"),
        (NESTED_LIST, "NEWEST_FIRST"),
    ],
    ids=["newest first", "oldest first", "by title", "coalition's, newest first"],
)
async def test_keyset_pages_return_each_visible_row_exactly_once(api, session, document, order):
    coalition = await make_coalition(session, slug="paged")
    organisation = await make_organisation(session)
    await make_membership(session, coalition, organisation)
    hidden = {
        "Hidden": {"visibility": models.Visibility.MEMBERS},
        "Embargoed": {"embargo_until": models.utcnow() + dt.timedelta(days=1)},
    }
    made = [
        await make_commitment(
            session, coalition, organisation, title=title, **hidden.get(title, {})
        )
        for title in PAGED_TITLES
    ]
    visible = [commitment for commitment in made if commitment.title not in hidden]
    expected = {
        "NEWEST_FIRST": list(reversed(visible)),
        "OLDEST_FIRST": visible,
        "TITLE": sorted(visible, key=lambda commitment: (commitment.title, commitment.id)),
    }[order]

    pages = await all_pages(api, document, {"first": 2, "order": order, "slug": "paged"})

    assert [[edge["node"]["id"] for edge in page["edges"]] for page in pages] == [
        [gid(commitment) for commitment in expected[start : start + 2]]
        for start in range(0, len(expected), 2)
    ]
    assert [page["totalCount"] for page in pages] == [len(visible)] * 4


def refusal(response: Any) -> dict[str, Any]:
    [error] = response.json()["errors"]
    extensions: dict[str, Any] = error["extensions"]
    return extensions


BAD_FIRST = {"code": "INVALID_INPUT", "fields": [{"field": "first", "code": "BAD_RANGE"}]}
BAD_CURSOR = {"code": "INVALID_INPUT", "fields": [{"field": "after", "code": "BAD_FORMAT"}]}


async def test_a_page_of_at_most_100_is_served(api, session):
    catalogue = await given_a_catalogue(session)

    data = await api(LIST, {"first": 100, "order": "NEWEST_FIRST"}, token=catalogue["member"])

    assert titles(data) == (["Members only", "Devices", "Cash", "Connectivity"], 4)


@pytest.mark.parametrize("first", [101, -1])
async def test_first_outside_0_to_100_is_refused_with_bad_range(api, session, first):
    await make_coalition(session, slug="paged")

    top_level = await api.post(LIST, {"first": first, "order": "NEWEST_FIRST"})
    nested = await api.post(NESTED_LIST, {"slug": "paged", "first": first})

    assert refusal(top_level) == refusal(nested) == BAD_FIRST


async def test_a_garbage_cursor_or_one_from_another_order_is_refused(api, session):
    await given_a_catalogue(session)
    by_title = await api(LIST, {"first": 1, "order": "TITLE"})
    title_cursor = by_title["commitments"]["pageInfo"]["endCursor"]

    garbage = await api.post(LIST, {"first": 1, "order": "NEWEST_FIRST", "after": "garbage!"})
    other_order = await api.post(LIST, {"first": 1, "order": "NEWEST_FIRST", "after": title_cursor})
    nested = await api.post(NESTED_LIST, {"slug": "catalogue", "first": 1, "after": title_cursor})

    assert refusal(garbage) == refusal(other_order) == refusal(nested) == BAD_CURSOR
