"""The feed message catalogue: every event type and the payload it carries.

Payloads are denormalised (names, not just ids) so a subscriber never needs a database
query to show an event. Amounts are included; the fan-out strips them for readers who may
not see a confidential commitment's figures.
"""

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer


def _figure(value: Decimal) -> str:
    # One spelling for one number, whichever path built the message: "5000", "1000.5",
    # never "5000.0000" or "1E+3".
    return format(value.normalize(), "f")


Figure = Annotated[Decimal, PlainSerializer(_figure, return_type=str, when_used="json")]


class EventType(StrEnum):
    COMMITMENT_PLEDGED = "commitment.pledged"
    # The commitment's embargo ended: it is public news now (the pledge was owner-only).
    COMMITMENT_ANNOUNCED = "commitment.announced"
    COMMITMENT_REVISED = "commitment.revised"
    COMMITMENT_COMMITTED = "commitment.committed"
    COMMITMENT_IN_DELIVERY = "commitment.in_delivery"
    COMMITMENT_FULFILLED = "commitment.fulfilled"
    COMMITMENT_WITHDRAWN = "commitment.withdrawn"
    COMMITMENT_CANCELLED = "commitment.cancelled"
    DELIVERY_REPORTED = "delivery.reported"
    DELIVERY_CONFIRMED = "delivery.confirmed"
    DELIVERY_DISPUTED = "delivery.disputed"
    MEMBERSHIP_JOINED = "membership.joined"
    MEMBERSHIP_CHANGED = "membership.changed"
    ACTIVITY_PUBLISHED = "activity.published"
    ACTIVITY_ANNOUNCED = "activity.announced"
    NEED_POSTED = "need.posted"
    OFFER_LISTED = "offer.listed"
    MATCH_PROPOSED = "match.proposed"
    MATCH_ACCEPTED = "match.accepted"
    COMMUNICATION_PUBLISHED = "communication.published"


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)


class OrganisationRef(Message):
    id: int
    name: str
    acronym: str | None = None


class InKindSummary(Message):
    category: str
    quantity: Figure
    unit: str
    description: str


class CommitmentMessage(Message):
    id: int
    ref: str
    title: str
    stage: str
    resource_kind: str
    organisation: OrganisationRef
    workstream: str | None = None
    amount: Figure | None = None
    currency: str | None = None
    amount_usd: Figure | None = None
    in_kind: list[InKindSummary] = []
    countries: list[str] = []
    reason: str | None = None


class DeliveryMessage(Message):
    id: int
    commitment_id: int
    commitment_ref: str
    commitment_title: str
    organisation: OrganisationRef
    status: str
    delivered_on: dt.date
    amount: Figure | None = None
    currency: str | None = None
    quantity: Figure | None = None
    unit: str | None = None
    country: str | None = None
    beneficiaries: int | None = None


class MembershipMessage(Message):
    id: int
    organisation: OrganisationRef
    status: str
    role: str


class ActivityMessage(Message):
    id: int
    kind: str
    title: str
    occurred_at: dt.datetime
    organisation: OrganisationRef | None = None
    workstream: str | None = None
    countries: list[str] = []


class NeedMessage(Message):
    id: int
    ref: str
    title: str
    country: str
    category: str
    quantity: Figure
    unit: str
    priority: str
    needed_by: dt.date | None = None
    # The ministry that asks; None when the secretariat posted the need.
    organisation: OrganisationRef | None = None


class OfferMessage(Message):
    id: int
    ref: str
    title: str
    category: str
    countries: list[str] = []
    worldwide: bool
    capacity: Figure
    unit: str
    organisation: OrganisationRef


class MatchMessage(Message):
    id: int
    status: str
    need_ref: str
    need_title: str
    country: str
    offer_ref: str
    offer_title: str
    quantity: Figure
    unit: str
    score: int
    # The offering member.
    organisation: OrganisationRef


class CommunicationMessage(Message):
    """A published communication action of a visibility plan."""

    id: int
    kind: str
    title: str
    published_on: dt.date
    link: str | None = None
    # What it acknowledges: a commitment (ref and title) or a workstream (name).
    commitment_ref: str | None = None
    commitment_title: str | None = None
    workstream: str | None = None
    organisation: OrganisationRef | None = None


CATALOGUE: dict[EventType, type[Message]] = {
    EventType.COMMITMENT_PLEDGED: CommitmentMessage,
    EventType.COMMITMENT_ANNOUNCED: CommitmentMessage,
    EventType.COMMITMENT_REVISED: CommitmentMessage,
    EventType.COMMITMENT_COMMITTED: CommitmentMessage,
    EventType.COMMITMENT_IN_DELIVERY: CommitmentMessage,
    EventType.COMMITMENT_FULFILLED: CommitmentMessage,
    EventType.COMMITMENT_WITHDRAWN: CommitmentMessage,
    EventType.COMMITMENT_CANCELLED: CommitmentMessage,
    EventType.DELIVERY_REPORTED: DeliveryMessage,
    EventType.DELIVERY_CONFIRMED: DeliveryMessage,
    EventType.DELIVERY_DISPUTED: DeliveryMessage,
    EventType.MEMBERSHIP_JOINED: MembershipMessage,
    EventType.MEMBERSHIP_CHANGED: MembershipMessage,
    EventType.ACTIVITY_PUBLISHED: ActivityMessage,
    EventType.ACTIVITY_ANNOUNCED: ActivityMessage,
    EventType.NEED_POSTED: NeedMessage,
    EventType.OFFER_LISTED: OfferMessage,
    EventType.MATCH_PROPOSED: MatchMessage,
    EventType.MATCH_ACCEPTED: MatchMessage,
    EventType.COMMUNICATION_PUBLISHED: CommunicationMessage,
}


def check(event_type: EventType, message: Message) -> None:
    """Refuse a payload that does not match the catalogue entry for its type."""
    expected = CATALOGUE[event_type]
    if type(message) is not expected:
        raise TypeError(f"{event_type} carries {expected.__name__}, not {type(message).__name__}")
