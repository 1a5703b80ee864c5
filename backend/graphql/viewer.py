"""Who is asking: the viewer and `node(id:)`."""

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from backend import models
from backend.graphql import relay
from backend.graphql.context import Context

if TYPE_CHECKING:
    from backend.graphql.organisations import Organisation

from backend.graphql import organisations as organisation_types


@strawberry.type(description="Who is asking; anonymous readers have no role.")
class Viewer:
    name: str = strawberry.field(
        description="The token's holder (for single sign-on, its name claim), or 'anonymous'."
    )
    role: models.Role | None = strawberry.field(description="What the viewer may do.")
    organisation_id: strawberry.Private[int | None]
    member_coalition_ids: list[strawberry.ID] = strawberry.field(
        description="Coalitions where the viewer's organisation is an ACTIVE member."
    )

    @strawberry.field(description="The viewer's organisation; null for the secretariat.")
    async def organisation(
        self, info: Info[Context, None]
    ) -> Annotated["Organisation", strawberry.lazy("backend.graphql.organisations")] | None:
        if self.organisation_id is None:
            return None
        organisation = await info.context.loaders.organisation.load(self.organisation_id)
        return organisation_types.Organisation.from_model(organisation) if organisation else None


@strawberry.type
class Query:
    @strawberry.field(description="Who is asking.")
    def viewer(self, info: Info[Context, None]) -> Viewer:
        actor = info.context.actor
        return Viewer(
            name=actor.name,
            role=actor.role,
            organisation_id=actor.organisation_id,
            member_coalition_ids=[
                relay.to_global_id("Coalition", id) for id in sorted(actor.member_coalition_ids)
            ],
        )

    @strawberry.field(description="Any object by its global id, if the viewer may see it.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> relay.Node | None:
        decoded = relay.from_global_id(id)
        if decoded is None:
            return None
        resolver = relay.NODE_RESOLVERS.get(decoded[0])
        return await resolver(info, decoded[1]) if resolver else None
