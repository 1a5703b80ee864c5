"""Who may do what, and who may see what — the rules every read and write path shares.

Reads use the SQL predicates here, so lists, nested fields and `node(id:)` all filter the
same way; writes call the `require_*` checks before changing anything.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from backend import models
from backend.actors import Actor
from backend.errors import PermissionDenied, Unauthenticated
from events.envelope import Envelope

# The kinds of reader whose reads differ (reader_kind).
SECRETARIAT, ORGANISATION, ANONYMOUS = "secretariat", "organisation", "anonymous"


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


@dataclass(frozen=True)
class Reader:
    """Who reads, as the SQL the rules below compare with.

    The resolvers read as one actor, whose values become the statement's parameters;
    compiled reads (backend/graphql/compiled) build one statement per kind of reader and
    bind the organisation, the member coalitions and the time at each execution.
    """

    secretariat: bool
    # The reader's organisation (a value or a bound parameter); None: reads anonymously.
    organisation_id: Any | None
    # `coalition column` -> whether the reader's organisation is an ACTIVE member of it.
    member_of: Callable[[Any], sa.ColumnElement[bool]]
    # Embargoes end at this instant.
    now: Any


def reader_kind(actor: Actor) -> str:
    """Whose rules `reader_of` applies: the secretariat's, an organisation's (then its id and
    member coalitions matter too), or an anonymous reader's."""
    if actor.is_secretariat:
        return SECRETARIAT
    return ANONYMOUS if actor.organisation_id is None else ORGANISATION


def reader_of(actor: Actor) -> Reader:
    member_coalition_ids = sorted(actor.member_coalition_ids)
    return Reader(
        secretariat=actor.is_secretariat,
        organisation_id=actor.organisation_id,
        member_of=lambda coalition_id: coalition_id.in_(member_coalition_ids),
        now=dt.datetime.now(dt.UTC),
    )


def amounts_shown(reader: Reader, commitment: Any) -> sa.ColumnElement[bool]:
    """`can_see_amounts` in SQL, for a commitments table or alias."""
    if reader.secretariat:
        return sa.true()
    open_figures = commitment.c.visibility != models.Visibility.CONFIDENTIAL
    if reader.organisation_id is None:
        return open_figures
    return sa.or_(open_figures, commitment.c.organisation_id == reader.organisation_id)


def listed(reader: Reader, table: Any) -> sa.ColumnElement[bool]:
    """Commitments or activities (`table`: either, or an alias) the reader may see listed:
    its own, and the others once their embargo is over, members-only ones to members."""
    if reader.secretariat:
        return sa.true()
    embargo = table.c.embargo_until
    open_to_reader = sa.and_(
        sa.or_(embargo.is_(None), embargo <= reader.now),
        sa.or_(
            table.c.visibility != models.Visibility.MEMBERS,
            reader.member_of(table.c.coalition_id),
        ),
    )
    if reader.organisation_id is None:
        return open_to_reader
    return sa.or_(table.c.organisation_id == reader.organisation_id, open_to_reader)


def commitment_listed(actor: Actor) -> sa.ColumnElement[bool]:
    """Commitments the actor may see listed (confidential ones are listed, without figures)."""
    return listed(reader_of(actor), models.table_of(models.Commitment))


def activity_listed(actor: Actor) -> sa.ColumnElement[bool]:
    return listed(reader_of(actor), models.table_of(models.Activity))


def memberships_listed(reader: Reader, membership: Any) -> sa.ColumnElement[bool]:
    """Applications and rejections are between the applicant and the secretariat."""
    if reader.secretariat:
        return sa.true()
    hidden = [models.MembershipStatus.APPLIED, models.MembershipStatus.REJECTED]
    public = membership.c.status.not_in(hidden)
    if reader.organisation_id is None:
        return public
    return sa.or_(public, membership.c.organisation_id == reader.organisation_id)


def membership_listed(actor: Actor) -> sa.ColumnElement[bool]:
    return memberships_listed(reader_of(actor), models.table_of(models.Membership))


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
