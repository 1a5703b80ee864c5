"""GraphQL over HTTP: media types, GET for queries only, masking of unexpected errors."""

import logging

import httpx
import pytest

from backend.main import create_app
from backend.services import coalitions

VIEWER = "{ viewer { name } }"


async def test_graphql_response_media_type_is_used_when_asked_for(api):
    response = await api.client.post(
        "/graphql",
        json={"query": VIEWER},
        headers={"Accept": "application/graphql-response+json"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert response.json() == {"data": {"viewer": {"name": "anonymous"}}}


async def test_invalid_document_is_a_400_without_data_for_graphql_response_clients(api):
    response = await api.client.post(
        "/graphql",
        json={"query": "{ viewer { nickname } }"},
        headers={"Accept": "application/graphql-response+json"},
    )

    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["message"].startswith("Cannot query field 'nickname'")


async def test_an_operation_that_ran_is_a_200_with_its_data_entry_even_when_null(api):
    # `commitments` is non-null: the refused page size nulls the whole `data`, after
    # execution began, so the GraphQL-over-HTTP answer keeps `data` and is a 200.
    response = await api.client.post(
        "/graphql",
        json={"query": "{ commitments(first: 101) { totalCount } }"},
        headers={"Accept": "application/graphql-response+json"},
    )

    body = response.json()
    assert response.status_code == 200
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["INVALID_INPUT"]


async def test_plain_json_clients_keep_the_legacy_answer(api):
    response = await api.post("{ viewer { nickname } }")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"] is None


async def test_queries_work_over_get(api):
    response = await api.client.get("/graphql", params={"query": VIEWER})

    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": {"name": "anonymous"}}}


async def test_mutations_are_refused_over_get_with_405(api):
    mutation = 'mutation { revokeApiToken(input: {prefix: "hub_x"}) { __typename } }'

    response = await api.client.get("/graphql", params={"query": mutation})

    # GraphQL over HTTP: a mutation sent with GET MUST be refused with 405, not run.
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_anonymous_mutation_is_refused_whole_before_any_resolver(api):
    mutation = 'mutation { revokeApiToken(input: {prefix: "hub_x"}) { __typename } }'

    response = await api.post(mutation)

    body = response.json()
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(
    api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("connection string postgres://secret@db")

    monkeypatch.setattr(coalitions, "find", broken)

    with caplog.at_level(logging.ERROR, logger="backend.graphql"):
        response = await api.post('{ coalition(slug: "any") { name } }')

    error = response.json()["errors"][0]
    assert error["message"] == "Unexpected error."
    assert "secret" not in response.text
    assert error["extensions"]["code"] == "INTERNAL"
    request_id = error["extensions"]["requestId"]
    logged = [record for record in caplog.records if request_id in record.getMessage()]
    assert logged and logged[0].exc_info is not None


async def test_health_and_readiness(api):
    health = await api.client.get("/healthz")
    ready = await api.client.get("/readyz")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "database": "up"})


async def test_production_turns_off_graphiql_introspection_and_suggestions(settings, engine):
    # Ad-hoc documents allowed, so the introspection rule itself is what refuses.
    production_settings = {"env": "production", "trusted_documents_only": False}
    production = create_app(settings.model_copy(update=production_settings), engine=engine)
    transport = httpx.ASGITransport(app=production)

    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        ide = await client.get("/graphql", headers={"Accept": "text/html"})
        introspection = await client.post(
            "/graphql", json={"query": "{ __schema { types { name } } }"}
        )
        typo = await client.post("/graphql", json={"query": "{ viewer { nam } }"})

    assert ide.status_code == 404
    assert introspection.json()["data"] is None
    assert "introspection" in introspection.json()["errors"][0]["message"].lower()
    assert "Did you mean" not in typo.json()["errors"][0]["message"]
