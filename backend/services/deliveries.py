"""Deliveries: money paid or help handed over, reported by the giver, confirmed by another."""

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.actors import Actor
from backend.errors import (
    BAD_RANGE,
    NOT_ALLOWED,
    REQUIRED,
    InvalidTransition,
    NotFound,
    PermissionDenied,
)
from backend.services import access, audit, commitments, feed, fx, needs
from backend.services.validation import Checks
from events import messages

Status = models.DeliveryStatus
DELIVERABLE = frozenset({models.Stage.COMMITTED, models.Stage.IN_DELIVERY})
# An import records deliveries made before their commitment closed, too.
DELIVERED_BEFORE = DELIVERABLE | {
    models.Stage.FULFILLED,
    models.Stage.WITHDRAWN,
    models.Stage.CANCELLED,
}
REVIEWABLE = {
    Status.CONFIRMED: {Status.REPORTED, Status.DISPUTED},
    Status.DISPUTED: {Status.REPORTED},
}


@dataclass(frozen=True)
class DeliveryDraft:
    delivered_on: dt.date
    amount: Decimal | None = None
    currency: str | None = None
    in_kind_line_id: int | None = None
    quantity: Decimal | None = None
    country: str | None = None
    receiving_organisation_id: int | None = None
    beneficiaries: int | None = None
    # Percent of `beneficiaries` credited to this delivery (co-reported reach); None: 100.
    beneficiary_share: Decimal | None = None
    evidence_url: str | None = None
    note: str | None = None


async def report(
    session: AsyncSession,
    actor: Actor,
    *,
    commitment_id: int,
    draft: DeliveryDraft,
    idempotency_key: str | None = None,
    rate_window_days: int = fx.DEFAULT_WINDOW_DAYS,
) -> models.Delivery:
    """Record a delivery against a firm commitment; the first one starts IN_DELIVERY."""
    commitment = await commitments.get(session, actor, commitment_id=commitment_id)
    access.require_partner_writer(
        actor, organisation_id=commitment.organisation_id, coalition_id=commitment.coalition_id
    )
    if idempotency_key is not None:
        earlier = await _by_idempotency_key(session, commitment_id, idempotency_key)
        if earlier is not None:
            return earlier
    if commitment.stage not in DELIVERABLE:
        raise InvalidTransition(
            f"Deliveries are recorded against COMMITTED or IN_DELIVERY commitments, "
            f"not {commitment.stage.value}."
        )
    return await _record(
        session, actor, commitment, draft, idempotency_key, rate_window_days, reports_progress=True
    )


async def record_imported(
    session: AsyncSession,
    actor: Actor,
    *,
    commitment_id: int,
    draft: DeliveryDraft,
    idempotency_key: str,
    rate_window_days: int = fx.DEFAULT_WINDOW_DAYS,
) -> models.Delivery:
    """Record a delivery from the secretariat's records (an import), as `report` would —
    same checks, rate, audit and feed event — against a commitment in any stage after
    PLEDGED: a commitment fulfilled, withdrawn or cancelled since had its deliveries before.
    It leaves the commitment's last progress report alone (the import brings that day).

    Secretariat admins only; partners report deliveries against open commitments."""
    access.require_secretariat_admin(actor)
    commitment = await commitments.get(session, actor, commitment_id=commitment_id)
    earlier = await _by_idempotency_key(session, commitment_id, idempotency_key)
    if earlier is not None:
        return earlier
    if commitment.stage not in DELIVERED_BEFORE:
        raise InvalidTransition(
            f"A {commitment.stage.value} commitment has no deliveries; it is not firm yet."
        )
    return await _record(
        session, actor, commitment, draft, idempotency_key, rate_window_days, reports_progress=False
    )


async def _record(
    session: AsyncSession,
    actor: Actor,
    commitment: models.Commitment,
    draft: DeliveryDraft,
    idempotency_key: str | None,
    rate_window_days: int,
    *,
    reports_progress: bool,
) -> models.Delivery:
    assert commitment.id is not None
    commitment_id = commitment.id
    line = await _check(session, commitment, draft)
    columns = asdict(draft)
    share = columns.pop("beneficiary_share")
    delivery = models.Delivery(
        commitment_id=commitment_id,
        **columns,
        beneficiary_share_bp=None if share is None else int(share * 100),
        unit=line.unit if line else None,
        status=Status.REPORTED,
        reported_by=actor.name,
        reported_by_organisation_id=actor.organisation_id,
        reported_by_token_id=actor.token_id,
        idempotency_key=idempotency_key,
    )
    if line is not None and draft.quantity is not None:
        delivery.in_kind_value_usd = in_kind_value(line, draft.quantity)
    await fx.pin(
        session,
        delivery,
        amount="amount",
        amount_usd="amount_usd",
        on=draft.delivered_on,
        window_days=rate_window_days,
    )
    try:
        async with session.begin_nested():
            session.add(delivery)
            await session.flush()
    except sa.exc.IntegrityError:
        # A concurrent retry with the same key won the race: return its delivery.
        earlier = (
            await _by_idempotency_key(session, commitment_id, idempotency_key)
            if idempotency_key
            else None
        )
        if earlier is None:
            raise
        return earlier
    before = audit.snapshot(commitment)
    if await commitments.start_delivery(session, commitment, reports_progress=reports_progress):
        await audit.record(
            session, actor, action="commitment.in_delivery", entity=commitment, before=before
        )
    await audit.record(session, actor, action="delivery.reported", entity=delivery, before=None)
    await _announce(session, messages.EventType.DELIVERY_REPORTED, delivery, commitment)
    await needs.refresh_for_commitment(session, commitment_id)
    return delivery


def in_kind_value(line: models.InKindLine, quantity: Decimal) -> Decimal | None:
    """What `quantity` of the line is worth in USD, four places as stored; None without one."""
    if line.fair_value_usd is None:
        return None
    return (line.fair_value_usd * quantity / line.quantity).quantize(fx.MONEY_UNIT)


async def confirm(session: AsyncSession, actor: Actor, *, delivery_id: int) -> models.Delivery:
    """The receiving organisation or the secretariat confirms — never whoever reported it."""
    return await _review(session, actor, delivery_id=delivery_id, status=Status.CONFIRMED)


async def dispute(
    session: AsyncSession, actor: Actor, *, delivery_id: int, reason: str
) -> models.Delivery:
    checks = Checks()
    checks.text("reason", reason, required=True, limit=2000)
    checks.done()
    return await _review(
        session, actor, delivery_id=delivery_id, status=Status.DISPUTED, reason=reason
    )


async def get(session: AsyncSession, actor: Actor, *, delivery_id: int) -> models.Delivery:
    """A delivery is visible exactly when its commitment is."""
    delivery, commitment = models.Delivery, models.Commitment
    found = await session.scalar(
        sa.select(delivery)
        .join(commitment, col(commitment.id) == col(delivery.commitment_id))
        .where(col(delivery.id) == delivery_id, access.commitment_listed(actor))
    )
    if found is None:
        raise NotFound("No delivery with this id.")
    return found


async def find(
    session: AsyncSession, actor: Actor, *, commitment_id: int, idempotency_key: str
) -> models.Delivery | None:
    """The delivery recorded against the commitment with this idempotency key, if the actor
    may see the commitment."""
    await commitments.get(session, actor, commitment_id=commitment_id)
    return await _by_idempotency_key(session, commitment_id, idempotency_key)


async def _review(
    session: AsyncSession,
    actor: Actor,
    *,
    delivery_id: int,
    status: models.DeliveryStatus,
    reason: str | None = None,
) -> models.Delivery:
    delivery = await get(session, actor, delivery_id=delivery_id)
    _require_reviewer(actor, delivery)
    if delivery.status not in REVIEWABLE[status]:
        raise InvalidTransition(f"A {delivery.status.value} delivery cannot become {status.value}.")
    before = audit.snapshot(delivery)
    delivery.status = status
    delivery.dispute_reason = reason
    delivery.reviewed_by = actor.name
    delivery.reviewed_at = models.utcnow()
    delivery.updated_at = models.utcnow()
    action = f"delivery.{status.value.lower()}"
    await audit.record(session, actor, action=action, entity=delivery, before=before)
    commitment = await session.get(models.Commitment, delivery.commitment_id)
    assert commitment is not None
    event = {
        Status.CONFIRMED: messages.EventType.DELIVERY_CONFIRMED,
        Status.DISPUTED: messages.EventType.DELIVERY_DISPUTED,
    }[status]
    await _announce(session, event, delivery, commitment)
    await needs.refresh_for_commitment(session, delivery.commitment_id)
    return delivery


def _require_reviewer(actor: Actor, delivery: models.Delivery) -> None:
    access.require_authenticated(actor)
    if _reported_by(actor, delivery):
        raise PermissionDenied("Whoever reported a delivery cannot review it.")
    if actor.is_secretariat_admin:
        return
    receiver = actor.is_partner_writer and actor.belongs_to(delivery.receiving_organisation_id)
    if not receiver:
        raise PermissionDenied("Only the receiving organisation or the secretariat reviews this.")
    if actor.belongs_to(delivery.reported_by_organisation_id):
        raise PermissionDenied("An organisation cannot confirm its own delivery report.")


def _reported_by(actor: Actor, delivery: models.Delivery) -> bool:
    if delivery.reported_by_token_id is not None:
        return actor.token_id == delivery.reported_by_token_id
    # A person signed in through single sign-on has no token row: the report keeps their
    # name (the identity provider's name claim), so that is what recognises them.
    return actor.subject is not None and delivery.reported_by == actor.name


def check_fields(draft: DeliveryDraft, *, resource_kind: models.ResourceKind) -> None:
    """The checks that need no database, for a commitment of `resource_kind`."""
    checks = Checks()
    if draft.delivered_on > dt.date.today():
        checks.fail("delivered_on", BAD_RANGE, "A delivery cannot be dated in the future.")
    cash = draft.amount is not None or draft.currency is not None
    goods = draft.in_kind_line_id is not None or draft.quantity is not None
    if cash and goods:
        checks.fail("amount", NOT_ALLOWED, "Give either an amount or an in-kind line, not both.")
    if not cash and not goods:
        checks.fail("amount", REQUIRED, "Give an amount, or an in-kind line and a quantity.")
    if cash:
        checks.required("amount", draft.amount)
        checks.required("currency", draft.currency)
        checks.positive("amount", draft.amount)
        checks.currency("currency", draft.currency)
        if resource_kind is models.ResourceKind.IN_KIND:
            checks.fail("amount", NOT_ALLOWED, "This commitment has no cash part.")
    if goods:
        checks.required("in_kind_line_id", draft.in_kind_line_id)
        checks.required("quantity", draft.quantity)
        checks.positive("quantity", draft.quantity)
    checks.country("country", draft.country)
    checks.non_negative("beneficiaries", draft.beneficiaries)
    if draft.beneficiary_share is not None:
        checks.positive("beneficiary_share", draft.beneficiary_share, places=2)
        if draft.beneficiary_share.is_finite() and draft.beneficiary_share > 100:
            checks.fail("beneficiary_share", BAD_RANGE, "A share is at most 100 percent.")
        if draft.beneficiaries is None:
            checks.fail("beneficiary_share", NOT_ALLOWED, "Give the beneficiaries it shares.")
    checks.url("evidence_url", draft.evidence_url)
    checks.text("note", draft.note, limit=2000)
    checks.done()


async def _check(
    session: AsyncSession, commitment: models.Commitment, draft: DeliveryDraft
) -> models.InKindLine | None:
    check_fields(draft, resource_kind=commitment.resource_kind)
    if draft.receiving_organisation_id is not None and (
        await session.get(models.Organisation, draft.receiving_organisation_id) is None
    ):
        raise NotFound("No organisation with the receiving organisation's id.")
    if draft.in_kind_line_id is None:
        return None
    line = await session.get(models.InKindLine, draft.in_kind_line_id)
    if line is None or line.commitment_id != commitment.id:
        raise NotFound("No in-kind line with this id in the commitment.")
    return line


async def _by_idempotency_key(
    session: AsyncSession, commitment_id: int, key: str
) -> models.Delivery | None:
    delivery = models.Delivery
    return await session.scalar(
        sa.select(delivery).where(
            col(delivery.commitment_id) == commitment_id, col(delivery.idempotency_key) == key
        )
    )


async def _announce(
    session: AsyncSession,
    event: messages.EventType,
    delivery: models.Delivery,
    commitment: models.Commitment,
) -> None:
    assert delivery.id is not None and commitment.id is not None
    organisation = await session.get(models.Organisation, commitment.organisation_id)
    assert organisation is not None and organisation.id is not None
    feed.record(
        session,
        type=event,
        subject_type="Delivery",
        subject_id=delivery.id,
        coalition_id=commitment.coalition_id,
        organisation_id=commitment.organisation_id,
        visibility=commitment.visibility,
        embargo_until=commitment.embargo_until,
        message=messages.DeliveryMessage(
            id=delivery.id,
            commitment_id=commitment.id,
            commitment_ref=commitment.ref,
            commitment_title=commitment.title,
            organisation=feed.organisation_ref(organisation),
            status=delivery.status.value,
            delivered_on=delivery.delivered_on,
            amount=delivery.amount,
            currency=delivery.currency,
            quantity=delivery.quantity,
            unit=delivery.unit,
            country=delivery.country,
            beneficiaries=delivery.beneficiaries,
        ),
    )
