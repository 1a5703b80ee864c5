"""The read lane: once the stack has validated and planned a trusted document, the same
document is answered before the stack — byte for byte as the stack answers it, for every
kind of reader — and everything the lane cannot answer as the stack would goes through."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from strawberry import Schema

from backend import models
from backend.graphql.compiled import reads as compiled_reads
from backend.graphql.trusted_documents import TrustedDocuments
from backend.main import create_app
from tests.factories import (
    gid,
    make_coalition,
    make_commitment,
    make_membership,
    make_organisation,
    make_token,
)
from tests.graphql.test_compiled_reads import PORTAL


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The operations Strawberry executed (the stack, not the lane), by name."""
    executed: list[str | None] = []
    execute = Schema.execute

    async def counted(self: Schema, *args: Any, **kwargs: Any) -> Any:
        executed.append(kwargs.get("operation_name"))
        return await execute(self, *args, **kwargs)

    monkeypatch.setattr(Schema, "execute", counted)
    return executed


@pytest_asyncio.fixture(loop_scope="session")
async def client(settings: Any, engine: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"read_cache": False}), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client
    await compiled_reads.close(app.state.compiled_reads)


async def _post(
    client: httpx.AsyncClient, body: dict[str, Any], token: str | None = None, **headers: str
) -> httpx.Response:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await client.post("/graphql", json=body, headers=headers)


def _organisation(organisation: models.Organisation) -> dict[str, Any]:
    return {
        "query": PORTAL,
        "operationName": "Organisation",
        "variables": {"id": gid(organisation)},
    }


async def test_a_planned_document_is_answered_before_the_stack_as_the_stack_answers_it(
    client, session, executions
):
    coalition = await make_coalition(session)
    owner = await make_organisation(session, name="Owner")
    await make_membership(session, coalition, owner)
    await make_commitment(session, coalition, owner, title="Public radio lessons")
    await make_commitment(
        session, coalition, owner, title="Members only", visibility=models.Visibility.MEMBERS
    )
    readers = {
        "anonymous": None,
        "owner": await make_token(session, models.Role.PARTNER_VIEWER, owner),
        "secretariat": await make_token(session, models.Role.SECRETARIAT_ANALYST),
    }
    body = _organisation(owner)
    # A body with `extensions` always goes through the stack (the lane leaves it alone).
    stack = {
        name: await _post(client, {**body, "extensions": {}}, t) for name, t in readers.items()
    }
    lane = {name: await _post(client, body, token) for name, token in readers.items()}
    media = await _post(client, body, readers["owner"], Accept="application/graphql-response+json")

    assert executions == ["Organisation"] * 3  # the stack's three reads; none of the lane's
    for name, response in lane.items():
        assert response.status_code == 200
        assert response.content == stack[name].content, name
        assert response.headers["content-type"] == stack[name].headers["content-type"]
    assert media.content == stack["owner"].content
    assert media.headers["content-type"] == "application/graphql-response+json"
    titles = {
        name: {c["title"] for c in response.json()["data"]["organisation"]["commitments"]}
        for name, response in lane.items()
    }
    assert titles["anonymous"] == {"Public radio lessons"}
    assert titles["owner"] == titles["secretariat"] == {"Public radio lessons", "Members only"}


async def test_what_the_lane_cannot_answer_as_the_stack_would_goes_through_it(
    client, session, executions
):
    organisation = await make_organisation(session)
    token = await make_token(session, models.Role.PARTNER_VIEWER, organisation)
    body = _organisation(organisation)
    planned = await _post(client, body)
    assert planned.status_code == 200 and planned.json()["data"]["organisation"]
    executions.clear()

    bad_variables = await _post(client, {**body, "variables": {"id": True}})
    missing_variables = await _post(client, {**body, "variables": None})
    unknown_token = await _post(client, body, "hub_not-a-token")
    malformed_header = await client.post("/graphql", json=body, headers={"Authorization": "x"})
    with_extensions = await _post(client, {**body, "extensions": {"tracing": True}})
    as_text = await client.post(
        "/graphql", content=PORTAL, headers={"Content-Type": "application/graphql"}
    )
    with_token = await _post(client, body, token)

    assert bad_variables.status_code == 200 and bad_variables.json()["data"] is None
    assert "Variable '$id'" in bad_variables.json()["errors"][0]["message"]
    assert "to be provided" in missing_variables.json()["errors"][0]["message"]
    assert unknown_token.status_code == malformed_header.status_code == 401
    assert with_extensions.json() == planned.json()
    assert as_text.status_code == 400
    # The stack executed the two with bad variables and the one with `extensions`; it
    # refused the bad tokens (401) and the body that is not JSON (400) before executing;
    # the lane answered the token's read.
    assert executions == ["Organisation"] * 3
    assert with_token.json() == planned.json()


async def test_a_trusted_document_sent_by_id_is_answered_by_the_lane_once_planned(
    client, session, executions
):
    organisation = await make_organisation(session)
    document = {d.name: d for d in TrustedDocuments().documents}["Organisation"]
    body = {"documentId": document.id, "variables": {"id": gid(organisation)}}

    first = await _post(client, body)
    second = await _post(client, body)
    by_text = await _post(client, _organisation(organisation))

    # The stack ran the id's first request (no operationName sent) and the file's text.
    assert executions == [None, "Organisation"]
    assert first.content == second.content == by_text.content
    assert first.json()["data"]["organisation"]["name"] == organisation.name
