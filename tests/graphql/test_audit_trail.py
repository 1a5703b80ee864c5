from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col

from backend import models
from backend.graphql.relay import from_global_id
from backend.models import Role
from backend.services import audit
from tests.factories import (
    gid,
    make_coalition,
    make_membership,
    make_organisation,
    make_token,
    make_workstream,
)

TRAIL = """
query ($id: ID!) {
  auditTrail(entityId: $id) {
    actorName actorRole actorOrganisationId action entityId before after
  }
}
"""


@dataclass(frozen=True)
class Setup:
    """Who makes a change, with which input, to which existing entity (none for a create)."""

    token: str
    variables: dict[str, Any]
    entity: Any = None
    organisation: models.Organisation | None = None


@dataclass(frozen=True)
class Change:
    mutation: str
    input_type: str
    action: str
    given: Callable[[Any], Awaitable[Setup]]
    returns: str = "... on Node { id }"

    def document(self) -> str:
        return f"""
        mutation ($input: {self.input_type}!) {{
          {self.mutation}(input: $input) {{ __typename {self.returns} }}
        }}
        """


async def by_secretariat(session, variables, entity=None):
    token = await make_token(session, Role.SECRETARIAT_ADMIN, name="Sam")
    return Setup(token, variables, entity)


async def new_coalition(session):
    return await by_secretariat(session, {"slug": "gec", "name": "GEC", "kind": "FUND"})


async def coalition_changes(session):
    coalition = await make_coalition(session)
    return await by_secretariat(session, {"id": gid(coalition), "status": "CLOSED"}, coalition)


async def new_workstream(session):
    coalition = await make_coalition(session)
    given = {"coalitionId": gid(coalition), "name": "Teachers", "kind": "FLAGSHIP"}
    return await by_secretariat(session, given)


async def workstream_changes(session):
    workstream = await make_workstream(session, await make_coalition(session))
    given = {"id": gid(workstream), "targetMetric": "teachers"}
    return await by_secretariat(session, given, workstream)


async def new_organisation(session):
    given = {"name": "Airtel", "organisationType": "70", "country": "KE"}
    return await by_secretariat(session, given)


async def organisation_changes(session):
    organisation = await make_organisation(session)
    admin = await make_token(session, Role.PARTNER_ADMIN, organisation, name="Pat")
    return Setup(admin, {"id": gid(organisation), "acronym": "AT"}, organisation, organisation)


async def new_membership(session):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    given = {"coalitionId": gid(coalition), "organisationId": gid(organisation)}
    return await by_secretariat(session, given)


async def membership_changes(session):
    coalition = await make_coalition(session)
    membership = await make_membership(session, coalition, await make_organisation(session))
    given = {"id": gid(membership), "status": "SUSPENDED"}
    return await by_secretariat(session, given, membership)


async def new_activity(session):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    await make_membership(session, coalition, organisation)
    editor = await make_token(session, Role.PARTNER_EDITOR, organisation, name="Ed")
    given = {
        "coalitionId": gid(coalition),
        "kind": "TRAINING",
        "title": "Teacher training",
        "occurredAt": "2026-03-01T10:00:00+00:00",
    }
    return Setup(editor, given, organisation=organisation)


async def new_token(session):
    organisation = await make_organisation(session)
    given = {"name": "Robot", "role": "PARTNER_VIEWER", "organisationId": gid(organisation)}
    return await by_secretariat(session, given)


async def token_revocation(session):
    secret = await make_token(session, Role.SECRETARIAT_ANALYST)
    token = await token_of(session, secret)
    return await by_secretariat(session, {"prefix": secret[:12]}, token)


CHANGES = [
    Change("createCoalition", "CreateCoalitionInput", "coalition.created", new_coalition),
    Change("updateCoalition", "UpdateCoalitionInput", "coalition.updated", coalition_changes),
    Change("createWorkstream", "CreateWorkstreamInput", "workstream.created", new_workstream),
    Change("updateWorkstream", "UpdateWorkstreamInput", "workstream.updated", workstream_changes),
    Change(
        "registerOrganisation",
        "RegisterOrganisationInput",
        "organisation.registered",
        new_organisation,
    ),
    Change(
        "updateOrganisation",
        "UpdateOrganisationInput",
        "organisation.updated",
        organisation_changes,
    ),
    Change("admitMember", "AdmitMemberInput", "membership.admitted", new_membership),
    Change("updateMembership", "UpdateMembershipInput", "membership.updated", membership_changes),
    Change("publishActivity", "PublishActivityInput", "activity.published", new_activity),
    Change(
        "createApiToken",
        "CreateApiTokenInput",
        "api_token.created",
        new_token,
        returns="... on IssuedApiToken { token { id } }",
    ),
    Change("revokeApiToken", "RevokeApiTokenInput", "api_token.revoked", token_revocation),
]
MODELS = {
    "Coalition": models.Coalition,
    "Workstream": models.Workstream,
    "Organisation": models.Organisation,
    "Membership": models.Membership,
    "Activity": models.Activity,
    "ApiToken": models.ApiToken,
}


async def token_of(session, secret):
    token = models.ApiToken
    return await session.scalar(sa.select(token).where(col(token.prefix) == secret[:12]))


async def audit_count(session):
    count = await session.scalar(sa.select(sa.func.count()).select_from(models.AuditRecord))
    # End the read transaction: SQLite would keep showing this snapshot to the next count.
    await session.commit()
    return count


async def snapshot_of(session, global_id):
    """The entity as the database holds it now, in the form the audit trail records."""
    type_name, id = from_global_id(global_id)
    model = MODELS[type_name]
    row = await session.get(model, id, populate_existing=True)
    await session.commit()
    shown = audit.snapshot(row)
    # The trail never holds a token's hash.
    return {**shown, "token_hash": "-"} if model is models.ApiToken else shown


def changed_id(setup, result):
    if setup.entity is not None:
        return gid(setup.entity)
    return result["token"]["id"] if "token" in result else result["id"]


@pytest.mark.parametrize("change", CHANGES, ids=[change.mutation for change in CHANGES])
async def test_every_change_writes_one_audit_record(api, session, change):
    setup = await change.given(session)
    actor = await token_of(session, setup.token)
    analyst = await make_token(session, Role.SECRETARIAT_ANALYST)
    before = await snapshot_of(session, gid(setup.entity)) if setup.entity else None
    records_before = await audit_count(session)

    data = await api(change.document(), {"input": setup.variables}, token=setup.token)

    entity_id = changed_id(setup, data[change.mutation])
    trail = (await api(TRAIL, {"id": entity_id}, token=analyst))["auditTrail"]
    assert await audit_count(session) == records_before + 1
    assert trail[-1] == {
        "actorName": actor.name,
        "actorRole": actor.role.value,
        "actorOrganisationId": gid(setup.organisation) if setup.organisation else None,
        "action": change.action,
        "entityId": entity_id,
        "before": before,
        "after": await snapshot_of(session, entity_id),
    }


async def test_the_trail_is_oldest_first(api, session):
    coalition = await make_coalition(session, name="First")
    admin = await make_token(session, Role.SECRETARIAT_ADMIN, name="Sam")
    analyst = await make_token(session, Role.SECRETARIAT_ANALYST)
    rename = (
        "mutation ($input: UpdateCoalitionInput!) { updateCoalition(input: $input) { __typename } }"
    )
    for name in ("Second", "Third"):
        await api(rename, {"input": {"id": gid(coalition), "name": name}}, token=admin)

    data = await api(TRAIL, {"id": gid(coalition)}, token=analyst)

    assert [
        (
            record["actorName"],
            record["action"],
            (record["before"] or {}).get("name"),
            record["after"]["name"],
        )
        for record in data["auditTrail"]
    ] == [
        ("system", "coalition.created", None, "First"),
        ("Sam", "coalition.updated", "First", "Second"),
        ("Sam", "coalition.updated", "Second", "Third"),
    ]


async def test_the_trail_is_for_the_secretariat_only(api, session):
    organisation = await make_organisation(session)
    partners = [
        await make_token(session, role, organisation)
        for role in (Role.PARTNER_ADMIN, Role.PARTNER_EDITOR, Role.PARTNER_VIEWER)
    ]
    analyst = await make_token(session, Role.SECRETARIAT_ANALYST)
    variables = {"id": gid(organisation)}

    refused = [await api.post(TRAIL, variables, token=token) for token in [*partners, None]]
    malformed = await api.post(TRAIL, {"id": "not-an-id"})
    nothing = await api(TRAIL, {"id": "not-an-id"}, token=analyst)

    assert [
        (
            response.json()["data"],
            [error["extensions"]["code"] for error in response.json()["errors"]],
        )
        for response in refused
    ] == [(None, ["PERMISSION_DENIED"])] * 3 + [(None, ["UNAUTHENTICATED"])]
    assert malformed.json()["data"] is None
    assert malformed.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert nothing == {"auditTrail": []}
