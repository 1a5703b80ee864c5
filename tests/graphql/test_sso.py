"""Single sign-on: an identity provider's JWTs as bearer tokens, over HTTP, the read lane
and websockets, verified against its JWKS served from a real loopback server."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pydantic
import pytest
import pytest_asyncio
from strawberry import Schema

from backend import models
from backend.config import Settings
from backend.graphql.compiled import reads as compiled_reads
from backend.main import create_app
from tests.conftest import Api
from tests.factories import (
    gid,
    make_coalition,
    make_commitment,
    make_membership,
    make_organisation,
    make_token,
)
from tests.feed_client import feed_client, pledge
from tests.graphql.test_compiled_reads import PORTAL
from tests.identity_provider import (
    AUDIENCE,
    EC_KEY,
    OUTSIDER_KEY,
    ROTATED_KEY,
    RSA_KEY,
    IdentityProvider,
    identity_provider,
)
from tests.servers import free_port, serve

VIEWER = "{ viewer { name role organisation { name } memberCoalitionIds } }"
EDITOR = {
    "viewer": {
        "name": "amina@brightwave.example",
        "role": "PARTNER_EDITOR",
        "organisation": {"name": "Brightwave Telecom"},
        "memberCoalitionIds": [],
    }
}


def sso_settings(settings: Settings, provider: IdentityProvider, **changes: Any) -> Settings:
    return settings.model_copy(
        update={
            "oidc_issuer": provider.issuer,
            "oidc_audience": AUDIENCE,
            "oidc_jwks_url": provider.jwks_url,
            **changes,
        }
    )


@asynccontextmanager
async def hub(settings: Settings, engine: Any) -> AsyncIterator[Api]:
    """A hub of its own (so a JWKS cache of its own), over ASGI."""
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield Api(client)
    await compiled_reads.close(app.state.compiled_reads)


@pytest_asyncio.fixture(loop_scope="session")
async def provider() -> AsyncIterator[IdentityProvider]:
    async with identity_provider() as provider:
        yield provider


@pytest_asyncio.fixture(loop_scope="session")
async def sso(settings: Settings, engine: Any, provider: IdentityProvider) -> AsyncIterator[Api]:
    async with hub(sso_settings(settings, provider), engine) as api:
        yield api


@pytest_asyncio.fixture(loop_scope="session")
async def brightwave(session: Any) -> models.Organisation:
    return await make_organisation(
        session, name="Brightwave Telecom", iati_identifier="XM-BRIGHTWAVE"
    )


def refused(message: str) -> tuple[int, dict[str, Any]]:
    return 401, {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}


def answer(response: httpx.Response) -> tuple[int, dict[str, Any]]:
    return response.status_code, response.json()


async def test_a_partner_signs_in_with_an_rs256_token(sso, provider, session, brightwave):
    coalition = await make_coalition(session)
    await make_membership(session, coalition, brightwave)

    data = await sso(VIEWER, token=provider.token(RSA_KEY))

    assert data == {"viewer": {**EDITOR["viewer"], "memberCoalitionIds": [gid(coalition)]}}


async def test_the_secretariat_signs_in_with_an_es256_token_without_an_organisation(sso, provider):
    token = provider.token(
        EC_KEY,
        sub="auth0|sam",
        email="sam@secretariat.example",
        hub_organisation=None,
        hub_role="SECRETARIAT_ANALYST",
    )

    data = await sso(VIEWER, token=token)

    assert data == {
        "viewer": {
            "name": "sam@secretariat.example",
            "role": "SECRETARIAT_ANALYST",
            "organisation": None,
            "memberCoalitionIds": [],
        }
    }


async def test_the_name_is_the_subject_without_the_name_claim(sso, provider, brightwave):
    data = await sso("{ viewer { name } }", token=provider.token(email=None))

    assert data == {"viewer": {"name": "auth0|amina"}}


async def test_clock_skew_within_the_leeway_is_tolerated(sso, provider, brightwave):
    now = provider.claims()["iat"]
    token = provider.token(exp=now - 10, nbf=now + 10, iat=now + 10)

    data = await sso(VIEWER, token=token)

    assert data == EDITOR


async def test_a_signed_in_editor_pledges_and_the_audit_trail_names_them(
    sso, provider, session, brightwave
):
    coalition = await make_coalition(session)
    await make_membership(session, coalition, brightwave)
    analyst = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    pledge_input = {
        "coalitionId": gid(coalition),
        "title": "Data bundles for learners",
        "resourceKind": "FINANCIAL",
        "amount": "25000",
        "currency": "USD",
    }
    mutation = """
    mutation ($input: PledgeCommitmentInput!) {
      pledgeCommitment(input: $input) { __typename ... on Commitment { id title } }
    }
    """
    trail = """
    query ($id: ID!) {
      auditTrail(entityId: $id) { actorName actorRole actorOrganisationId action }
    }
    """

    pledged = (await sso(mutation, {"input": pledge_input}, token=provider.token()))[
        "pledgeCommitment"
    ]
    records = await sso(trail, {"id": pledged["id"]}, token=analyst)

    assert pledged == {
        "__typename": "Commitment",
        "id": pledged["id"],
        "title": pledge_input["title"],
    }
    assert records == {
        "auditTrail": [
            {
                "actorName": "amina@brightwave.example",
                "actorRole": "PARTNER_EDITOR",
                "actorOrganisationId": gid(brightwave),
                "action": "commitment.pledged",
            }
        ]
    }


async def test_whoever_reported_a_delivery_through_sso_cannot_confirm_it(sso, provider, session):
    coalition = await make_coalition(session)
    partner = await make_organisation(session)
    await make_membership(session, coalition, partner)
    commitment = await make_commitment(session, coalition, partner, stage=models.Stage.COMMITTED)
    secretariat = {"hub_organisation": None, "hub_role": "SECRETARIAT_ADMIN"}
    reporter = provider.token(sub="auth0|sam", email="sam@secretariat.example", **secretariat)
    colleague = provider.token(sub="auth0|lea", email="lea@secretariat.example", **secretariat)
    report = """
    mutation ($input: ReportDeliveryInput!) {
      reportDelivery(input: $input) { __typename ... on Delivery { id status } }
    }
    """
    confirm = """
    mutation ($id: ID!) {
      confirmDelivery(input: {id: $id}) {
        __typename ... on Delivery { status } ... on Error { code message }
      }
    }
    """
    delivery_input = {
        "commitmentId": gid(commitment),
        "deliveredOn": "2026-01-15",
        "amount": "1000",
        "currency": "USD",
    }

    reported = (await sso(report, {"input": delivery_input}, token=reporter))["reportDelivery"]
    by_reporter = await sso(confirm, {"id": reported["id"]}, token=reporter)
    by_colleague = await sso(confirm, {"id": reported["id"]}, token=colleague)

    assert reported["status"] == "REPORTED"
    assert by_reporter == {
        "confirmDelivery": {
            "__typename": "PermissionDenied",
            "code": "PERMISSION_DENIED",
            "message": "Whoever reported a delivery cannot review it.",
        }
    }
    assert by_colleague == {"confirmDelivery": {"__typename": "Delivery", "status": "CONFIRMED"}}


REFUSALS = {
    "another issuer": (
        lambda p: p.token(iss="https://login.example"),
        "The token was issued by another issuer.",
    ),
    "another audience": (
        lambda p: p.token(aud="another-application"),
        "The token was issued for another audience.",
    ),
    "expired": (
        lambda p: p.token(exp=p.claims()["iat"] - 120),
        "The token has expired.",
    ),
    "nbf ahead": (
        lambda p: p.token(nbf=p.claims()["iat"] + 120),
        "The token is not valid yet (`nbf` or `iat` is ahead).",
    ),
    "iat ahead": (
        lambda p: p.token(iat=p.claims()["iat"] + 120),
        "The token is not valid yet (`nbf` or `iat` is ahead).",
    ),
    "alg none": (
        lambda p: p.unsigned_token("none"),
        "The token's algorithm is not accepted (RS256 or ES256).",
    ),
    "HS256 keyed with the public key": (
        lambda p: p.unsigned_token("HS256", secret=RSA_KEY.public_pem()),
        "The token's algorithm is not accepted (RS256 or ES256).",
    ),
    "ES256 naming the RSA key": (
        lambda p: p.token(EC_KEY, kid=RSA_KEY.kid),
        "The token's algorithm is not the one of its signing key.",
    ),
    "RS256 naming the EC key": (
        lambda p: p.token(RSA_KEY, kid=EC_KEY.kid),
        "The token's algorithm is not the one of its signing key.",
    ),
    "signed by a key not in the JWKS": (
        lambda p: p.token(OUTSIDER_KEY, kid=RSA_KEY.kid),
        "The token's signature does not verify.",
    ),
    "no kid": (lambda p: p.token(kid=None), "The token names no signing key (kid)."),
    "no sub": (lambda p: p.token(sub=None), "The token has no `sub` claim."),
    "no exp": (lambda p: p.token(exp=None), "The token has no `exp` claim."),
    "not a JWT": (lambda p: "abc.def.ghi", "The bearer token is not a well-formed JWT."),
    "unknown organisation": (
        lambda p: p.token(hub_organisation="XM-NOWHERE"),
        "No organisation has the IATI identifier 'XM-NOWHERE'.",
    ),
    "unknown role": (
        lambda p: p.token(hub_role="EDITOR"),
        "The token's role 'EDITOR' is not a hub role.",
    ),
    "no role": (lambda p: p.token(hub_role=None), "The token carries no hub role."),
    "several roles": (
        lambda p: p.token(hub_role=["PARTNER_EDITOR"]),
        "The token's `hub_role` claim must be a single string.",
    ),
    "partner role without organisation": (
        lambda p: p.token(hub_organisation=None),
        "A partner role needs the organisation's IATI identifier.",
    ),
    "secretariat role with an organisation": (
        lambda p: p.token(hub_role="SECRETARIAT_ADMIN"),
        "A secretariat role belongs to no organisation.",
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
async def test_a_token_the_hub_cannot_trust_is_refused_with_401(sso, provider, brightwave, case):
    make, message = REFUSALS[case]

    response = await sso.post(VIEWER, token=make(provider))

    assert answer(response) == refused(message)


async def test_a_rotated_key_is_accepted_after_one_refetch(sso, provider, brightwave):
    before = await sso(VIEWER, token=provider.token(RSA_KEY))
    provider.published.append(ROTATED_KEY)

    after = await sso(VIEWER, token=provider.token(ROTATED_KEY))

    assert before == after == EDITOR
    assert provider.fetches == {"jwks": 2}


async def test_unknown_kids_refetch_at_most_once_per_refresh_interval(sso, provider, brightwave):
    await sso(VIEWER, token=provider.token(RSA_KEY))

    first = await sso.post(VIEWER, token=provider.token(OUTSIDER_KEY))
    fetches_after_first = provider.fetches["jwks"]
    second = await sso.post(VIEWER, token=provider.token(OUTSIDER_KEY, kid="random-kid"))
    known = await sso(VIEWER, token=provider.token(RSA_KEY))

    unknown = refused("The token's signing key (kid) is not one of the issuer's keys.")
    assert answer(first) == answer(second) == unknown
    assert fetches_after_first == 2
    assert provider.fetches == {"jwks": 2}
    assert known == EDITOR


async def test_concurrent_sign_ins_share_one_fetch_of_the_keys(sso, provider, brightwave):
    provider.delay = 0.2
    tokens = [provider.token(RSA_KEY), provider.token(EC_KEY)] * 5

    answers = await asyncio.gather(*(sso(VIEWER, token=token) for token in tokens))

    assert answers == [EDITOR] * 10
    assert provider.fetches == {"jwks": 1}


async def test_the_issuer_s_keys_are_found_through_discovery(
    settings, engine, provider, brightwave
):
    discovering = sso_settings(settings, provider, oidc_jwks_url=None)

    async with hub(discovering, engine) as api:
        first = await api(VIEWER, token=provider.token(RSA_KEY))
        second = await api(VIEWER, token=provider.token(EC_KEY))

    assert first == second == EDITOR
    assert provider.fetches == {"discovery": 1, "jwks": 1}


async def test_an_unreachable_identity_provider_refuses_sign_ins_not_api_tokens(
    settings, engine, provider, session, brightwave, caplog
):
    down = sso_settings(settings, provider, oidc_jwks_url=f"http://127.0.0.1:{free_port()}/jwks")
    analyst = await make_token(session, models.Role.SECRETARIAT_ANALYST, name="Robot")

    with caplog.at_level(logging.WARNING, logger="backend.oidc"):
        async with hub(down, engine) as api:
            response = await api.post(VIEWER, token=provider.token())
            by_token = await api("{ viewer { name } }", token=analyst)

    assert answer(response) == refused("The identity provider's signing keys are unavailable.")
    assert by_token == {"viewer": {"name": "Robot"}}
    assert "the issuer's keys are unavailable" in caplog.text


async def test_without_an_issuer_a_jwt_is_an_unknown_api_token(api, provider, brightwave):
    response = await api.post(VIEWER, token=provider.token())

    assert answer(response) == refused("The API token is unknown, expired or revoked.")
    assert provider.fetches == {}


def test_an_issuer_needs_an_audience():
    with pytest.raises(pydantic.ValidationError, match="HUB_OIDC_AUDIENCE is required"):
        Settings(oidc_issuer="https://login.example")


async def test_the_read_lane_signs_in_with_a_jwt(sso, provider, brightwave, monkeypatch):
    executed: list[str | None] = []
    execute = Schema.execute

    async def counted(self: Schema, *args: Any, **kwargs: Any) -> Any:
        executed.append(kwargs.get("operation_name"))
        return await execute(self, *args, **kwargs)

    monkeypatch.setattr(Schema, "execute", counted)
    body = {"query": PORTAL, "operationName": "Viewer"}
    headers = {"Authorization": f"Bearer {provider.token(EC_KEY)}"}

    by_stack = await sso.client.post("/graphql", json=body, headers=headers)
    by_lane = await sso.client.post("/graphql", json=body, headers=headers)

    assert executed == ["Viewer"]  # the first; the second never reached the stack
    assert by_lane.status_code == 200
    assert by_lane.content == by_stack.content
    viewer = by_lane.json()["data"]["viewer"]
    assert (viewer["name"], viewer["role"]) == ("amina@brightwave.example", "PARTNER_EDITOR")
    assert viewer["organisation"]["name"] == "Brightwave Telecom"


async def test_a_websocket_signs_in_with_a_jwt_in_connection_init(
    settings, engine, provider, session, brightwave
):
    fast = sso_settings(settings, provider, relay_interval=0.2, ws_init_timeout=2.0)
    coalition = await make_coalition(session)
    await make_membership(session, coalition, brightwave)
    editor = await make_token(session, models.Role.PARTNER_EDITOR, brightwave)
    secretariat = provider.token(
        EC_KEY, hub_organisation=None, hub_role="SECRETARIAT_ANALYST", email="sam@example.org"
    )

    async with serve(create_app(fast, engine=engine)) as server:
        async with feed_client(server.ws_url) as feed:
            ack = await feed.init(secretariat)
            await feed.subscribe(coalitionId=gid(coalition), types=["COMMITMENT_PLEDGED"])
            await pledge(server, coalition, editor, visibility="CONFIDENTIAL")
            item = await feed.next_item()
        async with feed_client(server.ws_url) as feed:
            forged = provider.token(OUTSIDER_KEY, kid=RSA_KEY.kid)
            await feed.send(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {forged}"}}
            )
            rejected = await feed.closed_with()

    assert ack == {"type": "connection_ack"}
    # Confidential amounts reach the secretariat only: the JWT's actor is the subscriber.
    assert item["commitment"]["amount"] == "25000"
    assert rejected == 4403
