import datetime as dt
import hashlib
import json
import re

import sqlalchemy as sa
from sqlmodel import col

from backend import models
from backend.actors import SYSTEM
from backend.graphql.relay import to_global_id
from backend.models import Role
from backend.services import tokens
from tests.factories import gid, make_organisation, make_token
from tests.results import DENIED, NOT_FOUND, invalid, table_sizes

CREATE = """
mutation ($input: CreateApiTokenInput!) {
  createApiToken(input: $input) {
    __typename
    ... on Error { code }
    ... on ValidationFailed { fields { field code } }
    ... on IssuedApiToken {
      secret
      token { id prefix name role expiresAt revokedAt organisation { name } }
    }
  }
}
"""
REVOKE = """
mutation ($prefix: String!) {
  revokeApiToken(input: {prefix: $prefix}) {
    __typename
    ... on Error { code }
    ... on ApiToken { prefix name revokedAt }
  }
}
"""
VIEWER = "{ viewer { name role } }"
API_TOKENS = "query ($organisationId: ID) { apiTokens(organisationId: $organisationId) { name } }"


def refusal(response):
    """A query refused with a GraphQL error: its data and each error's path and code."""
    body = response.json()
    return body["data"], [(error["path"], error["extensions"]["code"]) for error in body["errors"]]


def error_codes(response):
    return response.status_code, [
        error["extensions"]["code"] for error in response.json()["errors"]
    ]


async def test_a_new_token_is_shown_once_and_works_as_a_bearer_token(api, session):
    organisation = await make_organisation(session, name="Airtel")
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    given = {
        "name": "Airtel reporting robot",
        "role": "PARTNER_EDITOR",
        "organisationId": gid(organisation),
        "expiresAt": "2099-01-01T00:00:00+00:00",
    }

    data = await api(CREATE, {"input": given}, token=admin)
    issued = data["createApiToken"]
    viewer = await api(VIEWER, token=issued["secret"])

    secret = issued["secret"]
    row = await session.scalar(
        sa.select(models.ApiToken).where(col(models.ApiToken.name) == "Airtel reporting robot")
    )
    assert secret.startswith("hub_") and len(secret) > 40
    assert issued == {
        "__typename": "IssuedApiToken",
        "secret": secret,
        "token": {
            "id": gid(row),
            "prefix": secret[:12],
            "name": "Airtel reporting robot",
            "role": "PARTNER_EDITOR",
            "expiresAt": "2099-01-01T00:00:00+00:00",
            "revokedAt": None,
            "organisation": {"name": "Airtel"},
        },
    }
    assert viewer == {"viewer": {"name": "Airtel reporting robot", "role": "PARTNER_EDITOR"}}
    assert row.prefix == secret[:12]
    assert row.token_hash != secret
    assert re.fullmatch("[0-9a-f]{64}", row.token_hash)
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    records = list(await session.scalars(sa.select(models.AuditRecord)))
    trail = json.dumps([(record.before, record.after) for record in records])
    key = ("ApiToken", row.id)
    about_row = [record for record in records if (record.entity_type, record.entity_id) == key]
    assert [(record.action, record.after["prefix"]) for record in about_row] == [
        ("api_token.created", secret[:12])
    ]
    assert secret not in trail
    assert row.token_hash not in trail


async def test_partner_admin_issues_tokens_for_its_own_organisation_only(api, session):
    organisation = await make_organisation(session, name="Airtel")
    other = await make_organisation(session)
    admin = await make_token(session, Role.PARTNER_ADMIN, organisation)
    editor = await make_token(session, Role.PARTNER_EDITOR, organisation)
    own = {"name": "Reporting", "role": "PARTNER_ADMIN", "organisationId": gid(organisation)}
    before = await table_sizes(session)

    for_other = await api(CREATE, {"input": {**own, "organisationId": gid(other)}}, token=admin)
    secretariat = await api(
        CREATE, {"input": {"name": "Me", "role": "SECRETARIAT_ADMIN"}}, token=admin
    )
    by_editor = await api(CREATE, {"input": own}, token=editor)
    unchanged = await table_sizes(session)
    created = await api(CREATE, {"input": own}, token=admin)

    assert [for_other["createApiToken"], secretariat["createApiToken"]] == [DENIED, DENIED]
    assert by_editor["createApiToken"] == DENIED
    assert unchanged == before
    assert created["createApiToken"]["token"]["organisation"] == {"name": "Airtel"}
    assert created["createApiToken"]["token"]["role"] == "PARTNER_ADMIN"


async def test_create_api_token_refusals(api, session):
    organisation = await make_organisation(session)
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    before = await table_sizes(session)

    partner_alone = await api(
        CREATE, {"input": {"name": "Robot", "role": "PARTNER_VIEWER"}}, token=admin
    )
    secretariat_with_organisation = await api(
        CREATE,
        {
            "input": {
                "name": " ",
                "role": "SECRETARIAT_ANALYST",
                "organisationId": gid(organisation),
                "expiresAt": yesterday,
            }
        },
        token=admin,
    )
    naive_expiry = await api.post(
        CREATE,
        {
            "input": {
                "name": "Robot",
                "role": "SECRETARIAT_ANALYST",
                "expiresAt": "2099-01-01T00:00",
            }
        },
        token=admin,
    )
    unknown_organisation = await api(
        CREATE,
        {
            "input": {
                "name": "Robot",
                "role": "PARTNER_VIEWER",
                "organisationId": to_global_id("Organisation", 999),
            }
        },
        token=admin,
    )

    assert partner_alone["createApiToken"] == invalid(("organisationId", "REQUIRED"))
    assert secretariat_with_organisation["createApiToken"] == invalid(
        ("name", "REQUIRED"), ("organisationId", "NOT_ALLOWED"), ("expiresAt", "NOT_ALLOWED")
    )
    assert unknown_organisation["createApiToken"] == NOT_FOUND
    assert naive_expiry.json()["data"] is None
    assert "needs a UTC offset" in naive_expiry.json()["errors"][0]["message"]
    assert await table_sizes(session) == before


async def test_a_revoked_token_is_refused_at_once(api, session):
    organisation = await make_organisation(session)
    admin = await make_token(session, Role.PARTNER_ADMIN, organisation)
    secret = await make_token(session, Role.PARTNER_VIEWER, organisation, name="Dashboard")

    data = await api(REVOKE, {"prefix": secret[:12]}, token=admin)
    response = await api.post(VIEWER, token=secret)

    revoked = data["revokeApiToken"]
    assert revoked["revokedAt"] is not None
    assert revoked == {
        "__typename": "ApiToken",
        "prefix": secret[:12],
        "name": "Dashboard",
        "revokedAt": revoked["revokedAt"],
    }
    assert error_codes(response) == (401, ["UNAUTHENTICATED"])


async def test_revoke_api_token_refusals(api, session):
    organisation = await make_organisation(session)
    other = await make_organisation(session)
    secret = await make_token(session, Role.PARTNER_VIEWER, organisation)
    other_admin = await make_token(session, Role.PARTNER_ADMIN, other)
    editor = await make_token(session, Role.PARTNER_EDITOR, organisation)
    secretariat = await make_token(session, Role.SECRETARIAT_ANALYST)
    admin = await make_token(session, Role.SECRETARIAT_ADMIN)
    before = await table_sizes(session)

    by_other = await api(REVOKE, {"prefix": secret[:12]}, token=other_admin)
    by_editor = await api(REVOKE, {"prefix": secret[:12]}, token=editor)
    of_secretariat = await api(REVOKE, {"prefix": secretariat[:12]}, token=other_admin)
    unknown = await api(REVOKE, {"prefix": "hub_unknown0"}, token=admin)

    assert [by_other, by_editor, of_secretariat] == [{"revokeApiToken": DENIED}] * 3
    assert unknown == {"revokeApiToken": NOT_FOUND}
    assert await table_sizes(session) == before
    assert (await api(VIEWER, token=secret))["viewer"]["role"] == "PARTNER_VIEWER"


async def test_an_expired_token_is_refused(api, session):
    issued = await tokens.create(
        session,
        SYSTEM,
        name="Temporary",
        role=Role.SECRETARIAT_ANALYST,
        organisation_id=None,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    await session.commit()
    valid = await api(VIEWER, token=issued.secret)
    await session.execute(
        sa.update(models.ApiToken)
        .where(col(models.ApiToken.id) == issued.token.id)
        .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    )
    await session.commit()

    response = await api.post(VIEWER, token=issued.secret)

    assert valid == {"viewer": {"name": "Temporary", "role": "SECRETARIAT_ANALYST"}}
    assert error_codes(response) == (401, ["UNAUTHENTICATED"])


async def test_api_tokens_are_listed_for_admins(api, session):
    airtel = await make_organisation(session)
    orange = await make_organisation(session)
    airtel_admin = await make_token(session, Role.PARTNER_ADMIN, airtel, name="Airtel admin")
    await make_token(session, Role.PARTNER_EDITOR, airtel, name="Airtel editor")
    await make_token(session, Role.PARTNER_ADMIN, orange, name="Orange admin")
    admin = await make_token(session, Role.SECRETARIAT_ADMIN, name="Secretariat")

    own = await api(API_TOKENS, {"organisationId": gid(airtel)}, token=airtel_admin)
    every = await api(API_TOKENS, token=admin)
    of_orange = await api(API_TOKENS, {"organisationId": gid(orange)}, token=admin)

    assert own == {"apiTokens": [{"name": "Airtel admin"}, {"name": "Airtel editor"}]}
    assert every == {
        "apiTokens": [
            {"name": "Airtel admin"},
            {"name": "Airtel editor"},
            {"name": "Orange admin"},
            {"name": "Secretariat"},
        ]
    }
    assert of_orange == {"apiTokens": [{"name": "Orange admin"}]}


async def test_api_tokens_are_refused_to_everyone_else(api, session):
    airtel = await make_organisation(session)
    orange = await make_organisation(session)
    airtel_admin = await make_token(session, Role.PARTNER_ADMIN, airtel)
    editor = await make_token(session, Role.PARTNER_EDITOR, airtel)
    # Token management is for administrators; analysts read the registry, not credentials.
    analyst = await make_token(session, Role.SECRETARIAT_ANALYST)
    of_airtel = {"organisationId": gid(airtel)}

    attempts = [
        await api.post(API_TOKENS, of_airtel, token=editor),
        await api.post(API_TOKENS, {"organisationId": gid(orange)}, token=airtel_admin),
        await api.post(API_TOKENS, {}, token=airtel_admin),
        await api.post(API_TOKENS, {}, token=analyst),
        await api.post(API_TOKENS, of_airtel),
    ]

    denied = (None, [(["apiTokens"], "PERMISSION_DENIED")])
    unauthenticated = (None, [(["apiTokens"], "UNAUTHENTICATED")])
    assert [refusal(response) for response in attempts] == [denied] * 4 + [unauthenticated]


async def test_a_token_node_is_seen_only_by_its_admins_and_the_secretariat(api, session):
    airtel = await make_organisation(session)
    orange = await make_organisation(session)
    await make_token(session, Role.PARTNER_EDITOR, airtel, name="Robot")
    robot = await session.scalar(
        sa.select(models.ApiToken).where(col(models.ApiToken.name) == "Robot")
    )
    readers = {
        "airtel admin": await make_token(session, Role.PARTNER_ADMIN, airtel),
        "secretariat": await make_token(session, Role.SECRETARIAT_ADMIN),
        "airtel editor": await make_token(session, Role.PARTNER_EDITOR, airtel),
        "orange admin": await make_token(session, Role.PARTNER_ADMIN, orange),
        "anonymous": None,
    }
    query = "query ($id: ID!) { node(id: $id) { __typename ... on ApiToken { name } } }"

    seen = {
        reader: (await api(query, {"id": gid(robot)}, token=token))["node"]
        for reader, token in readers.items()
    }

    found = {"__typename": "ApiToken", "name": "Robot"}
    assert seen == {
        "airtel admin": found,
        "secretariat": found,
        "airtel editor": None,
        "orange admin": None,
        "anonymous": None,
    }
