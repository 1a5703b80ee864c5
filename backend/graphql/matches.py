"""Matches: type and the writes that propose, accept, decline and withdraw them."""

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from backend import models
from backend.errors import DomainError
from backend.graphql import errors, money, relay
from backend.graphql.context import Context
from backend.services import matches

if TYPE_CHECKING:
    from backend.graphql.commitments import Commitment
    from backend.graphql.needs import Need
    from backend.graphql.offers import Offer

MatchInfo = Info[Context, None]


@strawberry.type(
    description="A need answered by an offer: seen by the two sides and the secretariat. "
    "Accepted by both sides, it carries the in-kind commitment it created."
)
class Match(relay.Node):
    quantity: Decimal = strawberry.field(description="How much of the offer goes to the need.")
    score: int = strawberry.field(description="The ranking's score when it was proposed.")
    reasons: list[str] = strawberry.field(description="Why it scored so.")
    status: models.MatchStatus = strawberry.field(
        description="PROPOSED -> ACCEPTED | DECLINED | WITHDRAWN."
    )
    proposed_by: str = strawberry.field(description="Who proposed it.")
    need_accepted_at: dt.datetime | None = strawberry.field(description="The need's side's yes.")
    offer_accepted_at: dt.datetime | None = strawberry.field(description="The offer's side's yes.")
    closing_reason: str | None = strawberry.field(description="Why it was declined or withdrawn.")
    created_at: dt.datetime = strawberry.field(description="When it was proposed.")
    model: strawberry.Private[models.Match]

    @classmethod
    def from_model(cls, match: models.Match) -> "Match":
        return cls(
            id=relay.to_global_id("Match", match.id),
            quantity=money.quantity(match.quantity),
            score=match.score,
            reasons=list(match.reasons),
            status=match.status,
            proposed_by=match.proposed_by,
            need_accepted_at=match.need_accepted_at,
            offer_accepted_at=match.offer_accepted_at,
            closing_reason=match.closing_reason,
            created_at=match.created_at,
            model=match,
        )

    @strawberry.field(description="The need.")
    async def need(
        self, info: MatchInfo
    ) -> Annotated["Need", strawberry.lazy("backend.graphql.needs")] | None:
        from backend.graphql.needs import Need

        need = await info.context.loaders.need.load(self.model.need_id)
        return Need.from_model(need) if need else None

    @strawberry.field(description="The offer.")
    async def offer(
        self, info: MatchInfo
    ) -> Annotated["Offer", strawberry.lazy("backend.graphql.offers")] | None:
        from backend.graphql.offers import Offer

        offer = await info.context.loaders.offer.load(self.model.offer_id)
        return Offer.from_model(offer) if offer else None

    @strawberry.field(description="The in-kind commitment made when both sides accepted.")
    async def commitment(
        self, info: MatchInfo
    ) -> Annotated["Commitment", strawberry.lazy("backend.graphql.commitments")] | None:
        from backend.graphql.commitments import Commitment

        if self.model.commitment_id is None:
            return None
        found = await info.context.loaders.commitment.load(self.model.commitment_id)
        return Commitment.from_model(found, info.context.actor) if found else None


@relay.node_resolver("Match")
async def resolve_node(info: MatchInfo, id: int) -> Match | None:
    try:
        async with info.context.reading() as session:
            match = await matches.get(session, info.context.actor, match_id=id)
    except DomainError:
        return None
    return Match.from_model(match)


@strawberry.input(description="Propose a listed offer for a need.")
class ProposeMatchInput:
    need_id: strawberry.ID = strawberry.field(description="The need.")
    offer_id: strawberry.ID = strawberry.field(description="A LISTED offer of the coalition.")
    quantity: Decimal | None = strawberry.field(
        default=None,
        description="How much; by default what the need still asks, up to what the offer has.",
    )


@strawberry.input(description="A PROPOSED match.")
class MatchInput:
    id: strawberry.ID = strawberry.field(description="The match.")


@strawberry.input(description="A PROPOSED match declined or withdrawn, and why.")
class CloseMatchInput:
    id: strawberry.ID = strawberry.field(description="The match.")
    reason: str | None = strawberry.field(default=None, description="Why.")


MatchResult = Annotated[
    Match | errors.ValidationFailed | errors.NotFound | errors.PermissionDenied | errors.Conflict,
    strawberry.union("MatchResult", description="The match, or why not."),
]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Propose a match (the secretariat's admins, or either side's admins and "
        "editors; a side that proposes has accepted)."
    )
    async def propose_match(self, info: MatchInfo, input: ProposeMatchInput) -> MatchResult:
        try:
            need_id = relay.decode_id(input.need_id, "Need", field="need_id")
            offer_id = relay.decode_id(input.offer_id, "Offer", field="offer_id")
            async with info.context.transaction() as session:
                match = await matches.propose(
                    session,
                    info.context.actor,
                    need_id=need_id,
                    offer_id=offer_id,
                    quantity=input.quantity,
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Match.from_model(match)

    @strawberry.mutation(
        description="Accept a match for your side; when both sides have, the offer's "
        "capacity is reserved (CAPACITY_EXCEEDED if another match took it) and the in-kind "
        "commitment is made."
    )
    async def accept_match(self, info: MatchInfo, input: MatchInput) -> MatchResult:
        try:
            match_id = relay.decode_id(input.id, "Match", field="id")
            async with info.context.transaction() as session:
                match = await matches.accept(session, info.context.actor, match_id=match_id)
        except DomainError as error:
            return errors.from_domain(error)
        return Match.from_model(match)

    @strawberry.mutation(description="Decline a PROPOSED match (either side).")
    async def decline_match(self, info: MatchInfo, input: CloseMatchInput) -> MatchResult:
        try:
            match_id = relay.decode_id(input.id, "Match", field="id")
            async with info.context.transaction() as session:
                match = await matches.decline(
                    session, info.context.actor, match_id=match_id, reason=input.reason
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Match.from_model(match)

    @strawberry.mutation(description="Withdraw a PROPOSED match (its proposer, the secretariat).")
    async def withdraw_match(self, info: MatchInfo, input: CloseMatchInput) -> MatchResult:
        try:
            match_id = relay.decode_id(input.id, "Match", field="id")
            async with info.context.transaction() as session:
                match = await matches.withdraw(
                    session, info.context.actor, match_id=match_id, reason=input.reason
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Match.from_model(match)
