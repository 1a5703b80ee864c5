"""Coalitions and workstreams: types, queries and mutations."""

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from backend import codes, models
from backend.errors import DomainError
from backend.graphql import errors, inputs, money, relay
from backend.graphql.context import Context
from backend.services import coalitions, commitments

if TYPE_CHECKING:
    from backend.graphql.commitments import Commitment, CommitmentFilter
    from backend.graphql.dashboard import Dashboard
    from backend.graphql.memberships import Membership
    from backend.graphql.organisations import Organisation
    from backend.graphql.visibility_plans import VisibilityPlan

from backend.graphql import commitments as commitment_types
from backend.graphql import dashboard as dashboard_types
from backend.graphql import memberships as membership_types
from backend.graphql import organisations as organisation_types

CoalitionInfo = Info[Context, None]


@strawberry.type(description="A UN Sustainable Development Goal.")
class SdgGoal:
    code: str = strawberry.field(description="1 to 17.")
    name: str = strawberry.field(description="The goal's official title.")


@strawberry.type(description="A flagship, mission, emergency call or action network.")
class Workstream(relay.Node):
    name: str = strawberry.field(description="Unique inside its coalition.")
    kind: models.WorkstreamKind = strawberry.field(description="What kind of workstream.")
    description: str | None = strawberry.field(description="What it is for.")
    target_metric: str | None = strawberry.field(description="e.g. teachers trained.")
    target_value: Decimal | None = strawberry.field(description="e.g. 1000000.")
    target_date: dt.date | None = strawberry.field(description="When the target is due.")
    status: models.WorkstreamStatus = strawberry.field(description="Open or closed.")
    model: strawberry.Private[models.Workstream]

    @classmethod
    def from_model(cls, workstream: models.Workstream) -> "Workstream":
        return cls(
            id=relay.to_global_id("Workstream", workstream.id),
            name=workstream.name,
            kind=workstream.kind,
            description=workstream.description,
            target_metric=workstream.target_metric,
            target_value=money.quantity(workstream.target_value),
            target_date=workstream.target_date,
            status=workstream.status,
            model=workstream,
        )

    @strawberry.field(description="The coalition it belongs to.")
    async def coalition(self, info: CoalitionInfo) -> "Coalition":
        coalition = await info.context.loaders.coalition.load(self.model.coalition_id)
        assert coalition is not None
        return Coalition.from_model(coalition)

    @strawberry.field(description="Its visibility plan; for the secretariat only (null otherwise).")
    async def visibility_plan(
        self, info: CoalitionInfo
    ) -> Annotated["VisibilityPlan", strawberry.lazy("backend.graphql.visibility_plans")] | None:
        from backend.graphql import visibility_plans as plan_types

        assert self.model.id is not None
        return await plan_types.of_workstream(info, self.model.id)


@strawberry.type(description="A multi-stakeholder coalition, movement or fund.")
class Coalition(relay.Node):
    slug: str = strawberry.field(description="Short unique name used in addresses.")
    name: str = strawberry.field(description="Full name.")
    kind: models.CoalitionKind = strawberry.field(description="Coalition, movement or fund.")
    status: models.CoalitionStatus = strawberry.field(description="Open or closed.")
    launched_on: dt.date | None = strawberry.field(description="Launch date.")
    description: str | None = strawberry.field(description="Purpose.")
    model: strawberry.Private[models.Coalition]

    @classmethod
    def from_model(cls, coalition: models.Coalition) -> "Coalition":
        return cls(
            id=relay.to_global_id("Coalition", coalition.id),
            slug=coalition.slug,
            name=coalition.name,
            kind=coalition.kind,
            status=coalition.status,
            launched_on=coalition.launched_on,
            description=coalition.description,
            model=coalition,
        )

    @strawberry.field(
        description="Open commitments worth this many US dollars or more (cash plus in-kind "
        "value) need a visibility plan: the coalition's setting, else the default, 100000."
    )
    def visibility_plan_threshold_usd(self) -> Decimal:
        return money.amount(coalitions.visibility_plan_threshold(self.model))

    @strawberry.field(description="The SDGs the coalition works towards.")
    def sdg_goals(self) -> list[SdgGoal]:
        names = codes.names("sdg_goals")
        return [SdgGoal(code=code, name=names.get(code, "")) for code in self.model.sdg_goals]

    @strawberry.field(description="What members must attest before an offer of theirs is listed.")
    def offer_attestations_required(self) -> list[models.Attestation]:
        return [models.Attestation(code) for code in self.model.offer_attestations_required]

    @strawberry.field(description="The organisation hosting the secretariat.")
    async def host_organisation(
        self, info: CoalitionInfo
    ) -> Annotated["Organisation", strawberry.lazy("backend.graphql.organisations")] | None:
        if self.model.host_organisation_id is None:
            return None
        host = await info.context.loaders.organisation.load(self.model.host_organisation_id)
        return organisation_types.Organisation.from_model(host) if host else None

    @strawberry.field(description="Workstreams, in the order they were created.")
    async def workstreams(self, info: CoalitionInfo) -> list[Workstream]:
        rows = await info.context.loaders.workstreams_of_coalition.load(self.model.id)
        return [Workstream.from_model(row) for row in rows]

    @strawberry.field(description="Memberships the viewer may see; `status` narrows them.")
    async def memberships(
        self, info: CoalitionInfo, status: models.MembershipStatus | None = None
    ) -> list[Annotated["Membership", strawberry.lazy("backend.graphql.memberships")]]:
        rows = await info.context.loaders.memberships_of_coalition.load(self.model.id)
        return [
            membership_types.Membership.from_model(row)
            for row in rows
            if status is None or row.status is status
        ]

    @strawberry.field(description="Commitments made to this coalition, newest first.")
    async def commitments(
        self,
        info: CoalitionInfo,
        first: int = 20,
        after: str | None = None,
        filter: Annotated["CommitmentFilter", strawberry.lazy("backend.graphql.commitments")]
        | None = None,
    ) -> relay.Connection[Annotated["Commitment", strawberry.lazy("backend.graphql.commitments")]]:
        try:
            criteria = commitment_types.criteria_of(filter)
        except DomainError as error:
            raise errors.for_query(error) from error
        criteria = commitments.CommitmentFilter(
            **{**criteria.__dict__, "coalition_id": self.model.id}
        )
        return await commitment_types.commitment_page(info, criteria, first=first, after=after)

    @strawberry.field(
        description="The coalition's figures over what you may see: `from` and `to` bound the "
        "period, both inclusive."
    )
    def dashboard(
        self,
        info: CoalitionInfo,
        from_: Annotated[dt.date | None, strawberry.argument(name="from")] = None,
        to: dt.date | None = None,
    ) -> Annotated["Dashboard", strawberry.lazy("backend.graphql.dashboard")]:
        assert self.model.id is not None
        return dashboard_types.dashboard_for(
            info.context.actor, coalition_ids=[self.model.id], period_from=from_, period_to=to
        )


@relay.node_resolver("Coalition")
async def resolve_node(info: CoalitionInfo, id: int) -> Coalition | None:
    coalition = await info.context.loaders.coalition.load(id)
    return Coalition.from_model(coalition) if coalition else None


@relay.node_resolver("Workstream")
async def resolve_workstream(info: CoalitionInfo, id: int) -> Workstream | None:
    workstream = await info.context.loaders.workstream.load(id)
    return Workstream.from_model(workstream) if workstream else None


BY_NAME = relay.Ordering("name", models.Coalition.name, descending=False)


@strawberry.type
class Query:
    @strawberry.field(description="Coalitions, by name.")
    async def coalitions(
        self,
        info: CoalitionInfo,
        first: int = 20,
        after: str | None = None,
        status: models.CoalitionStatus | None = None,
    ) -> relay.Connection[Coalition]:
        try:
            return await relay.connection(
                info,
                coalitions.listing(info.context.actor, status=status),
                ordering=BY_NAME,
                id_column=models.Coalition.id,
                first=first,
                after=after,
                build=Coalition.from_model,
            )
        except DomainError as error:
            raise errors.for_query(error) from error

    @strawberry.field(description="One coalition by its slug.")
    async def coalition(self, info: CoalitionInfo, slug: str) -> Coalition | None:
        async with info.context.reading() as session:
            coalition = await coalitions.find(session, info.context.actor, slug=slug)
        return Coalition.from_model(coalition) if coalition else None


@strawberry.input(description="A new coalition.")
class CreateCoalitionInput:
    slug: str = strawberry.field(description="Lower-case letters, digits and hyphens; unique.")
    name: str = strawberry.field(description="Full name.")
    kind: models.CoalitionKind = strawberry.field(description="Coalition, movement or fund.")
    host_organisation_id: strawberry.ID | None = strawberry.field(
        default=None, description="The organisation hosting the secretariat."
    )
    launched_on: dt.date | None = strawberry.field(default=None, description="Launch date.")
    description: str | None = strawberry.field(default=None, description="Purpose.")
    sdg_goals: list[str] = strawberry.field(
        default_factory=list, description="SDG goal codes, 1 to 17."
    )
    offer_attestations_required: list[models.Attestation] = strawberry.field(
        default_factory=list, description="What members must attest before an offer is listed."
    )
    visibility_plan_threshold_usd: Decimal | None = strawberry.field(
        default=None,
        description="Open commitments worth this many US dollars or more (cash plus in-kind "
        "value) need a visibility plan; 0 or more. Null: the default, 100000.",
    )


@strawberry.input(description="Changes to a coalition; omitted fields stay as they are.")
class UpdateCoalitionInput:
    id: strawberry.ID = strawberry.field(description="The coalition.")
    slug: str | None = strawberry.field(
        default=strawberry.UNSET, description="Lower-case letters, digits and hyphens; unique."
    )
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Full name.")
    kind: models.CoalitionKind | None = strawberry.field(
        default=strawberry.UNSET, description="Coalition, movement or fund."
    )
    status: models.CoalitionStatus | None = strawberry.field(
        default=strawberry.UNSET,
        description="CLOSED stops new commitments, members, activities and workstreams.",
    )
    host_organisation_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The organisation hosting the secretariat."
    )
    launched_on: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="Launch date."
    )
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Purpose.")
    sdg_goals: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="SDG goal codes, 1 to 17; replaces the list."
    )
    offer_attestations_required: list[models.Attestation] | None = strawberry.field(
        default=strawberry.UNSET,
        description="What members must attest before an offer is listed; replaces the list.",
    )
    visibility_plan_threshold_usd: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="Open commitments worth this many US dollars or more need a visibility "
        "plan; 0 or more. Null: back to the default, 100000.",
    )


@strawberry.input(description="A new workstream in a coalition.")
class CreateWorkstreamInput:
    coalition_id: strawberry.ID = strawberry.field(description="The coalition.")
    name: str = strawberry.field(description="Unique inside the coalition.")
    kind: models.WorkstreamKind = strawberry.field(description="What kind of workstream.")
    description: str | None = strawberry.field(default=None, description="What it is for.")
    target_metric: str | None = strawberry.field(default=None, description="e.g. teachers trained.")
    target_value: Decimal | None = strawberry.field(default=None, description="e.g. 1000000.")
    target_date: dt.date | None = strawberry.field(default=None, description="When it is due.")


@strawberry.input(description="Changes to a workstream; omitted fields stay as they are.")
class UpdateWorkstreamInput:
    id: strawberry.ID = strawberry.field(description="The workstream.")
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Unique inside the coalition."
    )
    kind: models.WorkstreamKind | None = strawberry.field(
        default=strawberry.UNSET, description="What kind of workstream."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="What it is for."
    )
    target_metric: str | None = strawberry.field(
        default=strawberry.UNSET, description="e.g. teachers trained."
    )
    target_value: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="e.g. 1000000."
    )
    target_date: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="When it is due."
    )
    status: models.WorkstreamStatus | None = strawberry.field(
        default=strawberry.UNSET, description="Open or closed."
    )


Problems = errors.ValidationFailed | errors.NotFound | errors.PermissionDenied | errors.Conflict
CoalitionResult = Annotated[
    Coalition | Problems,
    strawberry.union("CoalitionResult", description="The coalition, or why not."),
]
WorkstreamResult = Annotated[
    Workstream | Problems,
    strawberry.union("WorkstreamResult", description="The workstream, or why not."),
]


def _host_id(changes: dict[str, object]) -> None:
    if "host_organisation_id" in changes:
        changes["host_organisation_id"] = relay.decode_optional_id(
            changes["host_organisation_id"],  # type: ignore[arg-type]
            "Organisation",
            field="host_organisation_id",
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a coalition (secretariat admins).")
    async def create_coalition(
        self, info: CoalitionInfo, input: CreateCoalitionInput
    ) -> CoalitionResult:
        try:
            fields = inputs.changes_of(input, exclude=())
            _host_id(fields)
            draft = coalitions.CoalitionDraft(**fields)
            async with info.context.transaction() as session:
                coalition = await coalitions.create(session, info.context.actor, draft=draft)
        except DomainError as error:
            return errors.from_domain(error)
        return Coalition.from_model(coalition)

    @strawberry.mutation(description="Change a coalition, or close it (secretariat admins).")
    async def update_coalition(
        self, info: CoalitionInfo, input: UpdateCoalitionInput
    ) -> CoalitionResult:
        try:
            coalition_id = relay.decode_id(input.id, "Coalition", field="id")
            changes = inputs.changes_of(input)
            _host_id(changes)
            async with info.context.transaction() as session:
                coalition = await coalitions.update(
                    session, info.context.actor, coalition_id=coalition_id, changes=changes
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Coalition.from_model(coalition)

    @strawberry.mutation(description="Add a workstream to a coalition (secretariat admins).")
    async def create_workstream(
        self, info: CoalitionInfo, input: CreateWorkstreamInput
    ) -> WorkstreamResult:
        try:
            coalition_id = relay.decode_id(input.coalition_id, "Coalition", field="coalition_id")
            draft = coalitions.WorkstreamDraft(
                **inputs.changes_of(input, exclude=("coalition_id",))
            )
            async with info.context.transaction() as session:
                workstream = await coalitions.create_workstream(
                    session, info.context.actor, coalition_id=coalition_id, draft=draft
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Workstream.from_model(workstream)

    @strawberry.mutation(description="Change or close a workstream (secretariat admins).")
    async def update_workstream(
        self, info: CoalitionInfo, input: UpdateWorkstreamInput
    ) -> WorkstreamResult:
        try:
            workstream_id = relay.decode_id(input.id, "Workstream", field="id")
            async with info.context.transaction() as session:
                workstream = await coalitions.update_workstream(
                    session,
                    info.context.actor,
                    workstream_id=workstream_id,
                    changes=inputs.changes_of(input),
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Workstream.from_model(workstream)
