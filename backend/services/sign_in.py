"""Single sign-on: the actor a verified identity-provider token names.

The token itself is checked by `backend.oidc`; here its organisation (an IATI identifier)
and role become an `Actor` exactly as an API token's do, with the organisation's ACTIVE
memberships read once.
"""

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.actors import Actor
from backend.errors import Unauthenticated
from backend.services import memberships

# Audit records and delivery reports keep at most this much of a name (their columns' size).
NAME_LENGTH = 200


async def authenticate(
    session: AsyncSession,
    *,
    subject: str,
    name: str,
    role: str | None,
    organisation: str | None,
) -> Actor:
    """The actor behind a signed-in person; Unauthenticated when the hub cannot place them.

    A secretariat role comes without an organisation, a partner role with one: the same
    rule API tokens follow, so an identity provider's mapping mistake is refused rather
    than read as more (or less) access than meant.
    """
    if role is None:
        raise Unauthenticated("The token carries no hub role.")
    try:
        granted = models.Role(role)
    except ValueError:
        raise Unauthenticated(f"The token's role {role!r} is not a hub role.") from None
    if granted.is_secretariat:
        if organisation is not None:
            raise Unauthenticated("A secretariat role belongs to no organisation.")
        return Actor(name=name[:NAME_LENGTH], role=granted, subject=subject)
    if organisation is None:
        raise Unauthenticated("A partner role needs the organisation's IATI identifier.")
    organisation_id = await session.scalar(
        sa.select(col(models.Organisation.id)).where(
            col(models.Organisation.iati_identifier) == organisation
        )
    )
    if organisation_id is None:
        raise Unauthenticated(f"No organisation has the IATI identifier {organisation!r}.")
    return Actor(
        name=name[:NAME_LENGTH],
        role=granted,
        organisation_id=organisation_id,
        subject=subject,
        member_coalition_ids=await memberships.active_coalition_ids(
            session, organisation_id=organisation_id
        ),
    )
