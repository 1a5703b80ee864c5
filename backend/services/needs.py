"""Needs: what a country asks the coalition for.

The secretariat's administrators post needs, for a country or on behalf of a member
ministry; a member government or other public-sector organisation (IATI types 10, 11, 15)
posts its own through its admins and editors. Coalition members and the secretariat read
needs; anyone else reads none.

Status is derived from the need's accepted matches and their deliveries (`refresh`):
OPEN (nothing accepted) -> PARTIALLY_MATCHED -> MATCHED (accepted quantities cover it) ->
FULFILLED (deliveries cover it). CANCELLED is set by hand, and it is final.
"""

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.actors import Actor
from backend.errors import BAD_RANGE, NOT_ALLOWED, InvalidTransition, NotFound
from backend.services import access, audit, coalitions, drafts, feed
from backend.services.validation import LONG_TEXT, Checks
from events import messages

Status = models.NeedStatus
# IATI organisation types that speak for a country: government, local government, other
# public sector (a ministry's agency).
PUBLIC_SECTOR_TYPES = frozenset({"10", "11", "15"})
# Where matches may still be proposed and the need's terms changed.
OPEN_STATUSES = frozenset({Status.OPEN, Status.PARTIALLY_MATCHED})
CLOSED_STATUSES = frozenset({Status.FULFILLED, Status.CANCELLED})


@dataclass(frozen=True)
class Coverage:
    """How much of a need accepted matches cover, and how much was delivered through them
    (disputed deliveries aside)."""

    matched: Decimal = Decimal(0)
    delivered: Decimal = Decimal(0)


@dataclass(frozen=True)
class NeedDraft:
    coalition_id: int
    country: str
    category: models.InKindCategory
    title: str
    quantity: Decimal
    unit: str
    organisation_id: int | None = None
    description: str | None = None
    languages: list[str] = field(default_factory=list)
    target_groups: list[str] = field(default_factory=list)
    offline_required: bool = False
    low_bandwidth: bool = False
    device_type: str | None = None
    priority: models.NeedPriority = models.NeedPriority.MEDIUM
    needed_by: dt.date | None = None


def check_fields(draft: NeedDraft) -> None:
    checks = Checks()
    checks.required("country", draft.country)
    checks.country("country", draft.country.upper() if draft.country else draft.country)
    checks.text("title", draft.title, required=True)
    checks.text("description", draft.description, limit=LONG_TEXT)
    checks.text("unit", draft.unit, required=True, limit=40)
    checks.required("quantity", draft.quantity)
    checks.positive("quantity", draft.quantity)
    checks.languages("languages", draft.languages)
    checks.text("device_type", draft.device_type, limit=100)
    checks.done()


async def post(session: AsyncSession, actor: Actor, *, draft: NeedDraft) -> models.Need:
    await _require_poster(session, actor, draft)
    coalitions.require_open(await coalitions.get(session, actor, coalition_id=draft.coalition_id))
    check_fields(draft)
    need = models.Need(
        **_columns(draft),
        ref=f"NED-{secrets.token_hex(5).upper()}",
        status=Status.OPEN,
        posted_by=actor.name,
    )
    session.add(need)
    await audit.record(session, actor, action="need.posted", entity=need, before=None)
    await _announce(session, need)
    return need


async def update(
    session: AsyncSession, actor: Actor, *, need_id: int, changes: dict[str, Any]
) -> models.Need:
    """Change an OPEN or PARTIALLY_MATCHED need's terms; its quantity never drops below what
    accepted matches cover."""
    need = await _writable(session, actor, need_id)
    if need.status not in OPEN_STATUSES:
        raise InvalidTransition(f"A need {need.status.value} cannot change.", code="NOT_EDITABLE")
    draft = drafts.merged(NeedDraft, need, changes)
    check_fields(draft)
    covered = (await coverage(session, [need_id])).get(need_id, Coverage())
    if draft.quantity < covered.matched:
        checks = Checks()
        checks.fail("quantity", BAD_RANGE, f"Accepted matches already cover {covered.matched}.")
        checks.done()
    before = audit.snapshot(need)
    drafts.apply(need, draft)
    need.country = need.country.upper()
    need.updated_at = models.utcnow()
    _derive(need, covered)
    await audit.record(session, actor, action="need.updated", entity=need, before=before)
    return need


async def cancel(session: AsyncSession, actor: Actor, *, need_id: int) -> models.Need:
    """Cancel a need that is not fulfilled; its matches still proposed are withdrawn.
    Commitments made through accepted matches stay: they are the members' promises."""
    need = await _writable(session, actor, need_id)
    if need.status in CLOSED_STATUSES:
        raise InvalidTransition(f"A need {need.status.value} cannot be cancelled.")
    before = audit.snapshot(need)
    need.status = Status.CANCELLED
    need.updated_at = models.utcnow()
    match = models.Match
    await session.execute(
        sa.update(match)
        .where(col(match.need_id) == need_id, col(match.status) == models.MatchStatus.PROPOSED)
        .values(
            status=models.MatchStatus.WITHDRAWN,
            closing_reason="The need was cancelled.",
            updated_at=models.utcnow(),
        )
    )
    await audit.record(session, actor, action="need.cancelled", entity=need, before=before)
    return need


async def refresh(session: AsyncSession, need: models.Need) -> None:
    """Derive the need's status from its accepted matches and their deliveries."""
    if need.status is Status.CANCELLED:
        return
    assert need.id is not None
    _derive(need, (await coverage(session, [need.id])).get(need.id, Coverage()))
    session.add(need)


def _derive(need: models.Need, covered: Coverage) -> None:
    if covered.matched <= 0:
        need.status = Status.OPEN
    elif covered.delivered >= need.quantity:
        need.status = Status.FULFILLED
    elif covered.matched >= need.quantity:
        need.status = Status.MATCHED
    else:
        need.status = Status.PARTIALLY_MATCHED


async def refresh_for_commitment(session: AsyncSession, commitment_id: int) -> None:
    """A delivery against a commitment made by a match moves that match's need on."""
    need = await session.scalar(
        sa.select(models.Need)
        .join(models.Match, col(models.Match.need_id) == col(models.Need.id))
        .where(col(models.Match.commitment_id) == commitment_id)
    )
    if need is not None:
        await refresh(session, need)


async def coverage(session: AsyncSession, need_ids: Sequence[int]) -> dict[int, Coverage]:
    """Each need's coverage, in two grouped statements however many needs."""
    matched = await _matched(session, need_ids)
    match, delivery = models.Match, models.Delivery
    delivered = dict(
        (
            await session.execute(
                sa.select(col(match.need_id), sa.func.sum(col(delivery.quantity)))
                .join(delivery, col(delivery.commitment_id) == col(match.commitment_id))
                .where(
                    *_accepted_of(need_ids), col(delivery.status) != models.DeliveryStatus.DISPUTED
                )
                .group_by(col(match.need_id))
            )
        ).all()
    )
    return {
        need_id: Coverage(total, Decimal(delivered.get(need_id) or 0))
        for need_id, total in matched.items()
    }


async def accepted_quantity(session: AsyncSession, need_id: int) -> Decimal:
    """What the need's accepted matches cover, in one statement."""
    return (await _matched(session, [need_id])).get(need_id, Decimal(0))


def _accepted_of(need_ids: Sequence[int]) -> tuple[sa.ColumnElement[bool], ...]:
    match = models.Match
    return col(match.need_id).in_(need_ids), col(match.status) == models.MatchStatus.ACCEPTED


async def _matched(session: AsyncSession, need_ids: Sequence[int]) -> dict[int, Decimal]:
    match = models.Match
    rows = await session.execute(
        sa.select(col(match.need_id), sa.func.sum(col(match.quantity)))
        .where(*_accepted_of(need_ids))
        .group_by(col(match.need_id))
    )
    return {need_id: Decimal(total or 0) for need_id, total in rows.all()}


async def get(session: AsyncSession, actor: Actor, *, need_id: int) -> models.Need:
    need = await session.get(models.Need, need_id)
    if need is None or not sees(actor, need):
        raise NotFound("No need with this id.")
    return need


def sees(actor: Actor, need: models.Need) -> bool:
    return (
        actor.is_secretariat
        or actor.belongs_to(need.organisation_id)
        or actor.is_member_of(need.coalition_id)
    )


def listing(
    actor: Actor,
    *,
    coalition_id: int,
    status: Status | None = None,
    country: str | None = None,
    category: models.InKindCategory | None = None,
) -> sa.Select[Any]:
    need = models.Need
    statement = sa.select(need).where(col(need.coalition_id) == coalition_id)
    if not (actor.is_secretariat or actor.is_member_of(coalition_id)):
        own = (
            col(need.organisation_id) == actor.organisation_id
            if actor.organisation_id is not None
            else sa.false()
        )
        statement = statement.where(own)
    if status is not None:
        statement = statement.where(col(need.status) == status)
    if country is not None:
        statement = statement.where(col(need.country) == country.upper())
    if category is not None:
        statement = statement.where(col(need.category) == category)
    return statement


async def _require_poster(session: AsyncSession, actor: Actor, draft: NeedDraft) -> None:
    if draft.organisation_id is None:
        access.require_secretariat_admin(actor)
        return
    access.require_partner_writer(
        actor, organisation_id=draft.organisation_id, coalition_id=draft.coalition_id
    )
    organisation = await session.get(models.Organisation, draft.organisation_id)
    if organisation is None:
        raise NotFound("No organisation with this id.")
    if organisation.organisation_type not in PUBLIC_SECTOR_TYPES:
        checks = Checks()
        checks.fail(
            "organisation_id",
            NOT_ALLOWED,
            "Needs are posted by a government or public-sector member, or by the secretariat.",
        )
        checks.done()


async def _writable(session: AsyncSession, actor: Actor, need_id: int) -> models.Need:
    need = await get(session, actor, need_id=need_id)
    if need.organisation_id is None:
        access.require_secretariat_admin(actor)
    else:
        access.require_partner_writer(
            actor, organisation_id=need.organisation_id, coalition_id=need.coalition_id
        )
    return need


def _columns(draft: NeedDraft) -> dict[str, Any]:
    columns = asdict(draft)
    columns["country"] = draft.country.upper()
    columns["languages"] = [language.lower() for language in draft.languages]
    columns["target_groups"] = [str(group) for group in draft.target_groups]
    return columns


async def _announce(session: AsyncSession, need: models.Need) -> None:
    assert need.id is not None
    organisation = (
        await session.get(models.Organisation, need.organisation_id)
        if need.organisation_id is not None
        else None
    )
    feed.record(
        session,
        type=messages.EventType.NEED_POSTED,
        subject_type="Need",
        subject_id=need.id,
        coalition_id=need.coalition_id,
        organisation_id=need.organisation_id,
        visibility=models.Visibility.MEMBERS,
        embargo_until=None,
        message=messages.NeedMessage(
            id=need.id,
            ref=need.ref,
            title=need.title,
            country=need.country,
            category=need.category.value,
            quantity=need.quantity,
            unit=need.unit,
            priority=need.priority.value,
            needed_by=need.needed_by,
            organisation=feed.organisation_ref(organisation) if organisation else None,
        ),
    )
