"""Organisations: type, queries and mutations."""

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from backend import codes, models
from backend.errors import DomainError
from backend.graphql import errors, inputs, relay
from backend.graphql.context import Context
from backend.services import organisations

if TYPE_CHECKING:
    from backend.graphql.commitments import Commitment
    from backend.graphql.memberships import Membership

from backend.graphql import commitments as commitment_types
from backend.graphql import memberships as membership_types

OrganisationInfo = Info[Context, None]


@strawberry.type(
    description="A partner: UN agency, company, foundation, NGO, network, media, "
    "academia or government body."
)
class Organisation(relay.Node):
    name: str = strawberry.field(description="Full name.")
    acronym: str | None = strawberry.field(description="Short name, e.g. UNESCO.")
    iati_identifier: str | None = strawberry.field(
        description="IATI organisation identifier, e.g. XM-DAC-41304."
    )
    organisation_type: str = strawberry.field(
        description="IATI OrganisationType code: 10 Government ... 70 Private Sector ... 90 Other."
    )
    hub_category: models.HubCategory | None = strawberry.field(
        description="MEDIA or NETWORK, where IATI has no type for the partner."
    )
    country: str = strawberry.field(description="Headquarters, ISO 3166-1 alpha-2.")
    website: str | None = strawberry.field(description="Public website.")
    description: str | None = strawberry.field(description="What the organisation does.")
    model: strawberry.Private[models.Organisation]

    @classmethod
    def from_model(cls, organisation: models.Organisation) -> "Organisation":
        return cls(
            id=relay.to_global_id("Organisation", organisation.id),
            name=organisation.name,
            acronym=organisation.acronym,
            iati_identifier=organisation.iati_identifier,
            organisation_type=organisation.organisation_type,
            hub_category=organisation.hub_category,
            country=organisation.country,
            website=organisation.website,
            description=organisation.description,
            model=organisation,
        )

    @strawberry.field(description="The IATI name of `organisationType`, e.g. Private Sector.")
    def organisation_type_name(self) -> str:
        return codes.names("organisation_types").get(self.organisation_type, "")

    @strawberry.field(description="Memberships of coalitions, oldest first.")
    async def memberships(
        self, info: OrganisationInfo
    ) -> list[Annotated["Membership", strawberry.lazy("backend.graphql.memberships")]]:
        rows = await info.context.loaders.memberships_of_organisation.load(self.model.id)
        return [membership_types.Membership.from_model(row) for row in rows]

    @strawberry.field(
        description="Commitments the viewer may see, newest first; "
        "`coalitionId` keeps those made to one coalition."
    )
    async def commitments(
        self, info: OrganisationInfo, coalition_id: strawberry.ID | None = None
    ) -> list[Annotated["Commitment", strawberry.lazy("backend.graphql.commitments")]]:
        try:
            coalition = relay.decode_optional_id(coalition_id, "Coalition", field="coalition_id")
        except DomainError as error:
            raise errors.for_query(error) from error
        rows = await info.context.loaders.commitments_of_organisation.load(
            (self.model.id, coalition)
        )
        return [commitment_types.Commitment.from_model(row, info.context.actor) for row in rows]


@relay.node_resolver("Organisation")
async def resolve_node(info: OrganisationInfo, id: int) -> Organisation | None:
    organisation = await info.context.loaders.organisation.load(id)
    return Organisation.from_model(organisation) if organisation else None


@strawberry.input(description="Narrows `organisations`.")
class OrganisationFilter:
    search: str | None = strawberry.field(default=None, description="Part of name or acronym.")
    organisation_type: str | None = strawberry.field(default=None, description="IATI type code.")
    country: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2.")
    coalition_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only ACTIVE members of this coalition."
    )


BY_NAME = relay.Ordering("name", models.Organisation.name, descending=False)


@strawberry.type
class Query:
    @strawberry.field(description="Organisations in the registry, by name.")
    async def organisations(
        self,
        info: OrganisationInfo,
        first: int = 20,
        after: str | None = None,
        filter: OrganisationFilter | None = None,
    ) -> relay.Connection[Organisation]:
        filter = filter or OrganisationFilter()
        try:
            statement = organisations.listing(
                info.context.actor,
                organisations.OrganisationFilter(
                    search=filter.search,
                    organisation_type=filter.organisation_type,
                    country=filter.country,
                    coalition_id=relay.decode_optional_id(
                        filter.coalition_id, "Coalition", field="filter.coalition_id"
                    ),
                ),
            )
            return await relay.connection(
                info,
                statement,
                ordering=BY_NAME,
                id_column=models.Organisation.id,
                first=first,
                after=after,
                build=Organisation.from_model,
            )
        except DomainError as error:
            raise errors.for_query(error) from error

    @strawberry.field(description="One organisation by id.")
    async def organisation(self, info: OrganisationInfo, id: strawberry.ID) -> Organisation | None:
        decoded = relay.from_global_id(id)
        if decoded is None or decoded[0] != "Organisation":
            return None
        organisation = await info.context.loaders.organisation.load(decoded[1])
        return Organisation.from_model(organisation) if organisation else None


@strawberry.input(description="A new organisation for the registry.")
class RegisterOrganisationInput:
    name: str = strawberry.field(description="Full name (at most 200 characters).")
    organisation_type: str = strawberry.field(description="IATI OrganisationType code, e.g. 70.")
    country: str = strawberry.field(description="Headquarters, ISO 3166-1 alpha-2.")
    acronym: str | None = strawberry.field(default=None, description="Short name.")
    iati_identifier: str | None = strawberry.field(
        default=None, description="IATI organisation identifier; unique in the hub."
    )
    hub_category: models.HubCategory | None = strawberry.field(
        default=None, description="MEDIA or NETWORK."
    )
    website: str | None = strawberry.field(default=None, description="http(s) address.")
    description: str | None = strawberry.field(default=None, description="Free text.")


@strawberry.input(description="Changes to an organisation; omitted fields stay as they are.")
class UpdateOrganisationInput:
    id: strawberry.ID = strawberry.field(description="The organisation.")
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Full name (at most 200 characters)."
    )
    organisation_type: str | None = strawberry.field(
        default=strawberry.UNSET, description="IATI OrganisationType code, e.g. 70."
    )
    country: str | None = strawberry.field(
        default=strawberry.UNSET, description="Headquarters, ISO 3166-1 alpha-2."
    )
    acronym: str | None = strawberry.field(default=strawberry.UNSET, description="Short name.")
    iati_identifier: str | None = strawberry.field(
        default=strawberry.UNSET, description="IATI organisation identifier; unique in the hub."
    )
    hub_category: models.HubCategory | None = strawberry.field(
        default=strawberry.UNSET, description="MEDIA or NETWORK."
    )
    website: str | None = strawberry.field(default=strawberry.UNSET, description="http(s) address.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Free text.")


OrganisationResult = Annotated[
    Organisation
    | errors.ValidationFailed
    | errors.NotFound
    | errors.PermissionDenied
    | errors.Conflict,
    strawberry.union("OrganisationResult", description="The organisation, or why not."),
]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Add an organisation to the registry (secretariat admins).")
    async def register_organisation(
        self, info: OrganisationInfo, input: RegisterOrganisationInput
    ) -> OrganisationResult:
        draft = organisations.OrganisationDraft(**inputs.changes_of(input, exclude=()))
        try:
            async with info.context.transaction() as session:
                organisation = await organisations.register(
                    session, info.context.actor, draft=draft
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Organisation.from_model(organisation)

    @strawberry.mutation(description="Change an organisation (its own admins or the secretariat).")
    async def update_organisation(
        self, info: OrganisationInfo, input: UpdateOrganisationInput
    ) -> OrganisationResult:
        try:
            organisation_id = relay.decode_id(input.id, "Organisation", field="id")
            async with info.context.transaction() as session:
                organisation = await organisations.update(
                    session,
                    info.context.actor,
                    organisation_id=organisation_id,
                    changes=inputs.changes_of(input),
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Organisation.from_model(organisation)
