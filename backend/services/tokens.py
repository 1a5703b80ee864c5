"""API tokens: 256-bit random secrets, shown once, stored only as a SHA-256 hash.

A fast hash is right here: the secret has 256 bits of entropy, so there is nothing for a
slow password hash to protect against, and every request pays for the lookup.
"""

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.actors import ANONYMOUS, Actor
from backend.errors import NOT_ALLOWED, REQUIRED, NotFound, Unauthenticated
from backend.services import access, audit, memberships, organisations
from backend.services.validation import Checks

TOKEN_PREFIX = "hub_"
PREFIX_LENGTH = 12
PARTNER_ROLES = frozenset(
    {models.Role.PARTNER_ADMIN, models.Role.PARTNER_EDITOR, models.Role.PARTNER_VIEWER}
)


@dataclass(frozen=True)
class IssuedToken:
    token: models.ApiToken
    # The secret itself: returned once, never stored.
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    role: models.Role,
    organisation_id: int | None,
    expires_at: dt.datetime | None = None,
) -> IssuedToken:
    """Issue a token: partner admins for their own organisation, secretariat admins for anyone."""
    checks = Checks()
    checks.text("name", name, required=True)
    if role.is_secretariat and organisation_id is not None:
        checks.fail("organisation_id", NOT_ALLOWED, "Secretariat tokens belong to no organisation.")
    if role in PARTNER_ROLES and organisation_id is None:
        checks.fail("organisation_id", REQUIRED, "A partner token belongs to an organisation.")
    if expires_at is not None and expires_at <= models.utcnow():
        checks.fail("expires_at", NOT_ALLOWED, "The expiry must be in the future.")
    checks.done()
    if organisation_id is None:
        access.require_secretariat_admin(actor)
    else:
        access.require_organisation_admin(actor, organisation_id=organisation_id)
        await organisations.get(session, actor, organisation_id=organisation_id)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = models.ApiToken(
        prefix=secret[:PREFIX_LENGTH],
        token_hash=_hash(secret),
        name=name,
        role=role,
        organisation_id=organisation_id,
        expires_at=expires_at,
    )
    session.add(token)
    await session.flush()
    await audit.record(
        session, actor, action="api_token.created", entity=_redacted(token), before=None
    )
    return IssuedToken(token=token, secret=secret)


async def revoke(session: AsyncSession, actor: Actor, *, prefix: str) -> models.ApiToken:
    api_token = models.ApiToken
    token = await session.scalar(sa.select(api_token).where(col(api_token.prefix) == prefix))
    if token is None:
        raise NotFound("No token with this prefix.")
    if token.organisation_id is None:
        access.require_secretariat_admin(actor)
    else:
        access.require_organisation_admin(actor, organisation_id=token.organisation_id)
    if token.revoked_at is None:
        before = audit.snapshot(_redacted(token))
        token.revoked_at = models.utcnow()
        await audit.record(
            session, actor, action="api_token.revoked", entity=_redacted(token), before=before
        )
    return token


async def authenticate(session: AsyncSession, secret: str | None) -> Actor:
    """The actor behind a bearer secret: anonymous without one, Unauthenticated for a bad one."""
    if not secret:
        return ANONYMOUS
    api_token = models.ApiToken
    token = await session.scalar(
        sa.select(api_token).where(col(api_token.token_hash) == _hash(secret))
    )
    now = models.utcnow()
    if (
        token is None
        or token.revoked_at is not None
        or (token.expires_at is not None and token.expires_at <= now)
    ):
        raise Unauthenticated("The API token is unknown, expired or revoked.")
    member_of: frozenset[int] = frozenset()
    if token.organisation_id is not None:
        member_of = await memberships.active_coalition_ids(
            session, organisation_id=token.organisation_id
        )
    return Actor(
        name=token.name,
        role=token.role,
        organisation_id=token.organisation_id,
        token_id=token.id,
        member_coalition_ids=member_of,
    )


def listing(actor: Actor, *, organisation_id: int | None) -> sa.Select[Any]:
    """Tokens an admin may see: their organisation's, or for the secretariat, any."""
    api_token = models.ApiToken
    statement = sa.select(api_token)
    if organisation_id is not None:
        access.require_organisation_admin(actor, organisation_id=organisation_id)
        return statement.where(col(api_token.organisation_id) == organisation_id)
    access.require_secretariat_admin(actor)
    return statement


def _redacted(token: models.ApiToken) -> models.ApiToken:
    """The audit trail never holds the hash, even though the hash is not the secret."""
    return models.ApiToken(**{**token.model_dump(), "token_hash": "-"})
