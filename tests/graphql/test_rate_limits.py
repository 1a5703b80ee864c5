"""Rate limits: the middleware in front of /graphql, over HTTP (through the app over ASGI)
and websockets (a live uvicorn server).

Limits here are a few requests a minute, so what refills during a test is a fraction of a
token: the outcomes never depend on how long a test takes.
"""

import json
from typing import Any

import httpx
from websockets.exceptions import InvalidStatus

from backend import models
from backend.config import Settings
from backend.graphql import rate_limits
from backend.graphql.compiled import reads as compiled_reads
from backend.graphql.token_buckets import MemoryTokenBucket, Rate, RedisTokenBucket
from backend.main import create_app
from tests.factories import gid, make_coalition, make_token
from tests.feed_client import feed_client
from tests.graphql.test_compiled_reads import PORTAL
from tests.servers import serve

TYPENAME = {"query": "{ __typename }"}


def refusal(seconds: int) -> dict[str, Any]:
    """The body of a 429: `seconds` is the Retry-After header's value."""
    message = f"Too many requests; try again in {seconds} s."
    return {
        "errors": [
            {"message": message, "extensions": {"code": "RATE_LIMITED", "retryAfter": seconds}}
        ]
    }


def _limited(settings: Any, **rates: int) -> Any:
    """The suite's settings with rate limits on: a few a minute of each, unless given."""
    defaults = {
        "rate_limit_anonymous_per_minute": 3,
        "rate_limit_anonymous_burst": 3,
        "rate_limit_principal_per_minute": 3,
        "rate_limit_principal_burst": 3,
        "rate_limit_handshakes_per_minute": 3,
        "rate_limit_auth_failures_per_minute": 3,
    }
    update = {"rate_limits": True, **defaults, **{f"rate_limit_{k}": v for k, v in rates.items()}}
    return settings.model_copy(update=update)


def _client(app: Any, ip: str = "198.51.100.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://hub.test")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_settings_choose_the_buckets(redis_url):
    off = rate_limits.create_limits(Settings(rate_limits=False))
    memory = rate_limits.create_limits(Settings(rate_limits=True, redis_url=None))
    redis = rate_limits.create_limits(Settings(rate_limits=True, redis_url=redis_url))

    assert off is None
    assert memory is not None and redis is not None
    assert isinstance(memory.anonymous, MemoryTokenBucket) and memory.redis is None
    assert isinstance(redis.anonymous, RedisTokenBucket) and redis.redis is not None
    assert redis.auth_failures.rate == Rate(per_minute=10, burst=10)
    await redis.close()


async def test_an_anonymous_ip_over_its_limit_gets_429_with_retry_after(settings, engine):
    app = create_app(_limited(settings), engine=engine)

    async with _client(app) as client, _client(app, "203.0.113.7") as neighbour:
        allowed = [(await client.post("/graphql", json=TYPENAME)).status_code for _ in range(3)]
        refused = await client.post("/graphql", json=TYPENAME)
        refused_graphql = await client.post(
            "/graphql", json=TYPENAME, headers={"Accept": "application/graphql-response+json"}
        )
        other_ip = await neighbour.post("/graphql", json=TYPENAME)
        elsewhere = await client.get("/healthz")

    assert allowed == [200, 200, 200]
    assert refused.status_code == 429
    seconds = int(refused.headers["retry-after"])
    assert 1 <= seconds <= 20  # one request back at 3 a minute
    assert refused.headers["content-type"] == "application/json"
    assert refused.json() == refusal(seconds)
    assert refused_graphql.headers["content-type"] == "application/graphql-response+json"
    assert refused_graphql.json() == refused.json()
    assert other_ip.json() == {"data": {"__typename": "Query"}}
    assert elsewhere.status_code == 200  # only /graphql is limited


async def test_a_principal_has_a_budget_of_its_own_wherever_it_comes_from(
    settings, engine, session
):
    token = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    other_token = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    app = create_app(_limited(settings, anonymous_burst=1, principal_burst=3), engine=engine)

    async with _client(app) as client, _client(app, "203.0.113.7") as elsewhere:
        anonymous = [(await client.post("/graphql", json=TYPENAME)).status_code for _ in range(2)]
        signed_in = [
            (await client.post("/graphql", json=TYPENAME, headers=_bearer(token))).status_code
            for _ in range(2)
        ]
        # Respelt (scheme case, spaces), from another address: still the same credential.
        respelt = {"Authorization": f"bearer   {token} "}
        moved = await elsewhere.post("/graphql", json=TYPENAME, headers=respelt)
        spent = await client.post("/graphql", json=TYPENAME, headers=_bearer(token))
        other = await client.post("/graphql", json=TYPENAME, headers=_bearer(other_token))

    assert anonymous == [200, 429]
    assert signed_in == [200, 200]
    assert (moved.status_code, spent.status_code, other.status_code) == (200, 429, 200)
    assert spent.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_requests_the_read_lane_answers_are_limited_too(settings, engine, session):
    coalition = await make_coalition(session)
    app = create_app(
        _limited(settings, anonymous_burst=2).model_copy(update={"read_cache": True}), engine=engine
    )
    variables = {"slug": coalition.slug, "coalitionId": gid(coalition)}
    page = {"query": PORTAL, "operationName": "CoalitionPage", "variables": variables}

    async with _client(app) as client:
        statuses = [(await client.post("/graphql", json=page)).status_code for _ in range(3)]
    await compiled_reads.close(app.state.compiled_reads)

    assert statuses == [200, 200, 429]
    # Only the first went through the stack: the second was answered by the lane.
    assert app.state.compiled_reads.answered["CoalitionPage"] == 1


async def test_after_repeated_401s_even_a_valid_token_from_that_ip_is_refused(
    settings, engine, session
):
    token = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    app = create_app(
        _limited(settings, auth_failures_per_minute=2, principal_burst=10), engine=engine
    )

    async with _client(app) as client, _client(app, "203.0.113.7") as elsewhere:
        guesses = [
            (await client.post("/graphql", json=TYPENAME, headers=_bearer(f"hub_guess{n}")))
            for n in range(2)
        ]
        valid = await client.post("/graphql", json=TYPENAME, headers=_bearer(token))
        anonymous = await client.post("/graphql", json=TYPENAME)
        from_elsewhere = await elsewhere.post("/graphql", json=TYPENAME, headers=_bearer(token))

    assert [guess.status_code for guess in guesses] == [401, 401]
    assert guesses[0].json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert valid.status_code == 429
    assert valid.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert anonymous.status_code == 200  # without credentials it guesses nothing
    assert from_elsewhere.status_code == 200


async def _handshake(url: str) -> dict[str, Any]:
    """connection_init's answer; the HTTP status, Retry-After and body of a refusal."""
    try:
        async with feed_client(url) as feed:
            return await feed.init()
    except InvalidStatus as refused:
        response = refused.response
        return {
            "status": response.status_code,
            "retry-after": int(response.headers["Retry-After"]),
            "body": json.loads(response.body),
            "content-type": response.headers["Content-Type"],
        }


async def test_websocket_handshakes_over_the_limit_are_refused_with_429(settings, engine):
    limited = _limited(settings, handshakes_per_minute=2).model_copy(
        update={"ws_init_timeout": 2.0}
    )

    async with serve(create_app(limited, engine=engine)) as server:
        answers = [await _handshake(server.ws_url) for _ in range(3)]

    assert answers[:2] == [{"type": "connection_ack"}] * 2
    seconds = answers[2]["retry-after"]
    assert 1 <= seconds <= 30  # one handshake back at 2 a minute
    assert answers[2] == {
        "status": 429,
        "retry-after": seconds,
        "body": refusal(seconds),
        "content-type": "application/json",
    }


async def test_after_repeated_rejected_connection_inits_the_next_handshake_is_refused(
    settings, engine
):
    limited = _limited(settings, handshakes_per_minute=10, auth_failures_per_minute=2)

    async with serve(create_app(limited, engine=engine)) as server:
        codes = []
        for n in range(2):
            async with feed_client(server.ws_url) as feed:
                payload = {"authorization": f"Bearer hub_guess{n}"}
                await feed.send({"type": "connection_init", "payload": payload})
                codes.append(await feed.closed_with())
        refused = await _handshake(server.ws_url)

    assert codes == [4403, 4403]
    assert refused["status"] == 429
    assert refused["body"] == refusal(refused["retry-after"])


async def test_a_server_without_denial_responses_closes_a_refused_handshake():
    limits = rate_limits.create_limits(
        Settings(rate_limits=True, rate_limit_handshakes_per_minute=1)
    )
    assert limits is not None
    reached = []

    async def hub(scope: Any, receive: Any, send: Any) -> None:
        reached.append(await receive())
        await send({"type": "websocket.accept", "subprotocol": "graphql-transport-ws"})

    # An ASGI server that does not offer the websocket.http.response extension.
    scope = {"type": "websocket", "path": "/graphql", "headers": [], "client": ("198.51.100.1", 1)}
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    for _ in range(2):
        await rate_limits.RateLimits(hub, limits=limits)(scope, receive, send)

    assert reached == [{"type": "websocket.connect"}]
    assert sent == [
        {"type": "websocket.accept", "subprotocol": "graphql-transport-ws"},
        {"type": "websocket.close", "code": 1008},
    ]
