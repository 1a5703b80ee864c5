"""Activities: type, query and mutation."""

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from backend import models
from backend.errors import DomainError
from backend.graphql import errors, inputs, relay
from backend.graphql.context import Context
from backend.services import activities

if TYPE_CHECKING:
    from backend.graphql.coalitions import Coalition, Workstream
    from backend.graphql.organisations import Organisation

from backend.graphql import coalitions as coalition_types
from backend.graphql import organisations as organisation_types

ActivityInfo = Info[Context, None]


@strawberry.type(
    description="Something that happened: an event, debate, launch, training, report or news."
)
class Activity(relay.Node):
    kind: models.ActivityKind = strawberry.field(description="What kind of activity.")
    title: str = strawberry.field(description="Headline.")
    summary: str | None = strawberry.field(description="What happened.")
    occurred_at: dt.datetime = strawberry.field(description="When it happened.")
    countries: list[str] = strawberry.field(description="Where, ISO 3166-1 alpha-2.")
    links: list[str] = strawberry.field(description="Recordings, reports, articles.")
    visibility: models.Visibility = strawberry.field(description="Who sees it.")
    embargo_until: dt.datetime | None = strawberry.field(description="Hidden until then.")
    published_by: str = strawberry.field(description="Who published it.")
    model: strawberry.Private[models.Activity]

    @classmethod
    def from_model(cls, activity: models.Activity) -> "Activity":
        return cls(
            id=relay.to_global_id("Activity", activity.id),
            kind=activity.kind,
            title=activity.title,
            summary=activity.summary,
            occurred_at=activity.occurred_at,
            countries=list(activity.countries),
            links=list(activity.links),
            visibility=activity.visibility,
            embargo_until=activity.embargo_until,
            published_by=activity.published_by,
            model=activity,
        )

    @strawberry.field(description="The coalition.")
    async def coalition(
        self, info: ActivityInfo
    ) -> Annotated["Coalition", strawberry.lazy("backend.graphql.coalitions")]:
        coalition = await info.context.loaders.coalition.load(self.model.coalition_id)
        assert coalition is not None
        return coalition_types.Coalition.from_model(coalition)

    @strawberry.field(description="The workstream, if any.")
    async def workstream(
        self, info: ActivityInfo
    ) -> Annotated["Workstream", strawberry.lazy("backend.graphql.coalitions")] | None:
        if self.model.workstream_id is None:
            return None
        workstream = await info.context.loaders.workstream.load(self.model.workstream_id)
        return coalition_types.Workstream.from_model(workstream) if workstream else None

    @strawberry.field(description="The publishing organisation; null for the secretariat.")
    async def organisation(
        self, info: ActivityInfo
    ) -> Annotated["Organisation", strawberry.lazy("backend.graphql.organisations")] | None:
        if self.model.organisation_id is None:
            return None
        organisation = await info.context.loaders.organisation.load(self.model.organisation_id)
        return organisation_types.Organisation.from_model(organisation) if organisation else None

    @strawberry.field(description="Other organisations involved.")
    async def organisations(
        self, info: ActivityInfo
    ) -> list[Annotated["Organisation", strawberry.lazy("backend.graphql.organisations")]]:
        rows = await info.context.loaders.organisation.load_many(self.model.organisation_ids)
        return [organisation_types.Organisation.from_model(row) for row in rows if row]


@relay.node_resolver("Activity")
async def resolve_node(info: ActivityInfo, id: int) -> Activity | None:
    try:
        async with info.context.reading() as session:
            activity = await activities.get(session, info.context.actor, activity_id=id)
    except DomainError:
        return None
    return Activity.from_model(activity)


@strawberry.input(description="Narrows `activities`.")
class ActivityFilter:
    coalition_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this coalition's."
    )
    workstream_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this workstream's."
    )
    organisation_id: strawberry.ID | None = strawberry.field(
        default=None, description="Published by or involving this organisation."
    )
    kinds: list[models.ActivityKind] | None = strawberry.field(
        default=None, description="Any of these kinds."
    )
    country: str | None = strawberry.field(
        default=None, description="Took place in this country (ISO 3166-1 alpha-2)."
    )
    occurred_from: dt.datetime | None = strawberry.field(default=None, description="Inclusive.")
    occurred_until: dt.datetime | None = strawberry.field(default=None, description="Exclusive.")


LATEST_FIRST = relay.Ordering(
    "latest", models.Activity.occurred_at, descending=True, is_datetime=True
)


def criteria_of(filter: ActivityFilter) -> activities.ActivityFilter:
    return activities.ActivityFilter(
        coalition_id=relay.decode_optional_id(
            filter.coalition_id, "Coalition", field="filter.coalition_id"
        ),
        workstream_id=relay.decode_optional_id(
            filter.workstream_id, "Workstream", field="filter.workstream_id"
        ),
        organisation_id=relay.decode_optional_id(
            filter.organisation_id, "Organisation", field="filter.organisation_id"
        ),
        kinds=list(filter.kinds or []),
        country=filter.country,
        occurred_from=filter.occurred_from,
        occurred_until=filter.occurred_until,
    )


@strawberry.type
class Query:
    @strawberry.field(description="Activities the viewer may see, latest first.")
    async def activities(
        self,
        info: ActivityInfo,
        first: int = 20,
        after: str | None = None,
        filter: ActivityFilter | None = None,
    ) -> relay.Connection[Activity]:
        try:
            return await relay.connection(
                info,
                activities.listing(info.context.actor, criteria_of(filter or ActivityFilter())),
                ordering=LATEST_FIRST,
                id_column=models.Activity.id,
                first=first,
                after=after,
                build=Activity.from_model,
            )
        except DomainError as error:
            raise errors.for_query(error) from error


@strawberry.input(description="A new activity.")
class PublishActivityInput:
    coalition_id: strawberry.ID = strawberry.field(description="The coalition.")
    kind: models.ActivityKind = strawberry.field(description="What kind of activity.")
    title: str = strawberry.field(description="Headline.")
    occurred_at: dt.datetime = strawberry.field(description="When it happened or will happen.")
    organisation_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Publishing organisation; defaults to the viewer's. None for the secretariat.",
    )
    workstream_id: strawberry.ID | None = strawberry.field(
        default=None, description="The workstream of the coalition it belongs to."
    )
    organisation_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Other organisations involved."
    )
    summary: str | None = strawberry.field(default=None, description="What happened.")
    countries: list[str] = strawberry.field(default_factory=list, description="ISO 3166-1 alpha-2.")
    links: list[str] = strawberry.field(default_factory=list, description="http(s) addresses.")
    visibility: models.Visibility = strawberry.field(
        default=models.Visibility.PUBLIC, description="Who sees it."
    )
    embargo_until: dt.datetime | None = strawberry.field(
        default=None, description="Keep it from everyone but the owner and secretariat until then."
    )


ActivityResult = Annotated[
    Activity
    | errors.ValidationFailed
    | errors.NotFound
    | errors.PermissionDenied
    | errors.Conflict,
    strawberry.union("ActivityResult", description="The activity, or why not."),
]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Publish an activity for your organisation.")
    async def publish_activity(
        self, info: ActivityInfo, input: PublishActivityInput
    ) -> ActivityResult:
        try:
            fields = inputs.changes_of(input, exclude=())
            fields["coalition_id"] = relay.decode_id(
                input.coalition_id, "Coalition", field="coalition_id"
            )
            fields["workstream_id"] = relay.decode_optional_id(
                input.workstream_id, "Workstream", field="workstream_id"
            )
            fields["organisation_id"] = (
                relay.decode_optional_id(
                    input.organisation_id, "Organisation", field="organisation_id"
                )
                or info.context.actor.organisation_id
            )
            fields["organisation_ids"] = [
                relay.decode_id(id, "Organisation", field=f"organisation_ids.{index}")
                for index, id in enumerate(input.organisation_ids)
            ]
            draft = activities.ActivityDraft(**fields)
            async with info.context.transaction() as session:
                activity = await activities.publish(session, info.context.actor, draft=draft)
        except DomainError as error:
            return errors.from_domain(error)
        return Activity.from_model(activity)
