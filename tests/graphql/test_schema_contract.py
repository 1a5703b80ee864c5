"""The schema is a contract: committed, documented, and honoured by the portal's documents.

schema/schema.graphql is generated from the code (`make schema`); schema/operations/ holds
the portal's trusted documents, which must validate against it and run without errors.
"""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    FieldNode,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    build_schema,
    is_introspection_type,
    is_specified_scalar_type,
    parse,
    validate,
)

from backend import models
from backend.graphql.schema import schema
from tests.factories import (
    gid,
    in_kind_line,
    make_activity,
    make_coalition,
    make_commitment,
    make_delivery,
    make_membership,
    make_organisation,
    make_token,
    make_workstream,
)

ROOT = Path(__file__).resolve().parents[2]
SDL = ROOT / "schema" / "schema.graphql"
OPERATIONS = ROOT / "schema" / "operations"
DOCUMENTS = sorted(OPERATIONS.glob("*.graphql"))


def operations_in(path: Path) -> list[OperationDefinitionNode]:
    return [
        definition
        for definition in parse(path.read_text(encoding="utf-8")).definitions
        if isinstance(definition, OperationDefinitionNode)
    ]


def undocumented(graphql_schema: GraphQLSchema) -> list[str]:
    """Types and fields (of objects, interfaces and inputs) without a description."""
    missing = []
    for name, type_ in graphql_schema.type_map.items():
        if is_introspection_type(type_) or is_specified_scalar_type(type_):
            continue
        if not type_.description:
            missing.append(name)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            missing += [
                f"{name}.{field_name}"
                for field_name, field in type_.fields.items()
                if not field.description
            ]
    return missing


def test_committed_schema_is_the_one_the_code_builds():
    committed = SDL.read_text(encoding="utf-8")

    generated = schema.as_str() + "\n"

    assert committed == generated, "schema/schema.graphql is stale: run `make schema`"


def test_every_type_and_field_is_described():
    missing = undocumented(schema._schema)

    assert missing == [], "add a description= to each (the schema is the portal's manual)"


def test_undocumented_finds_a_field_without_a_description():
    sdl = '"""A thing."""\ntype Query {\n  """Described."""\n  a: Int\n  b: Int\n}\n'

    missing = undocumented(build_schema(sdl))

    assert missing == ["Query.b"]


@pytest.mark.parametrize("path", DOCUMENTS, ids=[path.name for path in DOCUMENTS])
def test_operations_validate_against_the_committed_schema(path):
    document = parse(path.read_text(encoding="utf-8"))

    problems = validate(build_schema(SDL.read_text(encoding="utf-8")), document)

    assert [problem.message for problem in problems] == []


def test_operations_are_named_uniquely_and_cover_every_mutation():
    operations = [operation for path in DOCUMENTS for operation in operations_in(path)]
    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None

    names = [operation.name.value if operation.name else None for operation in operations]
    mutated = {
        selection.name.value
        for operation in operations
        if operation.operation is OperationType.MUTATION
        for selection in operation.selection_set.selections
        if isinstance(selection, FieldNode)
    }

    assert None not in names and len(names) == len(set(names)), names
    assert mutated == set(mutation_type.fields)


# What each operation in the portal's and secretariat's documents returns in the smoke run:
# the root field's __typename, or "ok" for a query answered without errors and not empty.
EXPECTED = {
    "portal.graphql": {
        "Viewer": "ok",
        "CoalitionPage": "ok",
        "Commitments": "ok",
        "Organisation": "ok",
        "Activities": "ok",
        "Node": "Commitment",
    },
    "portal_writes.graphql": {
        "PledgeCommitment": "Commitment",
        "ReviseCommitment": "Commitment",
        "AdvanceCommitment": "Commitment",
        "WithdrawCommitment": "Commitment",
        "ReportDelivery": "Delivery",
        "ConfirmDelivery": "Delivery",
        "DisputeDelivery": "Delivery",
        "PublishActivity": "Activity",
        "UpdateOrganisation": "Organisation",
        "CreateApiToken": "IssuedApiToken",
        "RevokeApiToken": "ApiToken",
    },
    "secretariat.graphql": {
        "CreateCoalition": "Coalition",
        "UpdateCoalition": "Coalition",
        "CreateWorkstream": "Workstream",
        "UpdateWorkstream": "Workstream",
        "RegisterOrganisation": "Organisation",
        "AdmitMember": "Membership",
        "UpdateMembership": "Membership",
        "CancelCommitment": "Commitment",
        "PublishFxRate": "FxRate",
        "AuditTrail": "ok",
        "ApiTokens": "ok",
    },
    "dashboard.graphql": {
        "CoalitionDashboard": "ok",
        "CoalitionBreakdowns": "ok",
        "PortfolioDashboard": "ok",
        "PortfolioBreakdowns": "ok",
    },
}


async def given_a_portal(session: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    """A coalition with two partners, and for each operation: who sends it, with what."""
    coalition = await make_coalition(session, slug="education")
    workstream = await make_workstream(session, coalition)
    partner = await make_organisation(session, name="Partner")
    receiver = await make_organisation(session, name="Receiver")
    newcomer = await make_organisation(session, name="Newcomer")
    await make_membership(session, coalition, partner)
    receiver_membership = await make_membership(session, coalition, receiver)
    await make_activity(session, coalition, organisation_id=partner.id)
    pledged = {
        purpose: await make_commitment(session, coalition, partner)
        for purpose in ("revise", "advance", "withdraw", "cancel")
    }
    committed = await make_commitment(
        session,
        coalition,
        partner,
        stage=models.Stage.COMMITTED,
        resource_kind=models.ResourceKind.MIXED,
        in_kind=[in_kind_line()],
    )
    to_confirm, to_dispute = [
        await make_delivery(session, committed, receiving_organisation_id=receiver.id)
        for _ in range(2)
    ]
    spare = await make_token(session, models.Role.PARTNER_EDITOR, partner)
    tokens = {
        "partner": await make_token(session, models.Role.PARTNER_ADMIN, partner),
        "receiver": await make_token(session, models.Role.PARTNER_ADMIN, receiver),
        "secretariat": await make_token(session, models.Role.SECRETARIAT_ADMIN),
    }
    today = dt.date.today().isoformat()

    def close(purpose: str) -> dict[str, Any]:
        return {"id": gid(pledged[purpose]), "version": 1, "reason": "Plans changed"}

    calls = {
        "Viewer": ("partner", {}),
        "CoalitionPage": ("partner", {"slug": "education", "coalitionId": gid(coalition)}),
        "Commitments": ("partner", {"filter": {"coalitionId": gid(coalition)}, "first": 10}),
        "Organisation": ("partner", {"id": gid(partner)}),
        "Activities": ("partner", {"filter": {"coalitionId": gid(coalition)}}),
        "Node": ("partner", {"id": gid(committed)}),
        "PledgeCommitment": ("partner", {"input": {
            "coalitionId": gid(coalition), "title": "Data for learners",
            "resourceKind": "MIXED", "amount": "2500", "currency": "USD",
            "inKind": [{"category": "CONNECTIVITY", "description": "Data bundles",
                        "quantity": "1000", "unit": "GB"}],
        }}),
        "ReviseCommitment": ("partner", {"input": {
            "id": gid(pledged["revise"]), "version": 1, "title": "Revised",
        }}),
        "AdvanceCommitment": ("partner", {"input": {
            "id": gid(pledged["advance"]), "version": 1, "stage": "COMMITTED",
        }}),
        "WithdrawCommitment": ("partner", {"input": close("withdraw")}),
        "ReportDelivery": ("partner", {"input": {
            "commitmentId": gid(committed), "deliveredOn": today, "amount": "100",
            "currency": "USD", "receivingOrganisationId": gid(receiver),
        }}),
        "ConfirmDelivery": ("receiver", {"input": {"id": gid(to_confirm)}}),
        "DisputeDelivery": ("receiver", {"input": {"id": gid(to_dispute), "reason": "Short"}}),
        "PublishActivity": ("partner", {"input": {
            "coalitionId": gid(coalition), "kind": "LAUNCH", "title": "Launch",
            "occurredAt": "2026-02-01T09:00:00Z",
        }}),
        "UpdateOrganisation": ("partner", {"input": {
            "id": gid(partner), "website": "https://partner.example.org",
        }}),
        "CreateApiToken": ("partner", {"input": {
            "name": "Reporting bot", "role": "PARTNER_EDITOR", "organisationId": gid(partner),
        }}),
        "RevokeApiToken": ("partner", {"input": {"prefix": spare[:12]}}),
        "CreateCoalition": ("secretariat", {"input": {
            "slug": "resiliart", "name": "ResiliArt", "kind": "MOVEMENT", "sdgGoals": ["4"],
        }}),
        "UpdateCoalition": ("secretariat", {"input": {
            "id": gid(coalition), "description": "Keeping learning going.",
        }}),
        "CreateWorkstream": ("secretariat", {"input": {
            "coalitionId": gid(coalition), "name": "Teachers", "kind": "MISSION",
        }}),
        "UpdateWorkstream": ("secretariat", {"input": {
            "id": gid(workstream), "targetValue": "1000000",
        }}),
        "RegisterOrganisation": ("secretariat", {"input": {
            "name": "Learning Foundation", "organisationType": "60", "country": "US",
        }}),
        "AdmitMember": ("secretariat", {"input": {
            "coalitionId": gid(coalition), "organisationId": gid(newcomer),
            "workstreamIds": [gid(workstream)],
        }}),
        "UpdateMembership": ("secretariat", {"input": {
            "id": gid(receiver_membership), "role": "CHAMPION",
        }}),
        "CancelCommitment": ("secretariat", {"input": close("cancel")}),
        "PublishFxRate": ("secretariat", {"input": {
            "currency": "EUR", "rateDate": today, "usdPerUnit": "1.08", "source": "ECB",
        }}),
        "AuditTrail": ("secretariat", {"entityId": gid(committed)}),
        "ApiTokens": ("secretariat", {"organisationId": gid(partner)}),
        "CoalitionDashboard": ("partner", {"slug": coalition.slug, "to": today}),
        "CoalitionBreakdowns": ("partner", {"slug": coalition.slug}),
        "PortfolioDashboard": ("secretariat", {}),
        "PortfolioBreakdowns": ("secretariat", {"to": today}),
    }  # fmt: skip
    return {name: (tokens[who], variables) for name, (who, variables) in calls.items()}


def outcome(body: dict[str, Any]) -> Any:
    if "errors" in body:
        return body["errors"]
    [value] = body["data"].values()
    if isinstance(value, dict) and "__typename" in value:
        return value["__typename"]
    return "ok" if value else "empty"


async def test_every_operation_runs_without_errors(api, session):
    calls = await given_a_portal(session)

    outcomes = {}
    for path in DOCUMENTS:
        if path.name not in EXPECTED:
            continue
        query = path.read_text(encoding="utf-8")
        outcomes[path.name] = {}
        for operation in operations_in(path):
            assert operation.name is not None
            name = operation.name.value
            token, variables = calls[name]
            response = await api.client.post(
                "/graphql",
                json={"query": query, "variables": variables, "operationName": name},
                headers={"Authorization": f"Bearer {token}"},
            )
            outcomes[path.name][name] = outcome(response.json())

    assert outcomes == EXPECTED
