"""Single sign-on: OpenID Connect JWTs verified against the issuer's published keys (JWKS).

The algorithm is chosen by the key, never by the token: an RSA key verifies RS256 and a
P-256 key ES256, nothing else. So `alg: none`, HS256 "signed" with the public key as the
HMAC secret, and a token whose header names another algorithm than its key's are refused
before any signature is checked. Every refusal is `Unauthenticated`, including an identity
provider that does not answer: a sign-on that cannot be checked is a sign-on refused.
"""

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from backend.config import Settings
from backend.errors import Unauthenticated

log = logging.getLogger("backend.oidc")

# The one algorithm each kind of key verifies: (kty, crv) -> alg.
KEY_ALGORITHMS = {("RSA", None): "RS256", ("EC", "P-256"): "ES256"}
ALGORITHMS = frozenset(KEY_ALGORITHMS.values())
# The identity provider is asked at most this long; a request waits for it meanwhile.
FETCH_TIMEOUT = 5.0
DISCOVERY_PATH = "/.well-known/openid-configuration"


class _Unavailable(Exception):
    """The identity provider's keys could not be fetched or read."""


@dataclass(frozen=True)
class Identity:
    """Who a verified token names, read through the configured claim names."""

    subject: str
    name: str
    organisation: str | None
    role: str | None


class KeySet:
    """The issuer's signing keys by `kid`, fetched lazily and kept for `cache_seconds`.

    A `kid` not among them triggers one refetch (the issuer rotated its keys), but at most
    once per `min_refresh_seconds`; a failed fetch is not retried sooner either. Requests
    that need a fetch at the same time share one.
    """

    def __init__(
        self,
        *,
        issuer: str,
        jwks_url: str | None,
        cache_seconds: float,
        min_refresh_seconds: float,
    ) -> None:
        self.issuer = issuer
        self.jwks_url = jwks_url
        self.cache_seconds = cache_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        # The keys are fetched again from then on (at once: nothing is fetched yet).
        self._stale_at = -math.inf
        # An unknown kid may trigger a fetch from then on.
        self._kid_refresh_at = -math.inf
        self._discovered_url: str | None = None
        self._fetches = 0
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK:
        if time.monotonic() >= self._stale_at:
            await self._refresh()
        key = self._keys.get(kid)
        if key is None and time.monotonic() >= self._kid_refresh_at:
            await self._refresh(for_unknown_kid=True)
            key = self._keys.get(kid)
        if key is not None:
            return key
        if not self._keys:
            raise Unauthenticated("The identity provider's signing keys are unavailable.")
        raise Unauthenticated("The token's signing key (kid) is not one of the issuer's keys.")

    async def _refresh(self, *, for_unknown_kid: bool = False) -> None:
        # Counted when a fetch ends (not when it starts, nor when it is cancelled), so a
        # request that waited for the lock knows whether one ended meanwhile.
        fetches = self._fetches
        async with self._lock:
            if self._fetches != fetches:
                return  # fetched while this request waited: use that
            if for_unknown_kid:
                self._kid_refresh_at = time.monotonic() + self.min_refresh_seconds
            try:
                keys = await self._fetch()
            except _Unavailable as error:
                # The keys held so far (if any) stay in use until a fetch succeeds.
                log.warning("single sign-on: the issuer's keys are unavailable: %s", error)
                self._stale_at = time.monotonic() + self.min_refresh_seconds
                self._discovered_url = None
            else:
                self._keys = keys
                self._stale_at = time.monotonic() + self.cache_seconds
            self._fetches += 1

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT) as client:
            url = self.jwks_url or self._discovered_url or await self._discover(client)
            document = await _get_json(client, url)
        keys = document.get("keys")
        if not isinstance(keys, list):
            raise _Unavailable(f"{url} holds no `keys` list")
        usable = {}
        for data in keys:
            key = _usable_key(data)
            if key is not None:
                usable[data["kid"]] = key
        if not usable:
            raise _Unavailable(f"{url} holds no RS256 or ES256 signing key")
        return usable

    async def _discover(self, client: httpx.AsyncClient) -> str:
        # OpenID Connect Discovery 1.0, section 4: the path is appended without the
        # issuer's trailing slash, and the document must name the same issuer.
        document = await _get_json(client, self.issuer.rstrip("/") + DISCOVERY_PATH)
        if document.get("issuer") != self.issuer:
            raise _Unavailable(f"the discovery document names another issuer: {document!r}")
        url = document.get("jwks_uri")
        if not isinstance(url, str):
            raise _Unavailable("the discovery document has no `jwks_uri`")
        self._discovered_url = url
        return url


def _usable_key(data: Any) -> jwt.PyJWK | None:
    """The key, set to its one algorithm; None for keys the hub never verifies with."""
    if not isinstance(data, dict) or not isinstance(data.get("kid"), str):
        return None
    kty, crv = data.get("kty"), data.get("crv")
    if not isinstance(kty, str) or not isinstance(crv, str | None):
        return None
    algorithm = KEY_ALGORITHMS.get((kty, crv))
    if algorithm is None or data.get("use", "sig") != "sig":
        return None
    if data.get("alg", algorithm) != algorithm:
        return None
    try:
        return jwt.PyJWK(data, algorithm=algorithm)
    except jwt.PyJWKError:
        log.warning("single sign-on: ignoring a malformed key %r", data.get("kid"))
        return None


async def _get_json(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    try:
        response = await client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as error:
        raise _Unavailable(f"{url}: {error!r}") from error
    if not isinstance(document, dict):
        raise _Unavailable(f"{url} is not a JSON object")
    return document


# The messages of PyJWT's refusals, in the order its exceptions are tried (subclasses first).
_REFUSALS: tuple[tuple[type[jwt.InvalidTokenError], str], ...] = (
    (jwt.ExpiredSignatureError, "The token has expired."),
    (jwt.ImmatureSignatureError, "The token is not valid yet (`nbf` or `iat` is ahead)."),
    (jwt.InvalidIssuerError, "The token was issued by another issuer."),
    (jwt.InvalidAudienceError, "The token was issued for another audience."),
    (jwt.InvalidSignatureError, "The token's signature does not verify."),
    (jwt.InvalidAlgorithmError, "The token's algorithm is not accepted."),
)


class Verifier:
    def __init__(
        self,
        keys: KeySet,
        *,
        audience: str,
        leeway_seconds: float,
        organisation_claim: str,
        role_claim: str,
        name_claim: str,
    ) -> None:
        self.keys = keys
        self.issuer = keys.issuer
        self.audience = audience
        self.leeway_seconds = leeway_seconds
        self.organisation_claim = organisation_claim
        self.role_claim = role_claim
        self.name_claim = name_claim

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims once its signature, issuer, audience and times check out."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise Unauthenticated("The bearer token is not a well-formed JWT.") from error
        algorithm, kid = header.get("alg"), header.get("kid")
        # Before the keys are looked at: a refused algorithm costs no fetch.
        if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
            raise Unauthenticated("The token's algorithm is not accepted (RS256 or ES256).")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("The token names no signing key (kid).")
        key = await self.keys.key(kid)
        if key.algorithm_name != algorithm:
            raise Unauthenticated("The token's algorithm is not the one of its signing key.")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.MissingRequiredClaimError as error:
            raise Unauthenticated(f"The token has no `{error.claim}` claim.") from error
        except jwt.InvalidTokenError as error:
            message = next(
                (text for kind, text in _REFUSALS if isinstance(error, kind)),
                f"The token is invalid: {error}",
            )
            raise Unauthenticated(message) from error
        if not claims["sub"]:
            raise Unauthenticated("The token has an empty `sub` claim.")
        return claims

    def identity(self, claims: dict[str, Any]) -> Identity:
        """Who verified claims name; a claim of the wrong type is refused, not guessed at."""
        name = claims.get(self.name_claim)
        return Identity(
            subject=claims["sub"],
            name=name if isinstance(name, str) and name.strip() else claims["sub"],
            organisation=self._text(claims, self.organisation_claim),
            role=self._text(claims, self.role_claim),
        )

    @staticmethod
    def _text(claims: dict[str, Any], claim: str) -> str | None:
        value = claims.get(claim)
        if value is not None and not isinstance(value, str):
            raise Unauthenticated(f"The token's `{claim}` claim must be a single string.")
        return value or None


def verifier(settings: Settings) -> Verifier | None:
    """The settings' verifier; None when single sign-on is off."""
    if not settings.oidc_issuer:
        return None
    assert settings.oidc_audience is not None  # Settings requires it with an issuer
    keys = KeySet(
        issuer=settings.oidc_issuer,
        jwks_url=settings.oidc_jwks_url,
        cache_seconds=settings.oidc_jwks_cache_seconds,
        min_refresh_seconds=settings.oidc_jwks_min_refresh_seconds,
    )
    return Verifier(
        keys,
        audience=settings.oidc_audience,
        leeway_seconds=settings.oidc_leeway_seconds,
        organisation_claim=settings.oidc_organisation_claim,
        role_claim=settings.oidc_role_claim,
        name_claim=settings.oidc_name_claim,
    )
