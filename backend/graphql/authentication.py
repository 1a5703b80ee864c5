"""Who is asking: the bearer token of a request (or of a websocket's `connection_init`).

One `Authenticator` serves HTTP, the read lane and websockets alike, so a token is
accepted or refused the same way whichever path a request takes.
"""

import re

from starlette.requests import HTTPConnection

from backend import oidc
from backend.actors import ANONYMOUS, Actor
from backend.db import SessionFactory
from backend.errors import Unauthenticated
from backend.services import sign_in, tokens

# Three base64url segments: a compact JWS (the signature may be empty, as in `alg: none`,
# which the verifier refuses with a clear message rather than "unknown API token").
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def bearer_secret(authorization: str | None) -> str | None:
    """The secret in `Bearer <secret>`; None without one; Unauthenticated when malformed."""
    if not authorization:
        return None
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("Use `Authorization: Bearer <token>`.")
    return secret.strip()


class CredentialsRejected(Exception):
    """A request carried a bearer token that is unknown, expired or revoked; the app
    answers 401 (backend.main)."""


def is_jwt(secret: str) -> bool:
    return not secret.startswith(tokens.TOKEN_PREFIX) and _JWT.fullmatch(secret) is not None


class Authenticator:
    """The actor behind an Authorization value: anonymous without one (no database read),
    Unauthenticated when it is malformed or its token unknown, expired, revoked — or, for
    an identity provider's JWT, not verified or not placeable in the hub.

    Without a verifier (single sign-on off) a JWT is just another unknown API token.
    """

    def __init__(self, session_factory: SessionFactory, *, verifier: oidc.Verifier | None) -> None:
        self.session_factory = session_factory
        self.verifier = verifier

    async def __call__(self, authorization: str | None) -> Actor:
        secret = bearer_secret(authorization)
        if secret is None:
            return ANONYMOUS
        if self.verifier is not None and is_jwt(secret):
            # Verified before any database read: a forged token costs no session.
            identity = self.verifier.identity(await self.verifier.verify(secret))
            async with self.session_factory() as session:
                return await sign_in.authenticate(
                    session,
                    subject=identity.subject,
                    name=identity.name,
                    role=identity.role,
                    organisation=identity.organisation,
                )
        async with self.session_factory() as session:
            return await tokens.authenticate(session, secret)

    async def of_request(self, connection: HTTPConnection) -> Actor:
        """The actor of an HTTP request's Authorization header; CredentialsRejected when it
        is refused."""
        try:
            return await self(connection.headers.get("authorization"))
        except Unauthenticated as error:
            raise CredentialsRejected(error.message) from error
