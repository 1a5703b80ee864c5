import datetime as dt

import sqlalchemy as sa
from sqlmodel import col

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
from tests.results import DENIED, NOT_FOUND, invalid, recorded_events, table_sizes

RESULT = """
    __typename
    ... on Error { code }
    ... on ValidationFailed { fields { field code } }
    ... on Membership {
      id status role joinedOn leftOn principlesAccepted
      organisation { name } coalition { slug } workstreams { name }
    }
"""
ADMIT = f"""
mutation ($input: AdmitMemberInput!) {{ admitMember(input: $input) {{ {RESULT} }} }}
"""
UPDATE = f"""
mutation ($input: UpdateMembershipInput!) {{ updateMembership(input: $input) {{ {RESULT} }} }}
"""
PLEDGE = """
mutation ($input: PledgeCommitmentInput!) {
  pledgeCommitment(input: $input) { __typename ... on Error { code } ... on Commitment { title } }
}
"""


async def only_membership(session):
    return await session.scalar(sa.select(models.Membership))


async def test_admit_member_is_active_from_today_and_announced(api, session):
    coalition = await make_coalition(session, slug="gec")
    organisation = await make_organisation(session, name="Airtel", acronym="AT")
    workstream = await make_workstream(session, coalition, name="Connectivity")
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    given = {
        "coalitionId": gid(coalition),
        "organisationId": gid(organisation),
        "role": "CHAMPION",
        "principlesAccepted": ["learner-data-privacy"],
        "workstreamIds": [gid(workstream)],
    }

    data = await api(ADMIT, {"input": given}, token=admin)

    membership = await only_membership(session)
    assert data["admitMember"] == {
        "__typename": "Membership",
        "id": gid(membership),
        "status": "ACTIVE",
        "role": "CHAMPION",
        "joinedOn": dt.date.today().isoformat(),
        "leftOn": None,
        "principlesAccepted": ["learner-data-privacy"],
        "organisation": {"name": "Airtel"},
        "coalition": {"slug": "gec"},
        "workstreams": [{"name": "Connectivity"}],
    }
    assert await recorded_events(session) == [
        (
            "membership.joined",
            "Membership",
            membership.id,
            coalition.id,
            organisation.id,
            models.Visibility.PUBLIC,
            {
                "id": membership.id,
                "organisation": {"id": organisation.id, "name": "Airtel", "acronym": "AT"},
                "status": "ACTIVE",
                "role": "CHAMPION",
            },
        )
    ]


async def test_an_application_is_recorded_but_not_announced(api, session):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    given = {
        "coalitionId": gid(coalition),
        "organisationId": gid(organisation),
        "status": "APPLIED",
    }

    data = await api(ADMIT, {"input": given}, token=admin)

    assert data["admitMember"]["status"] == "APPLIED"
    assert data["admitMember"]["joinedOn"] is None
    assert await recorded_events(session) == []
    record = models.AuditRecord
    audit = await session.execute(
        sa.select(record.action, record.after["status"].as_string()).where(
            col(record.entity_type) == "Membership"
        )
    )
    assert [tuple(row) for row in audit] == [("membership.admitted", "APPLIED")]


async def test_admit_member_refusals(api, session):
    coalition = await make_coalition(session)
    elsewhere = await make_workstream(session, await make_coalition(session))
    member = await make_organisation(session)
    await make_membership(session, coalition, member)
    newcomer = await make_organisation(session)
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    partner = await make_token(session, Role.PARTNER_ADMIN, member)
    before = await table_sizes(session)

    def admission(organisation, **fields):
        return {"input": {"coalitionId": gid(coalition), "organisationId": organisation, **fields}}

    twice = await api(ADMIT, admission(gid(member)), token=admin)
    unfit = await api(
        ADMIT,
        admission(
            gid(newcomer),
            workstreamIds=[gid(elsewhere)],
            principlesAccepted=["x" * 101],
        ),
        token=admin,
    )
    bad_id = await api(ADMIT, admission(gid(newcomer), workstreamIds=[gid(member)]), token=admin)
    no_organisation = await api(ADMIT, admission(to_global_id("Organisation", 999)), token=admin)
    no_coalition = await api(
        ADMIT,
        {"input": {"coalitionId": to_global_id("Coalition", 999), "organisationId": gid(newcomer)}},
        token=admin,
    )
    by_partner = await api(ADMIT, admission(gid(newcomer)), token=partner)

    assert twice["admitMember"] == {"__typename": "Conflict", "code": "ALREADY_MEMBER"}
    assert unfit["admitMember"] == invalid(
        ("principlesAccepted.0", "TOO_LONG"), ("workstreamIds.0", "BAD_RANGE")
    )
    assert bad_id["admitMember"] == invalid(("workstreamIds.0", "BAD_ID"))
    assert no_organisation["admitMember"] == NOT_FOUND
    assert no_coalition["admitMember"] == NOT_FOUND
    assert by_partner["admitMember"] == DENIED
    assert await table_sizes(session) == before


async def test_withdrawing_a_member_sets_left_on_to_today(api, session):
    coalition = await make_coalition(session, slug="gec")
    organisation = await make_organisation(session, name="Airtel")
    membership = await make_membership(
        session, coalition, organisation, joined_on=dt.date(2020, 4, 1)
    )
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)

    data = await api(UPDATE, {"input": {"id": gid(membership), "status": "WITHDRAWN"}}, token=admin)

    assert data["updateMembership"] == {
        "__typename": "Membership",
        "id": gid(membership),
        "status": "WITHDRAWN",
        "role": "MEMBER",
        "joinedOn": "2020-04-01",
        "leftOn": dt.date.today().isoformat(),
        "principlesAccepted": [],
        "organisation": {"name": "Airtel"},
        "coalition": {"slug": "gec"},
        "workstreams": [],
    }
    assert [event[0] for event in await recorded_events(session)] == [
        "membership.joined",
        "membership.changed",
    ]


async def test_accepting_an_application_announces_the_new_member(api, session):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session, name="Airtel")
    membership = await make_membership(
        session, coalition, organisation, status=models.MembershipStatus.APPLIED
    )
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)

    data = await api(UPDATE, {"input": {"id": gid(membership), "status": "ACTIVE"}}, token=admin)

    assert data["updateMembership"]["status"] == "ACTIVE"
    assert data["updateMembership"]["joinedOn"] == dt.date.today().isoformat()
    assert await recorded_events(session) == [
        (
            "membership.joined",
            "Membership",
            membership.id,
            coalition.id,
            organisation.id,
            models.Visibility.PUBLIC,
            {
                "id": membership.id,
                "organisation": {"id": organisation.id, "name": "Airtel", "acronym": None},
                "status": "ACTIVE",
                "role": "MEMBER",
            },
        )
    ]


async def test_update_membership_refusals(api, session):
    coalition = await make_coalition(session)
    elsewhere = await make_workstream(session, await make_coalition(session))
    organisation = await make_organisation(session)
    membership = await make_membership(
        session, coalition, organisation, joined_on=dt.date(2024, 1, 1)
    )
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    partner = await make_token(session, Role.PARTNER_ADMIN, organisation)
    before = await table_sizes(session)
    left_early = {
        "id": gid(membership),
        "status": "WITHDRAWN",
        "joinedOn": "2024-05-01",
        "leftOn": "2024-04-30",
    }

    early = await api(UPDATE, {"input": left_early}, token=admin)
    still_active = await api(
        UPDATE, {"input": {"id": gid(membership), "leftOn": "2024-06-01"}}, token=admin
    )
    foreign = await api(
        UPDATE, {"input": {"id": gid(membership), "workstreamIds": [gid(elsewhere)]}}, token=admin
    )
    cleared = await api(
        UPDATE, {"input": {"id": gid(membership), "status": None, "role": None}}, token=admin
    )
    missing = await api(
        UPDATE, {"input": {"id": to_global_id("Membership", 999), "role": "OBSERVER"}}, token=admin
    )
    by_partner = await api(
        UPDATE, {"input": {"id": gid(membership), "role": "CHAMPION"}}, token=partner
    )

    assert early["updateMembership"] == invalid(("leftOn", "BAD_RANGE"))
    assert still_active["updateMembership"] == invalid(("leftOn", "NOT_ALLOWED"))
    assert foreign["updateMembership"] == invalid(("workstreamIds.0", "BAD_RANGE"))
    assert cleared["updateMembership"] == invalid(("status", "REQUIRED"), ("role", "REQUIRED"))
    assert missing["updateMembership"] == NOT_FOUND
    assert by_partner["updateMembership"] == DENIED
    assert await table_sizes(session) == before


async def test_membership_decides_per_request_whether_a_partner_may_pledge(api, session):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    editor = await make_token(session, Role.PARTNER_EDITOR, organisation)

    def pledge(title):
        return {
            "input": {
                "coalitionId": gid(coalition),
                "title": title,
                "resourceKind": "FINANCIAL",
                "amount": "5000",
                "currency": "USD",
            }
        }

    before_admission = await api(PLEDGE, pledge("Too early"), token=editor)
    admitted = await api(
        ADMIT,
        {"input": {"coalitionId": gid(coalition), "organisationId": gid(organisation)}},
        token=admin,
    )
    as_member = await api(PLEDGE, pledge("Laptops for teachers"), token=editor)
    suspended = await api(
        UPDATE, {"input": {"id": admitted["admitMember"]["id"], "status": "SUSPENDED"}}, token=admin
    )
    after_suspension = await api(PLEDGE, pledge("Too late"), token=editor)

    assert before_admission["pledgeCommitment"] == DENIED
    assert as_member["pledgeCommitment"] == {
        "__typename": "Commitment",
        "title": "Laptops for teachers",
    }
    assert suspended["updateMembership"]["status"] == "SUSPENDED"
    assert after_suspension["pledgeCommitment"] == DENIED
    titles = await session.scalars(sa.select(models.Commitment.title))
    assert list(titles) == ["Laptops for teachers"]


async def test_an_application_is_seen_only_by_its_organisation_and_the_secretariat(api, session):
    coalition = await make_coalition(session)
    applicant = await make_organisation(session)
    other = await make_organisation(session)
    membership = await make_membership(
        session, coalition, applicant, status=models.MembershipStatus.APPLIED
    )
    own = await make_token(session, Role.PARTNER_VIEWER, applicant)
    stranger = await make_token(session, Role.PARTNER_ADMIN, other)
    analyst = await make_token(session, Role.SECRETARIAT_ANALYST)
    query = "query ($id: ID!) { node(id: $id) { __typename ... on Membership { status } } }"
    variables = {"id": gid(membership)}

    seen = [await api(query, variables, token=token) for token in (own, analyst)]
    hidden = [await api(query, variables, token=token) for token in (stranger, None)]

    assert seen == [{"node": {"__typename": "Membership", "status": "APPLIED"}}] * 2
    assert hidden == [{"node": None}] * 2
