"""Offers: type, the coalition's catalogue, and the writes of members and reviewers."""

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from backend import models
from backend.errors import DomainError
from backend.graphql import errors, inputs, money, relay
from backend.graphql.context import Context
from backend.services import offers

if TYPE_CHECKING:
    from backend.graphql.coalitions import Coalition
    from backend.graphql.matches import Match
    from backend.graphql.organisations import Organisation

from backend.graphql import coalitions as coalition_types
from backend.graphql import organisations as organisation_types

OfferInfo = Info[Context, None]
NEWEST_FIRST = relay.Ordering("newest", models.Offer.created_at, descending=True, is_datetime=True)


@strawberry.type(
    description="A member's catalogue entry of free resources. Drafts and offers under review "
    "are seen by their owner and the secretariat only; listed ones by coalition members too."
)
class Offer(relay.Node):
    ref: str = strawberry.field(description="The offer's reference, e.g. OFR-7A1B2C3D4E.")
    category: models.InKindCategory = strawberry.field(description="What kind of help.")
    title: str = strawberry.field(description="What is offered, in a line.")
    description: str | None = strawberry.field(description="More detail.")
    countries: list[str] = strawberry.field(description="Where it is available (ISO alpha-2).")
    worldwide: bool = strawberry.field(description="Available in every country.")
    languages: list[str] = strawberry.field(description="ISO 639-1 codes.")
    capacity: Decimal = strawberry.field(description="How much in all, in `unit`.")
    reserved: Decimal = strawberry.field(description="What accepted matches have taken.")
    remaining: Decimal = strawberry.field(description="What is left to match.")
    unit: str = strawberry.field(description="e.g. learner, teacher, device, GB.")
    free_of_charge: bool = strawberry.field(description="Given free of charge.")
    free_until: dt.date | None = strawberry.field(description="Free until this day, if limited.")
    offline_capable: bool = strawberry.field(description="Works without a connection.")
    low_bandwidth_friendly: bool = strawberry.field(description="Works on low bandwidth.")
    accessibility_notes: str | None = strawberry.field(
        description="For learners with disabilities."
    )
    attestations: list[models.Attestation] = strawberry.field(
        description="What the member attests."
    )
    status: models.OfferStatus = strawberry.field(
        description="DRAFT -> UNDER_REVIEW -> LISTED -> PAUSED | WITHDRAWN."
    )
    created_at: dt.datetime = strawberry.field(description="When it was created.")
    model: strawberry.Private[models.Offer]

    @classmethod
    def from_model(cls, offer: models.Offer) -> "Offer":
        return cls(
            id=relay.to_global_id("Offer", offer.id),
            ref=offer.ref,
            category=offer.category,
            title=offer.title,
            description=offer.description,
            countries=list(offer.countries),
            worldwide=offer.worldwide,
            languages=list(offer.languages),
            capacity=money.quantity(offer.capacity),
            reserved=money.quantity(offer.reserved),
            remaining=money.quantity(offers.remaining(offer)),
            unit=offer.unit,
            free_of_charge=offer.free_of_charge,
            free_until=offer.free_until,
            offline_capable=offer.offline_capable,
            low_bandwidth_friendly=offer.low_bandwidth_friendly,
            accessibility_notes=offer.accessibility_notes,
            attestations=[models.Attestation(code) for code in offer.attestations],
            status=offer.status,
            created_at=offer.created_at,
            model=offer,
        )

    @strawberry.field(description="The offering member.")
    async def organisation(
        self, info: OfferInfo
    ) -> Annotated["Organisation", strawberry.lazy("backend.graphql.organisations")]:
        found = await info.context.loaders.organisation.load(self.model.organisation_id)
        assert found is not None
        return organisation_types.Organisation.from_model(found)

    @strawberry.field(description="The coalition.")
    async def coalition(
        self, info: OfferInfo
    ) -> Annotated["Coalition", strawberry.lazy("backend.graphql.coalitions")]:
        found = await info.context.loaders.coalition.load(self.model.coalition_id)
        assert found is not None
        return coalition_types.Coalition.from_model(found)

    @strawberry.field(description="Its matches the viewer may see (the two sides, secretariat).")
    async def matches(
        self, info: OfferInfo
    ) -> list[Annotated["Match", strawberry.lazy("backend.graphql.matches")]]:
        from backend.graphql.matches import Match

        assert self.model.id is not None
        rows = await info.context.loaders.matches_of_offer.load(self.model.id)
        return [Match.from_model(row) for row in rows]


@relay.node_resolver("Offer")
async def resolve_node(info: OfferInfo, id: int) -> Offer | None:
    try:
        async with info.context.reading() as session:
            offer = await offers.get(session, info.context.actor, offer_id=id)
    except DomainError:
        return None
    return Offer.from_model(offer)


@strawberry.type
class Query:
    @strawberry.field(
        description="A coalition's offers the viewer may see, newest first: listed ones for "
        "members, and the viewer's own and the secretariat's whole queue at any status."
    )
    async def offers(
        self,
        info: OfferInfo,
        coalition_id: strawberry.ID,
        first: int = 20,
        after: str | None = None,
        status: models.OfferStatus | None = None,
    ) -> relay.Connection[Offer]:
        try:
            coalition = relay.decode_id(coalition_id, "Coalition", field="coalition_id")
            return await relay.connection(
                info,
                offers.listing(info.context.actor, coalition_id=coalition, status=status),
                ordering=NEWEST_FIRST,
                id_column=models.Offer.id,
                first=first,
                after=after,
                build=Offer.from_model,
            )
        except DomainError as error:
            raise errors.for_query(error) from error


@strawberry.input(description="A new offer, saved as a DRAFT.")
class CreateOfferInput:
    coalition_id: strawberry.ID = strawberry.field(description="The coalition.")
    organisation_id: strawberry.ID = strawberry.field(description="The offering member.")
    category: models.InKindCategory = strawberry.field(description="What kind of help.")
    title: str = strawberry.field(description="What is offered, in a line.")
    capacity: Decimal = strawberry.field(description="How much in all, in `unit`.")
    unit: str = strawberry.field(description="e.g. learner, teacher, device, GB.")
    description: str | None = strawberry.field(default=None, description="More detail.")
    countries: list[str] = strawberry.field(default_factory=list, description="ISO alpha-2.")
    worldwide: bool = strawberry.field(default=False, description="Available everywhere.")
    languages: list[str] = strawberry.field(default_factory=list, description="ISO 639-1.")
    free_of_charge: bool = strawberry.field(default=True, description="Given free of charge.")
    free_until: dt.date | None = strawberry.field(default=None, description="Free until.")
    offline_capable: bool = strawberry.field(default=False, description="Works offline.")
    low_bandwidth_friendly: bool = strawberry.field(default=False, description="Low bandwidth.")
    accessibility_notes: str | None = strawberry.field(default=None, description="Accessibility.")
    attestations: list[models.Attestation] = strawberry.field(
        default_factory=list, description="What the member attests."
    )


@strawberry.input(description="Changes to a DRAFT or PAUSED offer; omitted fields stay.")
class UpdateOfferInput:
    id: strawberry.ID = strawberry.field(description="The offer.")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="In a line.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Detail.")
    capacity: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Never below what is reserved."
    )
    unit: str | None = strawberry.field(default=strawberry.UNSET, description="The unit.")
    countries: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the list."
    )
    worldwide: bool | None = strawberry.field(default=strawberry.UNSET, description="Everywhere.")
    languages: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the list."
    )
    free_of_charge: bool | None = strawberry.field(default=strawberry.UNSET, description="Free.")
    free_until: dt.date | None = strawberry.field(default=strawberry.UNSET, description="Until.")
    offline_capable: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Works offline."
    )
    low_bandwidth_friendly: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Works on low bandwidth."
    )
    accessibility_notes: str | None = strawberry.field(
        default=strawberry.UNSET, description="Accessibility."
    )
    attestations: list[models.Attestation] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the list."
    )


@strawberry.enum(description="Where an offer goes next.")
class OfferMove(Enum):
    SUBMIT = "SUBMIT"
    LIST = "LIST"
    RETURN = "RETURN"
    PAUSE = "PAUSE"
    RESUME = "RESUME"
    WITHDRAW = "WITHDRAW"


Status = models.OfferStatus
# Each move: the statuses it starts from, and where it leads.
MOVES = {
    OfferMove.SUBMIT: (frozenset({Status.DRAFT}), Status.UNDER_REVIEW),
    OfferMove.LIST: (frozenset({Status.UNDER_REVIEW}), Status.LISTED),
    OfferMove.RETURN: (frozenset({Status.UNDER_REVIEW}), Status.DRAFT),
    OfferMove.PAUSE: (frozenset({Status.LISTED}), Status.PAUSED),
    OfferMove.RESUME: (frozenset({Status.PAUSED}), Status.LISTED),
    OfferMove.WITHDRAW: (frozenset(Status), Status.WITHDRAWN),
}


@strawberry.input(description="An offer moved along its states.")
class MoveOfferInput:
    id: strawberry.ID = strawberry.field(description="The offer.")
    move: OfferMove = strawberry.field(
        description="SUBMIT (for review), LIST or RETURN (the secretariat's review), PAUSE, "
        "RESUME, WITHDRAW."
    )


OfferResult = Annotated[
    Offer | errors.ValidationFailed | errors.NotFound | errors.PermissionDenied | errors.Conflict,
    strawberry.union("OfferResult", description="The offer, or why not."),
]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create an offer as a DRAFT (the member's admins, editors).")
    async def create_offer(self, info: OfferInfo, input: CreateOfferInput) -> OfferResult:
        try:
            fields = inputs.changes_of(input, exclude=())
            fields["coalition_id"] = relay.decode_id(
                input.coalition_id, "Coalition", field="coalition_id"
            )
            fields["organisation_id"] = relay.decode_id(
                input.organisation_id, "Organisation", field="organisation_id"
            )
            async with info.context.transaction() as session:
                offer = await offers.create(
                    session, info.context.actor, draft=offers.OfferDraft(**fields)
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Offer.from_model(offer)

    @strawberry.mutation(description="Change a DRAFT or PAUSED offer.")
    async def update_offer(self, info: OfferInfo, input: UpdateOfferInput) -> OfferResult:
        try:
            offer_id = relay.decode_id(input.id, "Offer", field="id")
            async with info.context.transaction() as session:
                offer = await offers.update(
                    session, info.context.actor, offer_id=offer_id, changes=inputs.changes_of(input)
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Offer.from_model(offer)

    @strawberry.mutation(
        description="Submit, review (LIST or RETURN: the secretariat's admins), pause, resume "
        "or withdraw an offer; listing needs the attestations the coalition requires "
        "(ATTESTATION_REQUIRED)."
    )
    async def move_offer(self, info: OfferInfo, input: MoveOfferInput) -> OfferResult:
        try:
            offer_id = relay.decode_id(input.id, "Offer", field="id")
            starts, to = MOVES[input.move]
            async with info.context.transaction() as session:
                offer = await offers.move(
                    session, info.context.actor, offer_id=offer_id, to=to, starts=starts
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Offer.from_model(offer)
