import sqlalchemy as sa

from backend import models
from backend.graphql.relay import to_global_id
from backend.models import Role
from tests.factories import gid, make_coalition, make_membership, make_organisation, make_token
from tests.results import DENIED, NOT_FOUND, invalid, table_sizes

ORGANISATION = """
    id name acronym iatiIdentifier organisationType organisationTypeName hubCategory
    country website description
"""
RESULT = f"""
    __typename
    ... on Error {{ code }}
    ... on ValidationFailed {{ fields {{ field code }} }}
    ... on Organisation {{ {ORGANISATION} }}
"""
REGISTER = f"""
mutation ($input: RegisterOrganisationInput!) {{
  registerOrganisation(input: $input) {{ {RESULT} }}
}}
"""
UPDATE = f"""
mutation ($input: UpdateOrganisationInput!) {{ updateOrganisation(input: $input) {{ {RESULT} }} }}
"""
ORGANISATIONS = """
query ($filter: OrganisationFilter, $first: Int! = 20, $after: String) {
  organisations(filter: $filter, first: $first, after: $after) {
    totalCount
    edges { node { name } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def names(data):
    return [edge["node"]["name"] for edge in data["organisations"]["edges"]]


async def test_register_organisation_returns_it_with_its_iati_type_name(api, session):
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    given = {
        "name": "United Nations Educational, Scientific and Cultural Organization",
        "acronym": "UNESCO",
        "iatiIdentifier": "XM-DAC-41304",
        "organisationType": "40",
        "country": "FR",
        "website": "https://www.unesco.org",
        "description": "The UN agency for education.",
    }

    data = await api(REGISTER, {"input": given}, token=admin)

    organisation = await session.scalar(sa.select(models.Organisation))
    assert data["registerOrganisation"] == {
        "__typename": "Organisation",
        "id": gid(organisation),
        **given,
        "organisationTypeName": "Multilateral",
        "hubCategory": None,
    }


async def test_register_organisation_names_every_refused_field(api, session):
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    given = {
        "name": "x" * 201,
        "organisationType": "99",
        "country": "XX",
        "website": "ftp://files.example.org",
    }
    before = await table_sizes(session)

    data = await api(REGISTER, {"input": given}, token=admin)

    assert data["registerOrganisation"] == invalid(
        ("name", "TOO_LONG"),
        ("organisationType", "UNKNOWN_CODE"),
        ("country", "UNKNOWN_CODE"),
        ("website", "BAD_FORMAT"),
    )
    assert await table_sizes(session) == before


async def test_register_organisation_refuses_an_iati_identifier_in_use(api, session):
    await make_organisation(session, iati_identifier="XM-DAC-41304")
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    given = {"name": "Copy", "organisationType": "40", "country": "FR"}
    before = await table_sizes(session)

    data = await api(REGISTER, {"input": {**given, "iatiIdentifier": "XM-DAC-41304"}}, token=admin)

    assert data["registerOrganisation"] == invalid(("iatiIdentifier", "DUPLICATE"))
    assert await table_sizes(session) == before


async def test_only_secretariat_admins_register_organisations(api, session):
    organisation = await make_organisation(session)
    partner = await make_token(session, Role.PARTNER_ADMIN, organisation)
    analyst = await make_token(session, Role.SECRETARIAT_ANALYST)
    given = {"name": "Acme", "organisationType": "70", "country": "KE"}
    before = await table_sizes(session)

    by_partner = await api(REGISTER, {"input": given}, token=partner)
    by_analyst = await api(REGISTER, {"input": given}, token=analyst)

    assert by_partner["registerOrganisation"] == DENIED
    assert by_analyst["registerOrganisation"] == DENIED
    assert await table_sizes(session) == before


async def test_partner_admin_updates_its_own_organisation(api, session):
    organisation = await make_organisation(
        session, name="Acme Telecom", organisation_type="70", country="KE"
    )
    admin = await make_token(session, Role.PARTNER_ADMIN, organisation)
    given = {
        "id": gid(organisation),
        "acronym": "ACME",
        "hubCategory": "MEDIA",
        "website": "http://acme.example",
    }

    data = await api(UPDATE, {"input": given}, token=admin)

    assert data["updateOrganisation"] == {
        "__typename": "Organisation",
        "id": gid(organisation),
        "name": "Acme Telecom",
        "acronym": "ACME",
        "iatiIdentifier": None,
        "organisationType": "70",
        "organisationTypeName": "Private Sector",
        "hubCategory": "MEDIA",
        "country": "KE",
        "website": "http://acme.example",
        "description": None,
    }


async def test_update_organisation_refusals(api, session):
    organisation = await make_organisation(session)
    await make_organisation(session, iati_identifier="XM-DAC-41304")
    other = await make_organisation(session)
    other_admin = await make_token(session, Role.PARTNER_ADMIN, other)
    editor = await make_token(session, Role.PARTNER_EDITOR, organisation)
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    before = await table_sizes(session)

    duplicate = await api(
        UPDATE, {"input": {"id": gid(organisation), "iatiIdentifier": "XM-DAC-41304"}}, token=admin
    )
    unnamed = await api(UPDATE, {"input": {"id": gid(organisation), "name": None}}, token=admin)
    missing = await api(
        UPDATE, {"input": {"id": to_global_id("Organisation", 999), "name": "X"}}, token=admin
    )
    by_other = await api(
        UPDATE, {"input": {"id": gid(organisation), "name": "X"}}, token=other_admin
    )
    by_editor = await api(UPDATE, {"input": {"id": gid(organisation), "name": "X"}}, token=editor)

    assert duplicate["updateOrganisation"] == invalid(("iatiIdentifier", "DUPLICATE"))
    assert unnamed["updateOrganisation"] == invalid(("name", "REQUIRED"))
    assert missing["updateOrganisation"] == NOT_FOUND
    assert by_other["updateOrganisation"] == DENIED
    assert by_editor["updateOrganisation"] == DENIED
    assert await table_sizes(session) == before


async def test_organisations_are_paged_by_name_with_a_total(api, session):
    for name in ("Cisco", "Airtel", "Blackboard"):
        await make_organisation(session, name=name)

    first = await api(ORGANISATIONS, {"first": 2})
    rest = await api(
        ORGANISATIONS, {"first": 2, "after": first["organisations"]["pageInfo"]["endCursor"]}
    )

    assert names(first) == ["Airtel", "Blackboard"]
    assert first["organisations"]["totalCount"] == 3
    assert first["organisations"]["pageInfo"]["hasNextPage"] is True
    assert names(rest) == ["Cisco"]
    assert rest["organisations"]["pageInfo"]["hasNextPage"] is False


async def test_organisations_filter_by_search_type_and_country(api, session):
    await make_organisation(session, name="Airtel Africa", organisation_type="70", country="KE")
    await make_organisation(session, name="Mobile Learning Network", acronym="AIRNET")
    await make_organisation(session, name="Ministry of Education", organisation_type="10")
    await make_organisation(session, name="Orange", organisation_type="70", country="FR")

    searched = await api(ORGANISATIONS, {"filter": {"search": "aIr"}})
    by_type = await api(ORGANISATIONS, {"filter": {"organisationType": "10"}})
    combined = await api(ORGANISATIONS, {"filter": {"organisationType": "70", "country": "FR"}})

    assert names(searched) == ["Airtel Africa", "Mobile Learning Network"]
    assert searched["organisations"]["totalCount"] == 2
    assert names(by_type) == ["Ministry of Education"]
    assert by_type["organisations"]["totalCount"] == 1
    assert names(combined) == ["Orange"]
    assert combined["organisations"]["totalCount"] == 1


async def test_organisations_of_a_coalition_are_its_active_members_only(api, session):
    coalition = await make_coalition(session)
    member = await make_organisation(session, name="Member")
    applicant = await make_organisation(session, name="Applicant")
    await make_organisation(session, name="Outsider")
    await make_membership(session, coalition, member)
    await make_membership(session, coalition, applicant, status=models.MembershipStatus.APPLIED)
    analyst = await make_token(session, Role.SECRETARIAT_ANALYST)
    applicant_viewer = await make_token(session, Role.PARTNER_VIEWER, applicant)
    variables = {"filter": {"coalitionId": gid(coalition)}}

    public = await api(ORGANISATIONS, variables)
    secretariat = await api(ORGANISATIONS, variables, token=analyst)
    own = await api(ORGANISATIONS, variables, token=applicant_viewer)

    assert names(public) == ["Member"]
    assert public["organisations"]["totalCount"] == 1
    assert names(secretariat) == ["Member"]
    assert names(own) == ["Member"]


async def test_organisation_by_id(api, session):
    organisation = await make_organisation(
        session, name="Khan Academy", organisation_type="21", country="US"
    )
    query = """
    query ($id: ID!) { organisation(id: $id) { name organisationType organisationTypeName } }
    """

    found = await api(query, {"id": gid(organisation)})
    unknown = await api(query, {"id": to_global_id("Organisation", 999)})
    other_kind = await api(query, {"id": to_global_id("Coalition", organisation.id)})

    assert found == {
        "organisation": {
            "name": "Khan Academy",
            "organisationType": "21",
            "organisationTypeName": "International NGO",
        }
    }
    assert unknown == {"organisation": None}
    assert other_kind == {"organisation": None}


async def test_node_fetches_an_organisation_with_its_memberships(api, session):
    coalition = await make_coalition(session, name="GEC")
    organisation = await make_organisation(session, name="Airtel")
    await make_membership(session, coalition, organisation)
    query = """
    query ($id: ID!) {
      node(id: $id) {
        __typename id
        ... on Organisation { name memberships { status coalition { name } } }
      }
    }
    """

    data = await api(query, {"id": gid(organisation)})

    assert data == {
        "node": {
            "__typename": "Organisation",
            "id": gid(organisation),
            "name": "Airtel",
            "memberships": [{"status": "ACTIVE", "coalition": {"name": "GEC"}}],
        }
    }
