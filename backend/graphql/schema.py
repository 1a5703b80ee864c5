"""The schema: every domain module's Query and Mutation merged into one."""

import strawberry
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry import Schema
from strawberry.extensions import AddValidationRules, ParserCache, SchemaExtension, ValidationCache
from strawberry.schema.config import StrawberryConfig

from backend.graphql import (
    activities,
    audit,
    coalitions,
    commitment_writes,
    commitments,
    deliveries,
    enums,
    errors,
    feed,
    fx,
    memberships,
    organisations,
    permissions,
    relay,
    scalars,
    tokens,
    viewer,
)
from backend.graphql.compiled.reads import CompiledReadsExtension


# What strawberry.tools.merge_types does, plus the descriptions it cannot take.
@strawberry.type(
    description="Reads. Lists, nested fields and `node(id:)` show only what the viewer may "
    "see; without a token, what is public."
)
class Query(
    viewer.Query,
    coalitions.Query,
    organisations.Query,
    commitments.Query,
    activities.Query,
    audit.Query,
    tokens.Query,
):
    pass


@strawberry.type(
    description="Writes: each needs an API token and is one transaction. Expected failures "
    "are results (ValidationFailed, NotFound, PermissionDenied, Conflict), not errors."
)
class Mutation(
    coalitions.Mutation,
    organisations.Mutation,
    memberships.Mutation,
    commitment_writes.Mutation,
    deliveries.Mutation,
    activities.Mutation,
    tokens.Mutation,
    fx.Mutation,
):
    pass


# The domain enums, documented for GraphQL (backend/graphql/__init__.py imports them first).
ENUMS = enums.REGISTERED

# Types reached only through the Node interface or unions must be named explicitly.
NODE_TYPES = [
    coalitions.Coalition,
    coalitions.Workstream,
    organisations.Organisation,
    memberships.Membership,
    commitments.Commitment,
    commitments.InKindLine,
    deliveries.Delivery,
    activities.Activity,
    tokens.ApiToken,
]
# The feed's item types, reached only through the FeedItem interface.
FEED_TYPES = [feed.FeedEvent, feed.FeedReset]


class CloseOperationScope(SchemaExtension):
    """Closes the operation's read session when it ends (and on websockets, per operation)."""

    async def on_operation(self):  # type: ignore[no-untyped-def]
        yield
        close = getattr(self.execution_context.context, "close", None)
        if close is not None:
            await close()


def validation_rules(*, production: bool) -> list[type[ASTValidationRule]]:
    """The rules on top of the specification's (the feed's shared renders apply them too)."""
    return [NoSchemaIntrospectionCustomRule] if production else []


def build(*, production: bool) -> Schema:
    extensions: list[object] = [
        CloseOperationScope,
        permissions.WritesNeedSignIn,
        errors.MaskUnexpectedErrors,
        # The portal's trusted queries: one compiled statement each, no resolver.
        CompiledReadsExtension,
        # Parsing and validating the same document again costs more than running most
        # queries: both are cached by document text (bounded LRU).
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
    ]
    if rules := validation_rules(production=production):
        extensions.append(lambda: AddValidationRules(rules))
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=feed.Subscription,
        types=NODE_TYPES + FEED_TYPES,
        extensions=extensions,  # type: ignore[arg-type]
        config=StrawberryConfig(disable_field_suggestions=production, scalar_map=scalars.SCALARS),
    )


schema = build(production=False)
assert relay.NODE_RESOLVERS.keys() >= {t.__name__ for t in NODE_TYPES}
