"""Rate limits on /graphql and the exports: an ASGI middleware in front of everything else
there (the read lane included, which answers some requests itself), over HTTP and websockets.

Who pays for a request:

- an HTTP request with an `Authorization` header: its credential (the SHA-256 of the
  bearer secret or JWT, whatever the scheme's spelling), verified or not — the app
  verifies it later; a request carrying several is charged to each;
- an HTTP request without one: its client IP;
- a websocket handshake: its client IP, in a bucket of its own (the token comes later,
  in `connection_init`).

Failed authentications are throttled per IP: the middleware watches what the app sends,
and an HTTP 401 to a request that carried credentials, or a websocket closed with 4403
(`connection_init` refused), takes a token from the IP's auth-failure bucket. While that
bucket is empty, every request from the IP that carries credentials, and every websocket
handshake from it, is refused before the app sees it: random tokens cannot be tried
quickly, nor used as fresh principals to dodge the per-credential limit.

A refused request gets 429 with `Retry-After` (whole seconds, rounded up) and a GraphQL
error with code RATE_LIMITED and `retryAfter`; a refused handshake gets the same 429 as
the websocket denial response when the server supports it (uvicorn does), else it is
closed before being accepted.
"""

import hashlib
from dataclasses import dataclass

import orjson

from backend import errors
from backend.asgi import ASGIApp, Message, Receive, Scope, Send
from backend.config import Settings
from backend.graphql.token_buckets import (
    Decision,
    MemoryTokenBucket,
    Rate,
    RedisBuckets,
    TokenBucket,
)

CODE = errors.RATE_LIMITED
GRAPHQL_RESPONSE = b"application/graphql-response+json"
JSON = b"application/json"
# graphql-transport-ws: the server refused `connection_init` (a bad token).
REJECTED_INIT = 4403
# RFC 6455: the server refuses what the client does (a close before accept is a 403).
POLICY_VIOLATION = 1008
DENIAL = "websocket.http.response"


@dataclass
class Limits:
    """A process's buckets, one per kind of key."""

    anonymous: TokenBucket  # per client IP, requests without credentials
    principal: TokenBucket  # per credential
    handshakes: TokenBucket  # per client IP, websocket handshakes
    auth_failures: TokenBucket  # per client IP, 401s and 4403s
    redis: RedisBuckets | None = None

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.close()


def create_limits(settings: Settings) -> Limits | None:
    """None when rate limits are off; in Redis when processes share one, else in memory."""
    if not settings.rate_limits:
        return None
    rates = {
        "anonymous": Rate(
            settings.rate_limit_anonymous_per_minute, settings.rate_limit_anonymous_burst
        ),
        "principal": Rate(
            settings.rate_limit_principal_per_minute, settings.rate_limit_principal_burst
        ),
        # A minute's worth at once: a page opening a few sockets, a wall screen reconnecting.
        "handshake": Rate(
            settings.rate_limit_handshakes_per_minute, settings.rate_limit_handshakes_per_minute
        ),
        "auth-failure": Rate(
            settings.rate_limit_auth_failures_per_minute,
            settings.rate_limit_auth_failures_per_minute,
        ),
    }
    redis = None
    buckets: dict[str, TokenBucket]
    if settings.redis_url is None:
        buckets = {kind: MemoryTokenBucket(rate) for kind, rate in rates.items()}
    else:
        redis = RedisBuckets(settings.redis_url, prefix=settings.redis_prefix)
        buckets = {kind: redis.bucket(kind, rate) for kind, rate in rates.items()}
    return Limits(
        anonymous=buckets["anonymous"],
        principal=buckets["principal"],
        handshakes=buckets["handshake"],
        auth_failures=buckets["auth-failure"],
        redis=redis,
    )


class RateLimits:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: Limits,
        path: str = "/graphql",
        prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.limits = limits
        self.path = path
        # Other HTTP routes held to the same limits (the exports, each a long read).
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            scope["path"] == self.path or scope["path"].startswith(self.prefixes)
        ):
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket" and scope["path"] == self.path:
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        ip = client_ip(scope)
        credentials = _credentials(scope)
        if credentials:
            decision = await self.limits.auth_failures.take(ip, cost=0)
            for credential in credentials:
                if decision.allowed:
                    decision = await self.limits.principal.take(credential)
        else:
            decision = await self.limits.anonymous.take(ip)
        if not decision.allowed:
            await _refuse(send, "http.response", decision, _accept(scope))
            return

        async def watched(message: Message) -> None:
            # Counted before the client hears of it, so its next request finds it counted.
            if (
                credentials
                and message["type"] == "http.response.start"
                and message["status"] == 401
            ):
                await self.limits.auth_failures.take(ip)
            await send(message)

        await self.app(scope, receive, watched)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        ip = client_ip(scope)
        decision = await self.limits.auth_failures.take(ip, cost=0)
        if decision.allowed:
            decision = await self.limits.handshakes.take(ip)
        if not decision.allowed:
            connect = await receive()
            if connect["type"] != "websocket.connect":
                return  # the client went away
            if DENIAL in scope.get("extensions", {}):
                await _refuse(send, DENIAL, decision, _accept(scope))
            else:
                await send({"type": "websocket.close", "code": POLICY_VIOLATION})
            return

        async def watched(message: Message) -> None:
            if message["type"] == "websocket.close" and message.get("code") == REJECTED_INIT:
                await self.limits.auth_failures.take(ip)
            await send(message)

        await self.app(scope, receive, watched)


def client_ip(scope: Scope) -> str:
    """The peer's address, which uvicorn takes from X-Forwarded-For only when the proxy
    in front is trusted (`--forwarded-allow-ips`)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _credentials(scope: Scope) -> list[str]:
    """The SHA-256 of each distinct credential in the Authorization headers. Normalised as
    the app reads them (scheme in any case, spaces around the secret), so respelling one
    token does not make it a fresh principal. Several headers are each charged: the read
    lane and the GraphQL stack need not verify the same one."""
    found: list[str] = []
    for name, value in scope["headers"]:
        if name == b"authorization":
            secret = value.strip().partition(b" ")[2].strip()
            digest = hashlib.sha256(secret).hexdigest()
            if digest not in found:
                found.append(digest)
    return found


def _accept(scope: Scope) -> bytes:
    accept = b"".join(value for name, value in scope["headers"] if name == b"accept")
    return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else JSON


async def _refuse(send: Send, kind: str, decision: Decision, media: bytes) -> None:
    """429, as an HTTP response or a websocket denial response (`kind`)."""
    seconds = decision.retry_after_seconds
    error = {
        "message": f"Too many requests; try again in {seconds} s.",
        "extensions": {"code": CODE, "retryAfter": seconds},
    }
    body = orjson.dumps({"errors": [error]})
    await send(
        {
            "type": f"{kind}.start",
            "status": 429,
            "headers": [
                (b"content-type", media),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(seconds).encode()),
            ],
        }
    )
    await send({"type": f"{kind}.body", "body": body})
