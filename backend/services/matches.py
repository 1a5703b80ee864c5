"""Matches: a need answered by a listed offer, proposed and then accepted by both sides.

Who acts for a side: the need's side is its ministry's admins and editors (the secretariat's
administrators for a need the secretariat posted for a country); the offer's side is the
offering member's admins and editors. Proposals come from either side or from the
secretariat's administrators; a side that proposes has accepted. A match moves PROPOSED ->
ACCEPTED (both sides have accepted) | DECLINED (by either side) | WITHDRAWN (by whoever
proposed it, or the secretariat); the three ends are final (INVALID_TRANSITION).

When the second side accepts, in the same transaction:
- the need is locked (its row updated first), so matches of one need accepted at the same
  time are counted one after the other and never cover more than it asks;
- the quantity is reserved from the offer with one conditional UPDATE, which PostgreSQL
  re-checks against the newest row after waiting for a concurrent accept: the second of two
  accepts that together exceed the capacity changes no row and is refused
  (CAPACITY_EXCEEDED);
- the offering member's in-kind commitment is pledged and firmed up to COMMITTED, linked to
  the match (and through it to the need and the offer).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.actors import Actor
from backend.errors import BAD_RANGE, Conflict, InvalidTransition, NotFound, PermissionDenied
from backend.models.base import UTCDateTime
from backend.services import (
    audit,
    commitments,
    feed,
    memberships,
    needs,
    offer_ranking,
    offers,
)
from backend.services.commitment_rules import CommitmentDraft, InKindDraft
from backend.services.validation import Checks
from events import messages

Status = models.MatchStatus
CAPACITY_EXCEEDED = "CAPACITY_EXCEEDED"
NEED_COVERED = "NEED_COVERED"
OFFER_DOES_NOT_FIT = "OFFER_DOES_NOT_FIT"
OFFER_SIDE_NOT_MEMBER = "OFFER_SIDE_NOT_MEMBER"


@dataclass(frozen=True)
class Sides:
    """For which sides of a match the actor may act."""

    need: bool
    offer: bool


async def propose(
    session: AsyncSession,
    actor: Actor,
    *,
    need_id: int,
    offer_id: int,
    quantity: Decimal | None = None,
) -> models.Match:
    need = await needs.get(session, actor, need_id=need_id)
    offer = await offers.get(session, actor, offer_id=offer_id)
    sides = sides_of(actor, need, offer)
    if not (sides.need or sides.offer or actor.is_secretariat_admin):
        raise PermissionDenied("Only the need's side, the offer's side or the secretariat propose.")
    if need.status not in needs.OPEN_STATUSES:
        raise InvalidTransition(f"The need is {need.status.value}: no new matches.")
    if offer.status is not models.OfferStatus.LISTED:
        raise InvalidTransition(f"The offer is {offer.status.value}, not LISTED.")
    assert need.id is not None and offer.id is not None
    open_part = need.quantity - await needs.accepted_quantity(session, need.id)
    suggestion = _suggestion(need, offer, quantity, open_part)
    quantity = quantity if quantity is not None else min(open_part, offers.remaining(offer))
    await _require_not_proposed(session, need.id, offer.id)
    match = models.Match(
        coalition_id=need.coalition_id,
        need_id=need.id,
        offer_id=offer.id,
        quantity=quantity,
        score=suggestion.score,
        reasons=list(suggestion.reasons),
        proposed_by=actor.name,
        proposed_by_organisation_id=None if actor.is_secretariat else actor.organisation_id,
    )
    _record_acceptance(match, actor, sides)
    session.add(match)
    await audit.record(session, actor, action="match.proposed", entity=match, before=None)
    await _announce(session, messages.EventType.MATCH_PROPOSED, match, need, offer)
    if match.need_accepted_at and match.offer_accepted_at:
        await _conclude(session, match, need, offer, actor)
    return match


async def accept(session: AsyncSession, actor: Actor, *, match_id: int) -> models.Match:
    """Accept for the actor's side; the second acceptance makes the commitment."""
    match, need, offer = await _parts(session, actor, match_id)
    sides = sides_of(actor, need, offer)
    if not (sides.need or sides.offer):
        raise PermissionDenied("Only the need's side or the offer's side accept a match.")
    _require_proposed(match, Status.ACCEPTED)
    before = audit.snapshot(match)
    await _accept_in_place(session, match, actor, sides)
    await audit.record(session, actor, action="match.side_accepted", entity=match, before=before)
    if match.need_accepted_at and match.offer_accepted_at:
        await _conclude(session, match, need, offer, actor)
    return match


async def _accept_in_place(
    session: AsyncSession, match: models.Match, actor: Actor, sides: Sides
) -> None:
    """Record the side's yes in one UPDATE of the row as it is in the database, and read
    both sides' answers back: when the two sides accept at once, the second UPDATE waits
    for the first and sees its yes, so exactly one of them goes on to make the commitment."""
    table, now = models.Match, sa.literal(models.utcnow(), type_=UTCDateTime())
    values: dict[Any, Any] = {col(table.updated_at): now}
    for accepted, at, by in (
        (sides.need, col(table.need_accepted_at), col(table.need_accepted_by)),
        (sides.offer, col(table.offer_accepted_at), col(table.offer_accepted_by)),
    ):
        if accepted:
            values[at] = sa.func.coalesce(at, now)
            values[by] = sa.func.coalesce(by, actor.name)
    await session.flush()
    recorded = await session.execute(
        sa.update(table)
        .where(col(table.id) == match.id, col(table.status) == Status.PROPOSED)
        .values(values)
        .returning(col(table.id))
        .execution_options(synchronize_session=False)
    )
    if recorded.one_or_none() is None:
        raise InvalidTransition("The match was answered meanwhile; it is no longer PROPOSED.")
    await session.refresh(match)


async def decline(
    session: AsyncSession, actor: Actor, *, match_id: int, reason: str | None = None
) -> models.Match:
    match, need, offer = await _parts(session, actor, match_id)
    sides = sides_of(actor, need, offer)
    if not (sides.need or sides.offer):
        raise PermissionDenied("Only the need's side or the offer's side decline a match.")
    return await _close(session, actor, match, Status.DECLINED, reason)


async def withdraw(
    session: AsyncSession, actor: Actor, *, match_id: int, reason: str | None = None
) -> models.Match:
    match, _need, _offer = await _parts(session, actor, match_id)
    proposer = (
        actor.is_partner_writer
        and actor.is_member_of(match.coalition_id)
        and actor.belongs_to(match.proposed_by_organisation_id)
    )
    if not (actor.is_secretariat_admin or proposer):
        raise PermissionDenied("Only whoever proposed the match, or the secretariat, withdraws it.")
    return await _close(session, actor, match, Status.WITHDRAWN, reason)


def sides_of(actor: Actor, need: models.Need, offer: models.Offer) -> Sides:
    """A member acts for its side while it is an ACTIVE member of the coalition."""
    writer = actor.is_partner_writer and actor.is_member_of(need.coalition_id)
    need_side = (
        actor.is_secretariat_admin
        if need.organisation_id is None
        else writer and actor.belongs_to(need.organisation_id)
    )
    offer_side = writer and actor.belongs_to(offer.organisation_id)
    return Sides(need=need_side, offer=offer_side)


async def get(session: AsyncSession, actor: Actor, *, match_id: int) -> models.Match:
    match = await session.get(models.Match, match_id)
    if match is None or not await sees(session, actor, match):
        raise NotFound("No match with this id.")
    return match


async def sees(session: AsyncSession, actor: Actor, match: models.Match) -> bool:
    """The secretariat and the two sides' organisations see a match; no one else."""
    if actor.is_secretariat:
        return True
    if actor.organisation_id is None:
        return False
    need = await session.get(models.Need, match.need_id)
    offer = await session.get(models.Offer, match.offer_id)
    assert need is not None and offer is not None
    return actor.belongs_to(need.organisation_id) or actor.belongs_to(offer.organisation_id)


def listing(
    actor: Actor,
    *,
    need_ids: Sequence[int] | None = None,
    offer_ids: Sequence[int] | None = None,
) -> Any:
    """Matches of needs or offers that the actor may see, oldest first."""
    match, need, offer = models.Match, models.Need, models.Offer
    statement = (
        sa.select(match)
        .join(need, col(need.id) == col(match.need_id))
        .join(offer, col(offer.id) == col(match.offer_id))
        .order_by(col(match.created_at), col(match.id))
    )
    if need_ids is not None:
        statement = statement.where(col(match.need_id).in_(need_ids))
    if offer_ids is not None:
        statement = statement.where(col(match.offer_id).in_(offer_ids))
    if not actor.is_secretariat:
        organisation = actor.organisation_id
        statement = statement.where(
            sa.or_(
                col(need.organisation_id) == organisation,
                col(offer.organisation_id) == organisation,
            )
            if organisation is not None
            else sa.false()
        )
    return statement


def terms_of_need(need: models.Need) -> offer_ranking.NeedTerms:
    return offer_ranking.NeedTerms(
        category=need.category,
        country=need.country,
        quantity=need.quantity,
        unit=need.unit,
        languages=frozenset(need.languages),
        offline_required=need.offline_required,
        low_bandwidth=need.low_bandwidth,
        needed_by=need.needed_by,
    )


def terms_of_offer(offer: models.Offer) -> offer_ranking.OfferTerms:
    assert offer.id is not None
    return offer_ranking.OfferTerms(
        key=offer.id,
        category=offer.category,
        unit=offer.unit,
        remaining=offers.remaining(offer),
        countries=frozenset(offer.countries),
        worldwide=offer.worldwide,
        languages=frozenset(offer.languages),
        offline_capable=offer.offline_capable,
        low_bandwidth_friendly=offer.low_bandwidth_friendly,
        free_of_charge=offer.free_of_charge,
        free_until=offer.free_until,
    )


async def suggested_offers(
    session: AsyncSession, actor: Actor, need: models.Need, *, first: int
) -> list[tuple[models.Offer, offer_ranking.Suggestion]]:
    """The listed offers of the need's coalition that best answer it, best first.

    The database leaves out the offers the ranking would exclude anyway (another category or
    unit, a country not served, nothing left, not offline capable when that is required)
    and answers, for the rest, only what the ranking asks of this need: whether the offer
    names its country, which of its languages it speaks, what is left. Those are ranked, and
    only the best `first` are loaded whole.
    """
    offer = models.Offer
    languages = sorted(need.languages)
    candidates = (
        offers.listing(actor, coalition_id=need.coalition_id, status=models.OfferStatus.LISTED)
        .where(
            col(offer.category) == need.category,
            col(offer.unit) == need.unit,
            col(offer.capacity) > col(offer.reserved),
            sa.or_(col(offer.worldwide), models.JsonListContains(offer.countries, need.country)),
        )
        .with_only_columns(
            col(offer.id),
            (col(offer.capacity) - col(offer.reserved)).label("remaining"),
            models.JsonListContains(offer.countries, need.country).label("names_country"),
            col(offer.worldwide),
            col(offer.offline_capable),
            col(offer.low_bandwidth_friendly),
            col(offer.free_of_charge),
            col(offer.free_until),
            *(models.JsonListContains(offer.languages, code) for code in languages),
        )
    )
    if need.offline_required:
        candidates = candidates.where(col(offer.offline_capable))
    rows = await session.execute(candidates)
    terms = [_terms_of_candidate(need, languages, row) for row in rows]
    ranked = offer_ranking.rank(terms_of_need(need), terms, first)
    loaded = await session.scalars(
        sa.select(offer).where(col(offer.id).in_([suggestion.key for suggestion in ranked]))
    )
    by_id = {row.id: row for row in loaded}
    return [(by_id[suggestion.key], suggestion) for suggestion in ranked]


def _terms_of_candidate(
    need: models.Need, languages: list[str], row: Any
) -> offer_ranking.OfferTerms:
    """An offer's terms for this need from a row of `suggested_offers`' candidates."""
    key, remaining, names_country, worldwide, offline, low_bandwidth, free, free_until, *speaks = (
        row
    )
    return offer_ranking.OfferTerms(
        key=int(key),
        category=need.category,
        unit=need.unit,
        remaining=remaining,
        countries=frozenset({need.country}) if names_country else frozenset(),
        worldwide=worldwide,
        languages=frozenset(code for code, spoken in zip(languages, speaks, strict=True) if spoken),
        offline_capable=offline,
        low_bandwidth_friendly=low_bandwidth,
        free_of_charge=free,
        free_until=free_until,
    )


def _suggestion(
    need: models.Need, offer: models.Offer, quantity: Decimal | None, open_part: Decimal
) -> offer_ranking.Suggestion:
    """The ranking's verdict on the pair, refusing an offer that cannot answer the need or a
    quantity beyond what the need still asks (`open_part`) or the offer has left."""
    checks = Checks()
    if offer.coalition_id != need.coalition_id:
        checks.fail("offer_id", BAD_RANGE, "The offer is listed in another coalition.")
        checks.done()
    why_not = offer_ranking.exclusion(terms_of_need(need), terms_of_offer(offer))
    if why_not is not None:
        checks.fail(
            "offer_id", OFFER_DOES_NOT_FIT, f"The offer cannot answer this need: {why_not}."
        )
    checks.positive("quantity", quantity)
    checks.done()
    suggestion = offer_ranking.suggest(terms_of_need(need), terms_of_offer(offer))
    assert suggestion is not None
    if quantity is not None and quantity > open_part:
        checks.fail("quantity", BAD_RANGE, f"The need still asks for {open_part} {need.unit}.")
    if quantity is not None and quantity > offers.remaining(offer):
        checks.fail(
            "quantity", BAD_RANGE, f"The offer has {offers.remaining(offer)} {offer.unit} left."
        )
    checks.done()
    return suggestion


async def _require_not_proposed(session: AsyncSession, need_id: int, offer_id: int) -> None:
    match = models.Match
    pending = await session.scalar(
        sa.select(col(match.id)).where(
            col(match.need_id) == need_id,
            col(match.offer_id) == offer_id,
            col(match.status) == Status.PROPOSED,
        )
    )
    if pending is not None:
        raise Conflict("This offer is already proposed for this need.", code="ALREADY_PROPOSED")


def _record_acceptance(match: models.Match, actor: Actor, sides: Sides) -> None:
    now = models.utcnow()
    if sides.need and match.need_accepted_at is None:
        match.need_accepted_at, match.need_accepted_by = now, actor.name
    if sides.offer and match.offer_accepted_at is None:
        match.offer_accepted_at, match.offer_accepted_by = now, actor.name


async def _conclude(
    session: AsyncSession,
    match: models.Match,
    need: models.Need,
    offer: models.Offer,
    actor: Actor,
) -> None:
    """Both sides accepted: reserve the quantity, make the commitment (see the module doc)."""
    assert need.id is not None and offer.id is not None and match.id is not None
    active = await memberships.active_coalition_ids(session, organisation_id=offer.organisation_id)
    if need.coalition_id not in active:
        # Its yes may be older than a suspension: the commitment would be a non-member's.
        raise Conflict(
            "The offering organisation is no longer an active member of the coalition.",
            code=OFFER_SIDE_NOT_MEMBER,
        )
    await _lock_need(session, need.id)
    open_part = need.quantity - await needs.accepted_quantity(session, need.id)
    if match.quantity > open_part:
        raise Conflict(
            f"Accepted matches already cover this need but {open_part} {need.unit}.",
            code=NEED_COVERED,
        )
    await _reserve(session, offer, match.quantity)
    commitment = await commitments.pledge(
        session, _on_behalf_of(actor, match), draft=_commitment_draft(need, offer, match)
    )
    assert commitment.id is not None
    await commitments.advance(
        session,
        _on_behalf_of(actor, match),
        commitment_id=commitment.id,
        version=commitment.version,
        stage=models.Stage.COMMITTED,
    )
    before = audit.snapshot(match)
    match.status = Status.ACCEPTED
    match.commitment_id = commitment.id
    match.updated_at = models.utcnow()
    session.add(match)
    await session.flush()
    await needs.refresh(session, need)
    await audit.record(session, actor, action="match.accepted", entity=match, before=before)
    await _announce(session, messages.EventType.MATCH_ACCEPTED, match, need, offer)


async def _lock_need(session: AsyncSession, need_id: int) -> None:
    await session.flush()
    await session.execute(
        sa.update(models.Need)
        .where(col(models.Need.id) == need_id)
        .values(updated_at=models.utcnow())
        .execution_options(synchronize_session=False)
    )


async def _reserve(session: AsyncSession, offer: models.Offer, quantity: Decimal) -> None:
    table = models.Offer
    reserved = await session.execute(
        sa.update(table)
        .where(
            col(table.id) == offer.id,
            col(table.status) == models.OfferStatus.LISTED,
            col(table.capacity) - col(table.reserved) >= quantity,
        )
        .values(reserved=col(table.reserved) + quantity, updated_at=models.utcnow())
        .execution_options(synchronize_session=False)
    )
    if reserved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            "The offer is no longer listed, or no longer has this much capacity left "
            "(another match took it).",
            code=CAPACITY_EXCEEDED,
        )
    await session.refresh(offer)


def _on_behalf_of(actor: Actor, match: models.Match) -> Actor:
    """The hub pledges for the offering member on the authority of the accepted match: the
    member's own acceptance is on the match's audit trail."""
    return Actor(
        name=f"match {match.id} accepted by {actor.name}", role=models.Role.SECRETARIAT_ADMIN
    )


def _commitment_draft(
    need: models.Need, offer: models.Offer, match: models.Match
) -> CommitmentDraft:
    return CommitmentDraft(
        coalition_id=need.coalition_id,
        organisation_id=offer.organisation_id,
        title=f"{offer.title} for {need.title}"[:200],
        resource_kind=models.ResourceKind.IN_KIND,
        description=f"Matched {offer.ref} to {need.ref}.",
        countries=[need.country],
        in_kind=[
            InKindDraft(
                category=offer.category,
                description=offer.title,
                quantity=match.quantity,
                unit=offer.unit,
                free_of_charge=offer.free_of_charge,
                free_until=offer.free_until,
            )
        ],
        visibility=models.Visibility.PUBLIC,
    )


async def _close(
    session: AsyncSession, actor: Actor, match: models.Match, to: Status, reason: str | None
) -> models.Match:
    _require_proposed(match, to)
    checks = Checks()
    checks.text("reason", reason, limit=2000)
    checks.done()
    before = audit.snapshot(match)
    match.status = to
    match.closing_reason = reason
    match.updated_at = models.utcnow()
    session.add(match)
    await audit.record(
        session, actor, action=f"match.{to.value.lower()}", entity=match, before=before
    )
    return match


def _require_proposed(match: models.Match, to: Status) -> None:
    if match.status is not Status.PROPOSED:
        raise InvalidTransition(f"A match {match.status.value} cannot become {to.value}.")


async def _parts(
    session: AsyncSession, actor: Actor, match_id: int
) -> tuple[models.Match, models.Need, models.Offer]:
    match = await get(session, actor, match_id=match_id)
    need = await session.get(models.Need, match.need_id)
    offer = await session.get(models.Offer, match.offer_id)
    assert need is not None and offer is not None
    return match, need, offer


async def _announce(
    session: AsyncSession,
    type: messages.EventType,
    match: models.Match,
    need: models.Need,
    offer: models.Offer,
) -> None:
    await session.flush()
    assert match.id is not None
    organisation = await session.get(models.Organisation, offer.organisation_id)
    assert organisation is not None
    feed.record(
        session,
        type=type,
        subject_type="Match",
        subject_id=match.id,
        coalition_id=match.coalition_id,
        organisation_id=offer.organisation_id,
        visibility=models.Visibility.MEMBERS,
        embargo_until=None,
        message=messages.MatchMessage(
            id=match.id,
            status=match.status.value,
            need_ref=need.ref,
            need_title=need.title,
            country=need.country,
            offer_ref=offer.ref,
            offer_title=offer.title,
            quantity=match.quantity,
            unit=offer.unit,
            score=match.score,
            organisation=feed.organisation_ref(organisation),
        ),
    )
