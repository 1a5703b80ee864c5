"""A stand-in OpenID Connect identity provider: key pairs, their JWKS and discovery document
served over real HTTP on a loopback port, and tokens signed as the provider would sign them.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.servers import serve

AUDIENCE = "coalition-hub-portal"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    private: Any

    @classmethod
    def rsa(cls, kid: str) -> "SigningKey":
        return cls(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def ec(cls, kid: str) -> "SigningKey":
        return cls(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))

    def jwk(self) -> dict[str, Any]:
        family = RSAAlgorithm if self.algorithm == "RS256" else ECAlgorithm
        public: dict[str, Any] = family.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": self.algorithm}

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


# Made once: an RSA key pair takes a noticeable fraction of a second.
RSA_KEY = SigningKey.rsa("rsa-2026-11")
EC_KEY = SigningKey.ec("ec-2026-11")
ROTATED_KEY = SigningKey.rsa("rsa-2026-12")
# Never published: what a forger holds.
OUTSIDER_KEY = SigningKey.rsa("outsider")


@dataclass
class IdentityProvider:
    """Its JWKS lists `published`; `fetches` counts requests per document."""

    issuer: str
    published: list[SigningKey] = field(default_factory=lambda: [RSA_KEY, EC_KEY])
    fetches: Counter[str] = field(default_factory=Counter)
    # Seconds the JWKS takes to answer, so that concurrent requests overlap.
    delay: float = 0.0

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks"

    def claims(self, **changes: Any) -> dict[str, Any]:
        """A partner editor's claims, valid for five minutes; a change to None drops it."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "auth0|amina",
            "email": "amina@brightwave.example",
            "hub_organisation": "XM-BRIGHTWAVE",
            "hub_role": "PARTNER_EDITOR",
            "iat": now,
            "exp": now + 300,
            **changes,
        }
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, key: SigningKey = RSA_KEY, *, kid: str | None = "", **changes: Any) -> str:
        """Signed with `key`, its header naming `kid` (the key's own by default; None: none)."""
        headers = {"kid": key.kid if kid == "" else kid}
        if headers["kid"] is None:
            del headers["kid"]
        return jwt.encode(self.claims(**changes), key.private, key.algorithm, headers=headers)

    def unsigned_token(self, alg: str, secret: bytes = b"", **changes: Any) -> str:
        """A token PyJWT refuses to make: `alg: none`, or HMAC keyed with `secret`."""
        header = _segment({"alg": alg, "typ": "JWT", "kid": RSA_KEY.kid})
        signing_input = f"{header}.{_segment(self.claims(**changes))}"
        signature = b""
        if alg == "HS256":
            signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    def app(self) -> Starlette:
        async def discovery(_request: Request) -> JSONResponse:
            self.fetches["discovery"] += 1
            return JSONResponse({"issuer": self.issuer, "jwks_uri": self.jwks_url})

        async def jwks(_request: Request) -> JSONResponse:
            self.fetches["jwks"] += 1
            await asyncio.sleep(self.delay)
            return JSONResponse({"keys": [key.jwk() for key in self.published]})

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", discovery),
                Route("/jwks", jwks),
            ]
        )


@asynccontextmanager
async def identity_provider() -> AsyncIterator[IdentityProvider]:
    provider = IdentityProvider(issuer="")
    async with serve(provider.app()) as server:
        provider.issuer = server.http_url
        yield provider


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(document: dict[str, Any]) -> str:
    return _b64(json.dumps(document).encode())
