"""Organisations: the partners — UN agencies, companies, foundations, NGOs, media, academia."""

from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.actors import Actor
from backend.errors import DUPLICATE, FieldIssue, InvalidInput, NotFound
from backend.services import access, audit, drafts
from backend.services.validation import LONG_TEXT, Checks


@dataclass(frozen=True)
class OrganisationDraft:
    name: str
    organisation_type: str
    country: str
    acronym: str | None = None
    iati_identifier: str | None = None
    hub_category: models.HubCategory | None = None
    website: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class OrganisationFilter:
    search: str | None = None
    organisation_type: str | None = None
    country: str | None = None
    coalition_id: int | None = None


def check_fields(draft: OrganisationDraft) -> None:
    """The checks that need no database (InvalidInput with every problem)."""
    checks = Checks()
    checks.text("name", draft.name, required=True)
    checks.text("acronym", draft.acronym, limit=30)
    checks.text("iati_identifier", draft.iati_identifier, limit=100)
    checks.required("organisation_type", draft.organisation_type)
    checks.organisation_type("organisation_type", draft.organisation_type)
    checks.required("country", draft.country)
    checks.country("country", draft.country)
    checks.url("website", draft.website)
    checks.text("description", draft.description, limit=LONG_TEXT)
    checks.done()


async def _check(
    session: AsyncSession, draft: OrganisationDraft, *, other_than: int | None = None
) -> None:
    check_fields(draft)
    if draft.iati_identifier is None:
        return
    organisation = models.Organisation
    taken = sa.select(col(organisation.id)).where(
        col(organisation.iati_identifier) == draft.iati_identifier
    )
    if other_than is not None:
        taken = taken.where(col(organisation.id) != other_than)
    if await session.scalar(taken) is not None:
        message = "Another organisation already has this IATI identifier."
        raise InvalidInput([FieldIssue("iati_identifier", DUPLICATE, message)])


async def register(
    session: AsyncSession, actor: Actor, *, draft: OrganisationDraft
) -> models.Organisation:
    """Add an organisation to the registry (secretariat admins only)."""
    access.require_secretariat_admin(actor)
    await _check(session, draft)
    organisation = models.Organisation(**asdict(draft))
    session.add(organisation)
    await audit.record(
        session, actor, action="organisation.registered", entity=organisation, before=None
    )
    return organisation


async def update(
    session: AsyncSession, actor: Actor, *, organisation_id: int, changes: dict[str, Any]
) -> models.Organisation:
    """Change the given fields; partner admins edit their own organisation."""
    organisation = await get(session, actor, organisation_id=organisation_id)
    access.require_organisation_admin(actor, organisation_id=organisation_id)
    draft = drafts.merged(OrganisationDraft, organisation, changes)
    await _check(session, draft, other_than=organisation_id)
    before = audit.snapshot(organisation)
    drafts.apply(organisation, draft)
    organisation.updated_at = models.utcnow()
    await audit.record(
        session, actor, action="organisation.updated", entity=organisation, before=before
    )
    return organisation


async def get(session: AsyncSession, actor: Actor, *, organisation_id: int) -> models.Organisation:
    organisation = await session.get(models.Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No organisation with this id.")
    return organisation


def listing(actor: Actor, filter: OrganisationFilter) -> sa.Select[Any]:
    """The organisations matching `filter`, as a statement for `pages.fetch`."""
    organisation = models.Organisation
    statement = sa.select(organisation)
    if filter.search:
        pattern = f"%{filter.search.lower()}%"
        statement = statement.where(
            sa.or_(
                sa.func.lower(col(organisation.name)).like(pattern),
                sa.func.lower(col(organisation.acronym)).like(pattern),
            )
        )
    if filter.organisation_type:
        statement = statement.where(col(organisation.organisation_type) == filter.organisation_type)
    if filter.country:
        statement = statement.where(col(organisation.country) == filter.country)
    if filter.coalition_id is not None:
        membership = models.Membership
        # "Members" means members now: not applicants, nor those who left or are suspended.
        members = sa.select(col(membership.organisation_id)).where(
            col(membership.coalition_id) == filter.coalition_id,
            col(membership.status) == models.MembershipStatus.ACTIVE,
        )
        statement = statement.where(col(organisation.id).in_(members))
    return statement
