"""Offers: members' catalogue of free resources, reviewed by the secretariat before listing.

A member's admins and editors write its offers; the secretariat's administrators review them.
Moves (anything else is INVALID_TRANSITION):

| from         | to                       | by                                   |
|--------------|--------------------------|--------------------------------------|
| DRAFT        | UNDER_REVIEW, WITHDRAWN  | the owner (or the secretariat)       |
| UNDER_REVIEW | LISTED, DRAFT (returned) | the secretariat's administrators     |
| UNDER_REVIEW | WITHDRAWN                | the owner                            |
| LISTED       | PAUSED, WITHDRAWN        | the owner or the secretariat         |
| PAUSED       | LISTED, WITHDRAWN        | the owner or the secretariat         |

Listing (and resuming) needs every attestation the coalition requires
(ATTESTATION_REQUIRED). Terms change only in DRAFT or PAUSED; capacity never drops below
what accepted matches reserved.

Reads: drafts and offers under review are seen by their owner and the secretariat only;
once listed, coalition members see them too. Anyone else sees no offer.
"""

import datetime as dt
import secrets
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.actors import Actor
from backend.errors import BAD_RANGE, InvalidTransition, NotFound
from backend.services import access, audit, coalitions, drafts, feed
from backend.services.validation import LONG_TEXT, Checks
from events import messages

Status = models.OfferStatus
ATTESTATION_REQUIRED = "ATTESTATION_REQUIRED"
MOVES: dict[Status, set[Status]] = {
    Status.DRAFT: {Status.UNDER_REVIEW, Status.WITHDRAWN},
    Status.UNDER_REVIEW: {Status.LISTED, Status.DRAFT, Status.WITHDRAWN},
    Status.LISTED: {Status.PAUSED, Status.WITHDRAWN},
    Status.PAUSED: {Status.LISTED, Status.WITHDRAWN},
    Status.WITHDRAWN: set(),
}
# Moves only the secretariat's administrators make: the review.
REVIEW_MOVES = {(Status.UNDER_REVIEW, Status.LISTED), (Status.UNDER_REVIEW, Status.DRAFT)}
EDITABLE = frozenset({Status.DRAFT, Status.PAUSED})
# Who else may see an offer once it has left review: the coalition's members.
PAST_REVIEW = frozenset({Status.LISTED, Status.PAUSED, Status.WITHDRAWN})


@dataclass(frozen=True)
class OfferDraft:
    coalition_id: int
    organisation_id: int
    category: models.InKindCategory
    title: str
    capacity: Decimal
    unit: str
    description: str | None = None
    countries: list[str] = field(default_factory=list)
    worldwide: bool = False
    languages: list[str] = field(default_factory=list)
    free_of_charge: bool = True
    free_until: dt.date | None = None
    offline_capable: bool = False
    low_bandwidth_friendly: bool = False
    accessibility_notes: str | None = None
    attestations: list[str] = field(default_factory=list)


def check_fields(draft: OfferDraft) -> None:
    checks = Checks()
    checks.text("title", draft.title, required=True)
    checks.text("description", draft.description, limit=LONG_TEXT)
    checks.text("unit", draft.unit, required=True, limit=40)
    checks.required("capacity", draft.capacity)
    checks.positive("capacity", draft.capacity)
    checks.countries("countries", draft.countries)
    checks.languages("languages", draft.languages)
    if not draft.worldwide and not draft.countries:
        checks.fail("countries", BAD_RANGE, "Name the countries served, or offer it worldwide.")
    checks.text("accessibility_notes", draft.accessibility_notes, limit=LONG_TEXT)
    checks.done()


async def create(session: AsyncSession, actor: Actor, *, draft: OfferDraft) -> models.Offer:
    """A new offer, as a DRAFT only its owner and the secretariat see."""
    access.require_partner_writer(
        actor, organisation_id=draft.organisation_id, coalition_id=draft.coalition_id
    )
    coalitions.require_open(await coalitions.get(session, actor, coalition_id=draft.coalition_id))
    check_fields(draft)
    offer = models.Offer(
        **_columns(draft), ref=f"OFR-{secrets.token_hex(5).upper()}", status=Status.DRAFT
    )
    session.add(offer)
    await audit.record(session, actor, action="offer.created", entity=offer, before=None)
    return offer


async def update(
    session: AsyncSession, actor: Actor, *, offer_id: int, changes: dict[str, Any]
) -> models.Offer:
    offer = await _writable(session, actor, offer_id)
    if offer.status not in EDITABLE:
        raise InvalidTransition(
            f"An offer {offer.status.value} cannot change; pause it first.", code="NOT_EDITABLE"
        )
    draft = drafts.merged(OfferDraft, offer, changes)
    check_fields(draft)
    checks = Checks()
    if draft.capacity < offer.reserved:
        checks.fail(
            "capacity",
            BAD_RANGE,
            f"Accepted matches already reserve {offer.reserved} {offer.unit}.",
        )
    if draft.unit != offer.unit and offer.reserved > 0:
        checks.fail("unit", BAD_RANGE, "Accepted matches counted this offer in its unit.")
    checks.done()
    before = audit.snapshot(offer)
    drafts.apply(offer, draft)
    offer.updated_at = models.utcnow()
    await audit.record(session, actor, action="offer.updated", entity=offer, before=before)
    return offer


async def move(
    session: AsyncSession,
    actor: Actor,
    *,
    offer_id: int,
    to: Status,
    starts: frozenset[Status] | None = None,
) -> models.Offer:
    """Submit, review (list or return), pause, resume or withdraw an offer; `starts`: the
    statuses the caller's move may start from (resuming is from PAUSED only, say)."""
    offer = await _writable(session, actor, offer_id)
    if to not in MOVES[offer.status] or (starts is not None and offer.status not in starts):
        raise InvalidTransition(f"An offer {offer.status.value} cannot become {to.value}.")
    if (offer.status, to) in REVIEW_MOVES:
        access.require_secretariat_admin(actor)
    if to is Status.LISTED:
        await _require_attestations(session, offer)
    before = audit.snapshot(offer)
    listed_before = offer.status is Status.PAUSED
    offer.status = to
    offer.updated_at = models.utcnow()
    await audit.record(
        session, actor, action=f"offer.{to.value.lower()}", entity=offer, before=before
    )
    if to is Status.LISTED and not listed_before:
        await _announce(session, offer)
    return offer


async def get(session: AsyncSession, actor: Actor, *, offer_id: int) -> models.Offer:
    offer = await session.get(models.Offer, offer_id)
    if offer is None or not sees(actor, offer):
        raise NotFound("No offer with this id.")
    return offer


def sees(actor: Actor, offer: models.Offer) -> bool:
    if actor.is_secretariat or actor.belongs_to(offer.organisation_id):
        return True
    return offer.status in PAST_REVIEW and actor.is_member_of(offer.coalition_id)


def listing(actor: Actor, *, coalition_id: int, status: Status | None) -> sa.Select[Any]:
    """The coalition's offers the actor may see, newest first; `status` narrows them."""
    offer = models.Offer
    statement = sa.select(offer).where(col(offer.coalition_id) == coalition_id)
    if status is not None:
        statement = statement.where(col(offer.status) == status)
    if not actor.is_secretariat:
        past_review: sa.ColumnElement[bool] = (
            col(offer.status).in_(PAST_REVIEW) if actor.is_member_of(coalition_id) else sa.false()
        )
        own = (
            col(offer.organisation_id) == actor.organisation_id
            if actor.organisation_id is not None
            else sa.false()
        )
        statement = statement.where(sa.or_(own, past_review))
    return statement


def remaining(offer: models.Offer) -> Decimal:
    return offer.capacity - offer.reserved


async def _require_attestations(session: AsyncSession, offer: models.Offer) -> None:
    coalition = await session.get(models.Coalition, offer.coalition_id)
    assert coalition is not None
    missing = [
        code for code in coalition.offer_attestations_required if code not in offer.attestations
    ]
    if missing:
        raise InvalidTransition(
            "The coalition requires these attestations before an offer is listed: "
            + ", ".join(missing)
            + ".",
            code=ATTESTATION_REQUIRED,
        )


async def _writable(session: AsyncSession, actor: Actor, offer_id: int) -> models.Offer:
    offer = await session.get(models.Offer, offer_id)
    if offer is None or not sees(actor, offer):
        raise NotFound("No offer with this id.")
    access.require_partner_writer(
        actor, organisation_id=offer.organisation_id, coalition_id=offer.coalition_id
    )
    return offer


def _columns(draft: OfferDraft) -> dict[str, Any]:
    columns = asdict(draft)
    columns["languages"] = [language.lower() for language in draft.languages]
    columns["attestations"] = sorted({str(code) for code in draft.attestations})
    return columns


async def _announce(session: AsyncSession, offer: models.Offer) -> None:
    assert offer.id is not None
    organisation = await session.get(models.Organisation, offer.organisation_id)
    assert organisation is not None
    feed.record(
        session,
        type=messages.EventType.OFFER_LISTED,
        subject_type="Offer",
        subject_id=offer.id,
        coalition_id=offer.coalition_id,
        organisation_id=offer.organisation_id,
        visibility=models.Visibility.MEMBERS,
        embargo_until=None,
        message=messages.OfferMessage(
            id=offer.id,
            ref=offer.ref,
            title=offer.title,
            category=offer.category.value,
            countries=list(offer.countries),
            worldwide=offer.worldwide,
            capacity=offer.capacity,
            unit=offer.unit,
            organisation=feed.organisation_ref(organisation),
        ),
    )
