"""Memberships: type and mutations (lists hang off coalitions and organisations)."""

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from backend import models
from backend.errors import DomainError
from backend.graphql import errors, inputs, relay
from backend.graphql.context import Context
from backend.services import memberships

if TYPE_CHECKING:
    from backend.graphql.coalitions import Coalition, Workstream
    from backend.graphql.organisations import Organisation

from backend.graphql import coalitions as coalition_types
from backend.graphql import organisations as organisation_types

MembershipInfo = Info[Context, None]


@strawberry.type(description="An organisation's membership of a coalition.")
class Membership(relay.Node):
    status: models.MembershipStatus = strawberry.field(description="Where the membership stands.")
    role: models.MembershipRole = strawberry.field(description="The member's role.")
    joined_on: dt.date | None = strawberry.field(description="When it became ACTIVE.")
    left_on: dt.date | None = strawberry.field(description="When it was withdrawn or rejected.")
    principles_accepted: list[str] = strawberry.field(
        description="Principles the member signed, e.g. learner-data-privacy."
    )
    model: strawberry.Private[models.Membership]

    @classmethod
    def from_model(cls, membership: models.Membership) -> "Membership":
        return cls(
            id=relay.to_global_id("Membership", membership.id),
            status=membership.status,
            role=membership.role,
            joined_on=membership.joined_on,
            left_on=membership.left_on,
            principles_accepted=list(membership.principles_accepted),
            model=membership,
        )

    @strawberry.field(description="The member.")
    async def organisation(
        self, info: MembershipInfo
    ) -> Annotated["Organisation", strawberry.lazy("backend.graphql.organisations")]:
        organisation = await info.context.loaders.organisation.load(self.model.organisation_id)
        assert organisation is not None
        return organisation_types.Organisation.from_model(organisation)

    @strawberry.field(description="The coalition.")
    async def coalition(
        self, info: MembershipInfo
    ) -> Annotated["Coalition", strawberry.lazy("backend.graphql.coalitions")]:
        coalition = await info.context.loaders.coalition.load(self.model.coalition_id)
        assert coalition is not None
        return coalition_types.Coalition.from_model(coalition)

    @strawberry.field(description="Workstreams the member takes part in.")
    async def workstreams(
        self, info: MembershipInfo
    ) -> list[Annotated["Workstream", strawberry.lazy("backend.graphql.coalitions")]]:
        found = await info.context.loaders.workstream.load_many(self.model.workstream_ids)
        return [coalition_types.Workstream.from_model(row) for row in found if row is not None]


@relay.node_resolver("Membership")
async def resolve_node(info: MembershipInfo, id: int) -> Membership | None:
    try:
        async with info.context.reading() as session:
            membership = await memberships.get(session, info.context.actor, membership_id=id)
    except DomainError:
        return None
    return Membership.from_model(membership)


@strawberry.input(description="Admit an organisation to a coalition.")
class AdmitMemberInput:
    coalition_id: strawberry.ID = strawberry.field(description="The coalition.")
    organisation_id: strawberry.ID = strawberry.field(description="The organisation.")
    status: models.MembershipStatus = strawberry.field(
        default=models.MembershipStatus.ACTIVE,
        description="ACTIVE, or APPLIED to record a request.",
    )
    role: models.MembershipRole = strawberry.field(
        default=models.MembershipRole.MEMBER, description="The member's role."
    )
    joined_on: dt.date | None = strawberry.field(default=None, description="Defaults to today.")
    principles_accepted: list[str] = strawberry.field(
        default_factory=list, description="Principles the member signed."
    )
    workstream_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Workstreams of this coalition the member joins."
    )


@strawberry.input(description="Changes to a membership; omitted fields stay as they are.")
class UpdateMembershipInput:
    id: strawberry.ID = strawberry.field(description="The membership.")
    status: models.MembershipStatus | None = strawberry.field(
        default=strawberry.UNSET,
        description="ACTIVE admits; SUSPENDED, WITHDRAWN or REJECTED stop partner writes.",
    )
    role: models.MembershipRole | None = strawberry.field(
        default=strawberry.UNSET, description="The member's role."
    )
    joined_on: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="When it became ACTIVE; today if none."
    )
    left_on: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="When it was withdrawn or rejected; today if none."
    )
    principles_accepted: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Principles the member signed; replaces the list."
    )
    workstream_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Workstreams of this coalition; replaces the list."
    )


MembershipResult = Annotated[
    Membership
    | errors.ValidationFailed
    | errors.NotFound
    | errors.PermissionDenied
    | errors.Conflict,
    strawberry.union("MembershipResult", description="The membership, or why not."),
]


def _workstream_ids(ids: list[strawberry.ID]) -> list[int]:
    return [
        relay.decode_id(id, "Workstream", field=f"workstream_ids.{index}")
        for index, id in enumerate(ids)
    ]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Admit an organisation to a coalition (secretariat admins).")
    async def admit_member(self, info: MembershipInfo, input: AdmitMemberInput) -> MembershipResult:
        try:
            draft = memberships.MembershipDraft(
                status=input.status,
                role=input.role,
                joined_on=input.joined_on,
                principles_accepted=input.principles_accepted,
                workstream_ids=_workstream_ids(input.workstream_ids),
            )
            coalition_id = relay.decode_id(input.coalition_id, "Coalition", field="coalition_id")
            organisation_id = relay.decode_id(
                input.organisation_id, "Organisation", field="organisation_id"
            )
            async with info.context.transaction() as session:
                membership = await memberships.admit(
                    session,
                    info.context.actor,
                    coalition_id=coalition_id,
                    organisation_id=organisation_id,
                    draft=draft,
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Membership.from_model(membership)

    @strawberry.mutation(
        description="Change a membership's status, role or workstreams (secretariat admins)."
    )
    async def update_membership(
        self, info: MembershipInfo, input: UpdateMembershipInput
    ) -> MembershipResult:
        try:
            membership_id = relay.decode_id(input.id, "Membership", field="id")
            changes = inputs.changes_of(input)
            if changes.get("workstream_ids") is not None:
                changes["workstream_ids"] = _workstream_ids(input.workstream_ids or [])
            async with info.context.transaction() as session:
                membership = await memberships.update(
                    session, info.context.actor, membership_id=membership_id, changes=changes
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Membership.from_model(membership)
