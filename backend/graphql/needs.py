"""Needs: type, the coalition's list, and the writes of the need's side."""

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from backend import models
from backend.errors import DomainError
from backend.graphql import errors, inputs, money, relay
from backend.graphql.context import Context
from backend.services import matches, needs, pages

if TYPE_CHECKING:
    from backend.graphql.coalitions import Coalition
    from backend.graphql.matches import Match
    from backend.graphql.offers import Offer
    from backend.graphql.organisations import Organisation

from backend.graphql import coalitions as coalition_types
from backend.graphql import organisations as organisation_types

NeedInfo = Info[Context, None]
MOST_SUGGESTIONS = 50
NEWEST_FIRST = relay.Ordering("newest", models.Need.created_at, descending=True, is_datetime=True)


@strawberry.type(description="A listed offer suggested for a need, with why it scores as it does.")
class OfferSuggestion:
    offer: Annotated["Offer", strawberry.lazy("backend.graphql.offers")] = strawberry.field(
        description="The offer."
    )
    score: int = strawberry.field(
        description="Out of 100: country 25, capacity 25, languages 20, bandwidth 15, timing 15."
    )
    reasons: list[str] = strawberry.field(description="One line per part of the score.")


@strawberry.type(description="What a country asks the coalition for. Seen by coalition members.")
class Need(relay.Node):
    ref: str = strawberry.field(description="The need's reference, e.g. NED-3F2A9C01DE.")
    country: str = strawberry.field(description="ISO 3166-1 alpha-2.")
    category: models.InKindCategory = strawberry.field(description="What kind of help.")
    title: str = strawberry.field(description="What is asked, in a line.")
    description: str | None = strawberry.field(description="More detail.")
    quantity: Decimal = strawberry.field(description="How much, in `unit`.")
    unit: str = strawberry.field(description="e.g. learner, teacher, device, GB.")
    languages: list[str] = strawberry.field(description="ISO 639-1 codes.")
    target_groups: list[models.TargetGroup] = strawberry.field(description="Who it is for.")
    offline_required: bool = strawberry.field(description="Must work without a connection.")
    low_bandwidth: bool = strawberry.field(description="Must work on a low-bandwidth connection.")
    device_type: str | None = strawberry.field(description="The devices learners have.")
    priority: models.NeedPriority = strawberry.field(description="HIGH, MEDIUM or LOW.")
    needed_by: dt.date | None = strawberry.field(description="When it is needed.")
    status: models.NeedStatus = strawberry.field(
        description="OPEN -> PARTIALLY_MATCHED -> MATCHED -> FULFILLED, from its matches; "
        "or CANCELLED."
    )
    posted_by: str = strawberry.field(description="Who posted it.")
    created_at: dt.datetime = strawberry.field(description="When it was posted.")
    model: strawberry.Private[models.Need]

    @classmethod
    def from_model(cls, need: models.Need) -> "Need":
        return cls(
            id=relay.to_global_id("Need", need.id),
            ref=need.ref,
            country=need.country,
            category=need.category,
            title=need.title,
            description=need.description,
            quantity=money.quantity(need.quantity),
            unit=need.unit,
            languages=list(need.languages),
            target_groups=[models.TargetGroup(group) for group in need.target_groups],
            offline_required=need.offline_required,
            low_bandwidth=need.low_bandwidth,
            device_type=need.device_type,
            priority=need.priority,
            needed_by=need.needed_by,
            status=need.status,
            posted_by=need.posted_by,
            created_at=need.created_at,
            model=need,
        )

    @strawberry.field(description="The ministry that asks; null when the secretariat posted it.")
    async def organisation(
        self, info: NeedInfo
    ) -> Annotated["Organisation", strawberry.lazy("backend.graphql.organisations")] | None:
        if self.model.organisation_id is None:
            return None
        found = await info.context.loaders.organisation.load(self.model.organisation_id)
        return organisation_types.Organisation.from_model(found) if found else None

    @strawberry.field(description="The coalition.")
    async def coalition(
        self, info: NeedInfo
    ) -> Annotated["Coalition", strawberry.lazy("backend.graphql.coalitions")]:
        found = await info.context.loaders.coalition.load(self.model.coalition_id)
        assert found is not None
        return coalition_types.Coalition.from_model(found)

    @strawberry.field(description="How much accepted matches cover.")
    async def matched_quantity(self, info: NeedInfo) -> Decimal:
        assert self.model.id is not None
        covered = await info.context.loaders.need_coverage.load(self.model.id)
        return money.quantity(covered.matched)

    @strawberry.field(description="How much was delivered through accepted matches.")
    async def delivered_quantity(self, info: NeedInfo) -> Decimal:
        assert self.model.id is not None
        covered = await info.context.loaders.need_coverage.load(self.model.id)
        return money.quantity(covered.delivered)

    @strawberry.field(
        description="Its matches the viewer may see (the two sides and the secretariat)."
    )
    async def matches(
        self, info: NeedInfo
    ) -> list[Annotated["Match", strawberry.lazy("backend.graphql.matches")]]:
        from backend.graphql.matches import Match

        assert self.model.id is not None
        rows = await info.context.loaders.matches_of_need.load(self.model.id)
        return [Match.from_model(row) for row in rows]

    @strawberry.field(
        description="The coalition's listed offers that best answer this need, best first; "
        "offers of another category or unit, not serving the country, not offline capable "
        "when that is required, or with no capacity left are left out."
    )
    async def suggested_offers(self, info: NeedInfo, first: int = 5) -> list[OfferSuggestion]:
        from backend.graphql.offers import Offer

        try:
            pages.check_first(first, limit=MOST_SUGGESTIONS)
            async with info.context.reading() as session:
                ranked = await matches.suggested_offers(
                    session, info.context.actor, self.model, first=first
                )
        except DomainError as error:
            raise errors.for_query(error) from error
        return [
            OfferSuggestion(
                offer=Offer.from_model(offer),
                score=suggestion.score,
                reasons=list(suggestion.reasons),
            )
            for offer, suggestion in ranked
        ]


@relay.node_resolver("Need")
async def resolve_node(info: NeedInfo, id: int) -> Need | None:
    try:
        async with info.context.reading() as session:
            need = await needs.get(session, info.context.actor, need_id=id)
    except DomainError:
        return None
    return Need.from_model(need)


@strawberry.type
class Query:
    @strawberry.field(
        description="A coalition's needs, newest first: for its members and the secretariat "
        "(a ministry also sees its own)."
    )
    async def needs(
        self,
        info: NeedInfo,
        coalition_id: strawberry.ID,
        first: int = 20,
        after: str | None = None,
        status: models.NeedStatus | None = None,
        country: str | None = None,
        category: models.InKindCategory | None = None,
    ) -> relay.Connection[Need]:
        try:
            coalition = relay.decode_id(coalition_id, "Coalition", field="coalition_id")
            return await relay.connection(
                info,
                needs.listing(
                    info.context.actor,
                    coalition_id=coalition,
                    status=status,
                    country=country,
                    category=category,
                ),
                ordering=NEWEST_FIRST,
                id_column=models.Need.id,
                first=first,
                after=after,
                build=Need.from_model,
            )
        except DomainError as error:
            raise errors.for_query(error) from error


@strawberry.input(description="A country's need.")
class PostNeedInput:
    coalition_id: strawberry.ID = strawberry.field(description="The coalition asked.")
    organisation_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The ministry asking (a government or public-sector member); omit when "
        "the secretariat posts the need itself.",
    )
    country: str = strawberry.field(description="ISO 3166-1 alpha-2.")
    category: models.InKindCategory = strawberry.field(description="What kind of help.")
    title: str = strawberry.field(description="What is asked, in a line.")
    quantity: Decimal = strawberry.field(description="How much, in `unit`.")
    unit: str = strawberry.field(description="e.g. learner, teacher, device, GB.")
    description: str | None = strawberry.field(default=None, description="More detail.")
    languages: list[str] = strawberry.field(default_factory=list, description="ISO 639-1 codes.")
    target_groups: list[models.TargetGroup] = strawberry.field(
        default_factory=list, description="Who it is for."
    )
    offline_required: bool = strawberry.field(default=False, description="Must work offline.")
    low_bandwidth: bool = strawberry.field(default=False, description="Low-bandwidth regions.")
    device_type: str | None = strawberry.field(default=None, description="Devices at hand.")
    priority: models.NeedPriority = strawberry.field(
        default=models.NeedPriority.MEDIUM, description="HIGH, MEDIUM or LOW."
    )
    needed_by: dt.date | None = strawberry.field(default=None, description="When it is needed.")


@strawberry.input(description="Changes to an OPEN or PARTIALLY_MATCHED need.")
class UpdateNeedInput:
    id: strawberry.ID = strawberry.field(description="The need.")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="In a line.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Detail.")
    quantity: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Never below what accepted matches cover."
    )
    languages: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="ISO 639-1 codes; replaces the list."
    )
    target_groups: list[models.TargetGroup] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the list."
    )
    offline_required: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Must work offline."
    )
    low_bandwidth: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Low-bandwidth regions."
    )
    device_type: str | None = strawberry.field(
        default=strawberry.UNSET, description="Devices at hand."
    )
    priority: models.NeedPriority | None = strawberry.field(
        default=strawberry.UNSET, description="HIGH, MEDIUM or LOW."
    )
    needed_by: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="When it is needed."
    )


@strawberry.input(description="A need that is no longer needed.")
class CancelNeedInput:
    id: strawberry.ID = strawberry.field(description="The need.")


NeedResult = Annotated[
    Need | errors.ValidationFailed | errors.NotFound | errors.PermissionDenied | errors.Conflict,
    strawberry.union("NeedResult", description="The need, or why not."),
]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Post a country's need (the secretariat, or a member ministry's admins "
        "and editors for their own organisation)."
    )
    async def post_need(self, info: NeedInfo, input: PostNeedInput) -> NeedResult:
        try:
            fields = inputs.changes_of(input, exclude=())
            fields["coalition_id"] = relay.decode_id(
                input.coalition_id, "Coalition", field="coalition_id"
            )
            fields["organisation_id"] = relay.decode_optional_id(
                input.organisation_id, "Organisation", field="organisation_id"
            )
            async with info.context.transaction() as session:
                need = await needs.post(
                    session, info.context.actor, draft=needs.NeedDraft(**fields)
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Need.from_model(need)

    @strawberry.mutation(description="Change a need that is still open to matches.")
    async def update_need(self, info: NeedInfo, input: UpdateNeedInput) -> NeedResult:
        try:
            need_id = relay.decode_id(input.id, "Need", field="id")
            async with info.context.transaction() as session:
                need = await needs.update(
                    session, info.context.actor, need_id=need_id, changes=inputs.changes_of(input)
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Need.from_model(need)

    @strawberry.mutation(
        description="Cancel a need not yet fulfilled; its proposed matches are withdrawn."
    )
    async def cancel_need(self, info: NeedInfo, input: CancelNeedInput) -> NeedResult:
        try:
            need_id = relay.decode_id(input.id, "Need", field="id")
            async with info.context.transaction() as session:
                need = await needs.cancel(session, info.context.actor, need_id=need_id)
        except DomainError as error:
            return errors.from_domain(error)
        return Need.from_model(need)
