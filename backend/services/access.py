"""Who may do what, and who may see what — the rules every read and write path shares.

Reads use the SQL predicates here, so lists, nested fields and `node(id:)` all filter the
same way; writes call the `require_*` checks before changing anything.
"""

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from backend import models
from backend.actors import Actor
from backend.errors import PermissionDenied, Unauthenticated
from events.envelope import Envelope


def require_authenticated(actor: Actor) -> None:
    if actor.is_anonymous:
        raise Unauthenticated("Sign in with an API token to do this.")


def require_secretariat_admin(actor: Actor) -> None:
    require_authenticated(actor)
    if not actor.is_secretariat_admin:
        raise PermissionDenied("Only the secretariat's administrators may do this.")


def require_secretariat(actor: Actor) -> None:
    require_authenticated(actor)
    if not actor.is_secretariat:
        raise PermissionDenied("Only the secretariat may see this.")


def require_partner_writer(actor: Actor, *, organisation_id: int, coalition_id: int) -> None:
    """A partner writes for its own organisation, in coalitions where it is an ACTIVE member."""
    require_authenticated(actor)
    if actor.is_secretariat_admin:
        return
    if not actor.is_partner_writer or not actor.belongs_to(organisation_id):
        raise PermissionDenied("You may only write for your own organisation.")
    if not actor.is_member_of(coalition_id):
        raise PermissionDenied("Your organisation is not an active member of this coalition.")


def require_organisation_admin(actor: Actor, *, organisation_id: int) -> None:
    """Partner admins manage their own organisation; secretariat admins manage any."""
    require_authenticated(actor)
    if actor.is_secretariat_admin:
        return
    if not (actor.is_partner_admin and actor.belongs_to(organisation_id)):
        raise PermissionDenied("Only your organisation's administrators may do this.")


def can_see_amounts(actor: Actor, commitment: models.Commitment) -> bool:
    """Confidential figures are for the owning organisation and the secretariat only."""
    if commitment.visibility is not models.Visibility.CONFIDENTIAL:
        return True
    return actor.is_secretariat or actor.belongs_to(commitment.organisation_id)


def _listed(
    actor: Actor, *, organisation_id: Any, coalition_id: Any, visibility: Any, embargo: Any
) -> sa.ColumnElement[bool]:
    if actor.is_secretariat:
        return sa.true()
    now = dt.datetime.now(dt.UTC)
    open_to_reader = sa.and_(
        sa.or_(embargo.is_(None), embargo <= now),
        sa.or_(
            visibility != models.Visibility.MEMBERS,
            coalition_id.in_(sorted(actor.member_coalition_ids)),
        ),
    )
    if actor.organisation_id is None:
        return open_to_reader
    return sa.or_(organisation_id == actor.organisation_id, open_to_reader)


def commitment_listed(actor: Actor) -> sa.ColumnElement[bool]:
    """Commitments the actor may see listed (confidential ones are listed, without figures)."""
    commitment = models.Commitment
    return _listed(
        actor,
        organisation_id=col(commitment.organisation_id),
        coalition_id=col(commitment.coalition_id),
        visibility=col(commitment.visibility),
        embargo=col(commitment.embargo_until),
    )


def activity_listed(actor: Actor) -> sa.ColumnElement[bool]:
    activity = models.Activity
    return _listed(
        actor,
        organisation_id=col(activity.organisation_id),
        coalition_id=col(activity.coalition_id),
        visibility=col(activity.visibility),
        embargo=col(activity.embargo_until),
    )


def membership_listed(actor: Actor) -> sa.ColumnElement[bool]:
    """Applications and rejections are between the applicant and the secretariat."""
    membership = models.Membership
    if actor.is_secretariat:
        return sa.true()
    hidden = [models.MembershipStatus.APPLIED, models.MembershipStatus.REJECTED]
    public = col(membership.status).not_in(hidden)
    if actor.organisation_id is None:
        return public
    return sa.or_(public, col(membership.organisation_id) == actor.organisation_id)


def sees_event(actor: Actor, envelope: Envelope) -> bool:
    """The feed's rule, the same as the queries': a subscriber sees what it could list."""
    if actor.is_secretariat or actor.belongs_to(envelope.organisation_id):
        return True
    if envelope.embargo_until is not None:
        # Recorded under embargo: for the owner and the secretariat only, even once the
        # embargo is over; everyone else hears of it from the `*.announced` event then.
        return False
    if envelope.visibility == models.Visibility.MEMBERS.value:
        return envelope.coalition_id is not None and actor.is_member_of(envelope.coalition_id)
    return True


def sees_event_amounts(actor: Actor, envelope: Envelope) -> bool:
    """Confidential figures travel in the payload but reach only the owner and secretariat."""
    if envelope.visibility != models.Visibility.CONFIDENTIAL.value:
        return True
    return actor.is_secretariat or actor.belongs_to(envelope.organisation_id)
