"""The live feed: `coalitionFeed`, over graphql-transport-ws.

Each event is decoded once per process (the fan-out hands every subscriber the same
object, and its payload is parsed once here); visibility is an in-memory predicate on the
envelope. No subscriber holds a database session.
"""

import datetime as dt
from collections.abc import AsyncGenerator, Iterable
from contextlib import aclosing
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from backend.actors import Actor
from backend.graphql import relay
from backend.graphql.bounded import Bounded
from backend.graphql.context import Context, LiveFeed
from backend.services import access
from events import messages
from events.bus import InvalidCursor
from events.envelope import Envelope, Positioned
from events.fanout import Disconnected
from events.resume import Reset, resume

# Registered under the GraphQL name FeedEventType, documented.
strawberry.enum(
    messages.EventType,
    name="FeedEventType",
    description="What happened: `commitment.pledged` is COMMITMENT_PLEDGED, and so on.",
)

FeedInfo = Info[Context, None]


@strawberry.type(description="An organisation as named in a feed event.")
class OrganisationSnapshot:
    id: strawberry.ID = strawberry.field(description="Global id of the Organisation.")
    name: str = strawberry.field(description="Name.")
    acronym: str | None = strawberry.field(description="Short name.")

    @classmethod
    def of(cls, ref: messages.OrganisationRef) -> "OrganisationSnapshot":
        return cls(
            id=relay.to_global_id("Organisation", ref.id), name=ref.name, acronym=ref.acronym
        )


@strawberry.type(description="In-kind help as announced.")
class InKindSnapshot:
    category: str = strawberry.field(description="CONNECTIVITY, DEVICES, ...")
    quantity: Decimal = strawberry.field(description="How much, in `unit`.")
    unit: str = strawberry.field(description="GB, device, seat, ...")
    description: str = strawberry.field(description="What exactly.")


@strawberry.type(description="A commitment as it stood when the event happened.")
class CommitmentSnapshot:
    id: strawberry.ID = strawberry.field(description="Global id of the Commitment.")
    ref: str = strawberry.field(description="Short reference.")
    title: str = strawberry.field(description="What is promised.")
    stage: str = strawberry.field(description="Its stage after the event.")
    resource_kind: str = strawberry.field(description="FINANCIAL, IN_KIND or MIXED.")
    workstream: str | None = strawberry.field(description="Workstream name.")
    amount: Decimal | None = strawberry.field(description="Null when confidential to you.")
    currency: str | None = strawberry.field(description="ISO 4217.")
    amount_usd: Decimal | None = strawberry.field(description="Null when confidential to you.")
    in_kind: list[InKindSnapshot] = strawberry.field(description="In-kind lines.")
    countries: list[str] = strawberry.field(description="Target countries.")
    reason: str | None = strawberry.field(description="Why it was withdrawn or cancelled.")


@strawberry.type(description="A delivery as reported or reviewed.")
class DeliverySnapshot:
    id: strawberry.ID = strawberry.field(description="Global id of the Delivery.")
    commitment_id: strawberry.ID = strawberry.field(description="Global id of its Commitment.")
    commitment_ref: str = strawberry.field(description="The commitment's reference.")
    commitment_title: str = strawberry.field(description="The commitment's title.")
    status: str = strawberry.field(description="REPORTED, CONFIRMED or DISPUTED.")
    delivered_on: dt.date = strawberry.field(description="When.")
    amount: Decimal | None = strawberry.field(description="Null for in-kind or confidential.")
    currency: str | None = strawberry.field(description="ISO 4217.")
    quantity: Decimal | None = strawberry.field(description="In-kind quantity.")
    unit: str | None = strawberry.field(description="Unit of the quantity.")
    country: str | None = strawberry.field(description="Where.")
    beneficiaries: int | None = strawberry.field(description="People reached.")


@strawberry.type(description="A membership after the change.")
class MembershipSnapshot:
    id: strawberry.ID = strawberry.field(description="Global id of the Membership.")
    status: str = strawberry.field(description="ACTIVE, SUSPENDED, WITHDRAWN.")
    role: str = strawberry.field(description="MEMBER, WORKSTREAM_LEAD, ...")


@strawberry.type(description="An activity as published.")
class ActivitySnapshot:
    id: strawberry.ID = strawberry.field(description="Global id of the Activity.")
    kind: str = strawberry.field(description="EVENT, DEBATE, LAUNCH, ...")
    title: str = strawberry.field(description="Headline.")
    occurred_at: dt.datetime = strawberry.field(description="When it happened.")
    workstream: str | None = strawberry.field(description="Workstream name.")
    countries: list[str] = strawberry.field(description="Where.")


@strawberry.type(description="A need as posted.")
class NeedSnapshot:
    id: strawberry.ID = strawberry.field(description="Global id of the Need.")
    ref: str = strawberry.field(description="The need's reference.")
    title: str = strawberry.field(description="What is asked.")
    country: str = strawberry.field(description="ISO 3166-1 alpha-2.")
    category: str = strawberry.field(description="In-kind category.")
    quantity: Decimal = strawberry.field(description="How much is asked.")
    unit: str = strawberry.field(description="Unit of the quantity.")
    priority: str = strawberry.field(description="HIGH, MEDIUM or LOW.")
    needed_by: dt.date | None = strawberry.field(description="When it is needed.")


@strawberry.type(description="An offer as listed.")
class OfferSnapshot:
    id: strawberry.ID = strawberry.field(description="Global id of the Offer.")
    ref: str = strawberry.field(description="The offer's reference.")
    title: str = strawberry.field(description="What is offered.")
    category: str = strawberry.field(description="In-kind category.")
    countries: list[str] = strawberry.field(description="Where it is available.")
    worldwide: bool = strawberry.field(description="Available in every country.")
    capacity: Decimal = strawberry.field(description="How much is offered.")
    unit: str = strawberry.field(description="Unit of the capacity.")


@strawberry.type(description="A match as proposed or accepted.")
class MatchSnapshot:
    id: strawberry.ID = strawberry.field(description="Global id of the Match.")
    status: str = strawberry.field(description="PROPOSED or ACCEPTED.")
    need_ref: str = strawberry.field(description="The need's reference.")
    need_title: str = strawberry.field(description="What the need asks.")
    country: str = strawberry.field(description="The need's country.")
    offer_ref: str = strawberry.field(description="The offer's reference.")
    offer_title: str = strawberry.field(description="What the offer gives.")
    quantity: Decimal = strawberry.field(description="How much of the offer answers the need.")
    unit: str = strawberry.field(description="Unit of the quantity.")
    score: int = strawberry.field(description="The ranking's score out of 100.")


@strawberry.type(description="A communication action of a visibility plan, as published.")
class CommunicationSnapshot:
    id: strawberry.ID = strawberry.field(description="Global id of the CommunicationAction.")
    kind: str = strawberry.field(description="PRESS_RELEASE, SOCIAL_POST, ...")
    title: str = strawberry.field(description="Headline.")
    published_on: dt.date = strawberry.field(description="When it was published.")
    link: str | None = strawberry.field(description="Where to read it.")
    commitment_ref: str | None = strawberry.field(description="The commitment acknowledged.")
    commitment_title: str | None = strawberry.field(description="Its title.")
    workstream: str | None = strawberry.field(description="The workstream acknowledged.")


@strawberry.interface(description="An item of the live feed: an event, or a reset.")
class FeedItem:
    cursor: str | None = strawberry.field(
        description="Pass as `after` when reconnecting, to get what came after this item."
    )


@strawberry.type(description="Something that happened in a coalition.")
class FeedEvent(FeedItem):
    event_id: strawberry.ID = strawberry.field(description="The event's own id (dedupe key).")
    type: messages.EventType = strawberry.field(description="What happened.")
    occurred_at: dt.datetime = strawberry.field(description="When.")
    coalition_id: strawberry.ID | None = strawberry.field(description="Global id of the coalition.")
    organisation: OrganisationSnapshot | None = strawberry.field(
        description="The acting organisation."
    )
    commitment: CommitmentSnapshot | None = strawberry.field(
        description="The subject, for commitment.* events."
    )
    delivery: DeliverySnapshot | None = strawberry.field(
        description="The subject, for delivery.* events."
    )
    membership: MembershipSnapshot | None = strawberry.field(
        description="The subject, for membership.* events."
    )
    activity: ActivitySnapshot | None = strawberry.field(
        description="The subject, for activity.* events."
    )
    need: NeedSnapshot | None = strawberry.field(description="The subject, for need.* events.")
    offer: OfferSnapshot | None = strawberry.field(description="The subject, for offer.* events.")
    match: MatchSnapshot | None = strawberry.field(description="The subject, for match.* events.")
    communication: CommunicationSnapshot | None = strawberry.field(
        description="The subject, for communication.* events."
    )


@strawberry.type(
    description="Your cursor was older than the retained history: events were missed. "
    "Refetch with a normal query, then carry on with this item's cursor."
)
class FeedReset(FeedItem):
    message: str = strawberry.field(description="What happened.")


# Each event's payload as its catalogue type, by event id.
_DECODED: Bounded[str, messages.Message] = Bounded(10_000)


def _message(envelope: Envelope) -> messages.Message:
    """The payload as its catalogue type, parsed once per process for all subscribers."""
    found = _DECODED.get(envelope.id)
    if found is None:
        model = messages.CATALOGUE[messages.EventType(envelope.type)]
        found = _DECODED.put(envelope.id, model.model_validate(envelope.payload))
    return found


def feed_item(item: Positioned | Reset, *, amounts: bool) -> FeedItem:
    """The GraphQL object for a replayed or live item; `amounts`: whether the subscriber
    may see its confidential figures (`access.sees_event_amounts`)."""
    if isinstance(item, Reset):
        return FeedReset(cursor=item.cursor, message="Events after your cursor are no longer kept.")
    return _event(item, amounts=amounts)


def _event(positioned: Positioned, *, amounts: bool) -> FeedEvent:
    envelope = positioned.envelope
    message = _message(envelope)
    event = FeedEvent(
        cursor=positioned.cursor,
        event_id=strawberry.ID(envelope.id),
        type=messages.EventType(envelope.type),
        occurred_at=envelope.occurred_at,
        coalition_id=relay.to_global_id("Coalition", envelope.coalition_id)
        if envelope.coalition_id
        else None,
        organisation=None,
        commitment=None,
        delivery=None,
        membership=None,
        activity=None,
        need=None,
        offer=None,
        match=None,
        communication=None,
    )
    if isinstance(message, messages.CommitmentMessage):
        event.organisation = OrganisationSnapshot.of(message.organisation)
        event.commitment = CommitmentSnapshot(
            id=relay.to_global_id("Commitment", message.id),
            ref=message.ref,
            title=message.title,
            stage=message.stage,
            resource_kind=message.resource_kind,
            workstream=message.workstream,
            amount=message.amount if amounts else None,
            currency=message.currency,
            amount_usd=message.amount_usd if amounts else None,
            in_kind=[
                InKindSnapshot(
                    category=line.category,
                    quantity=line.quantity,
                    unit=line.unit,
                    description=line.description,
                )
                for line in message.in_kind
            ],
            countries=list(message.countries),
            reason=message.reason,
        )
    elif isinstance(message, messages.DeliveryMessage):
        event.organisation = OrganisationSnapshot.of(message.organisation)
        event.delivery = DeliverySnapshot(
            id=relay.to_global_id("Delivery", message.id),
            commitment_id=relay.to_global_id("Commitment", message.commitment_id),
            commitment_ref=message.commitment_ref,
            commitment_title=message.commitment_title,
            status=message.status,
            delivered_on=message.delivered_on,
            amount=message.amount if amounts else None,
            currency=message.currency,
            quantity=message.quantity,
            unit=message.unit,
            country=message.country,
            beneficiaries=message.beneficiaries,
        )
    elif isinstance(message, messages.MembershipMessage):
        event.organisation = OrganisationSnapshot.of(message.organisation)
        event.membership = MembershipSnapshot(
            id=relay.to_global_id("Membership", message.id),
            status=message.status,
            role=message.role,
        )
    elif isinstance(message, messages.ActivityMessage):
        if message.organisation is not None:
            event.organisation = OrganisationSnapshot.of(message.organisation)
        event.activity = ActivitySnapshot(
            id=relay.to_global_id("Activity", message.id),
            kind=message.kind,
            title=message.title,
            occurred_at=message.occurred_at,
            workstream=message.workstream,
            countries=list(message.countries),
        )
    else:
        _coordination(event, message)
    return event


def _coordination(event: FeedEvent, message: messages.Message) -> None:
    """The subjects of the coordination layer's events: needs, offers, matches and
    published communication actions."""
    if isinstance(message, messages.NeedMessage):
        if message.organisation is not None:
            event.organisation = OrganisationSnapshot.of(message.organisation)
        event.need = NeedSnapshot(
            id=relay.to_global_id("Need", message.id),
            ref=message.ref,
            title=message.title,
            country=message.country,
            category=message.category,
            quantity=message.quantity,
            unit=message.unit,
            priority=message.priority,
            needed_by=message.needed_by,
        )
    elif isinstance(message, messages.OfferMessage):
        event.organisation = OrganisationSnapshot.of(message.organisation)
        event.offer = OfferSnapshot(
            id=relay.to_global_id("Offer", message.id),
            ref=message.ref,
            title=message.title,
            category=message.category,
            countries=list(message.countries),
            worldwide=message.worldwide,
            capacity=message.capacity,
            unit=message.unit,
        )
    elif isinstance(message, messages.MatchMessage):
        event.organisation = OrganisationSnapshot.of(message.organisation)
        event.match = MatchSnapshot(
            id=relay.to_global_id("Match", message.id),
            status=message.status,
            need_ref=message.need_ref,
            need_title=message.need_title,
            country=message.country,
            offer_ref=message.offer_ref,
            offer_title=message.offer_title,
            quantity=message.quantity,
            unit=message.unit,
            score=message.score,
        )
    elif isinstance(message, messages.CommunicationMessage):
        if message.organisation is not None:
            event.organisation = OrganisationSnapshot.of(message.organisation)
        event.communication = CommunicationSnapshot(
            id=relay.to_global_id("CommunicationAction", message.id),
            kind=message.kind,
            title=message.title,
            published_on=message.published_on,
            link=message.link,
            commitment_ref=message.commitment_ref,
            commitment_title=message.commitment_title,
            workstream=message.workstream,
        )


@dataclass(frozen=True)
class FeedFilter:
    """What one subscriber asked for, and may see."""

    actor: Actor
    coalition_id: int | None
    types: frozenset[str] | None

    @classmethod
    def of(
        cls, actor: Actor, coalition_id: str | None, types: Iterable[messages.EventType] | None
    ) -> "FeedFilter":
        decoded = relay.from_global_id(coalition_id) if coalition_id else None
        if coalition_id and (decoded is None or decoded[0] != "Coalition"):
            raise GraphQLError("Not the id of a Coalition.", extensions={"code": "BAD_ID"})
        wanted_types = frozenset(messages.EventType(type).value for type in types or ())
        return cls(actor, decoded[1] if decoded else None, wanted_types or None)

    def wants(self, envelope: Envelope) -> bool:
        if self.coalition_id is not None and envelope.coalition_id != self.coalition_id:
            return False
        if self.types is not None and envelope.type not in self.types:
            return False
        return access.sees_event(self.actor, envelope)


async def feed_items(
    feed: LiveFeed | None, wanted: FeedFilter, *, after: str | None
) -> AsyncGenerator[Positioned | Reset, None]:
    """What the subscriber missed since `after`, then live items, filtered for it; the
    feed's failures as the GraphQL errors its clients handle (BAD_CURSOR, RESUME)."""
    if feed is None:
        raise GraphQLError("The live feed is not running.", extensions={"code": "INTERNAL"})
    replayed_then_live = cast(
        AsyncGenerator[Positioned | Reset, None], resume(feed.fanout, feed.bus, after=after)
    )
    try:
        async with aclosing(replayed_then_live) as items:
            async for item in items:
                if isinstance(item, Reset) or wanted.wants(item.envelope):
                    yield item
    except InvalidCursor as error:
        raise GraphQLError(
            "Not a cursor of this feed.", extensions={"code": "BAD_CURSOR"}
        ) from error
    except Disconnected as error:
        # Too slow to keep up (or the hub restarted its reader): the operation ends
        # with this error, and the client subscribes again with its last cursor.
        raise GraphQLError(
            "Disconnected from the feed; subscribe again with your last cursor.",
            extensions={"code": "RESUME"},
        ) from error


@strawberry.type(
    description="Live events over websockets (graphql-transport-ws); sign in with "
    "`authorization` in `connection_init`."
)
class Subscription:
    @strawberry.subscription(
        description="New pledges, stage changes, deliveries, memberships and activities as "
        "they are committed. With `after` (the last cursor you received) you first get "
        "what you missed, then live events: no gap, no duplicate. If `after` is older than "
        "the retained history you get a FeedReset first."
    )
    async def coalition_feed(
        self,
        info: FeedInfo,
        coalition_id: strawberry.ID | None = None,
        types: list[messages.EventType] | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[FeedItem, None]:
        # The reference path, one execution per subscriber and event. Over
        # graphql-transport-ws the hub takes a shortcut for plain documents: each event
        # rendered once per (document, variables, visibility) — see feed_renders.
        wanted = FeedFilter.of(info.context.actor, coalition_id, types)
        async with aclosing(feed_items(info.context.feed, wanted, after=after)) as items:
            async for item in items:
                amounts = isinstance(item, Positioned) and access.sees_event_amounts(
                    wanted.actor, item.envelope
                )
                yield feed_item(item, amounts=amounts)
