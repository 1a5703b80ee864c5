"""The schema: every domain module's Query and Mutation merged into one."""

from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry import Schema
from strawberry.extensions import AddValidationRules, ParserCache, SchemaExtension, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from backend.graphql import (
    activities,
    audit,
    coalitions,
    commitment_writes,
    commitments,
    deliveries,
    enums,
    errors,
    fx,
    memberships,
    organisations,
    permissions,
    relay,
    tokens,
    viewer,
)

Query = merge_types(
    "Query",
    (
        viewer.Query,
        coalitions.Query,
        organisations.Query,
        commitments.Query,
        activities.Query,
        audit.Query,
        tokens.Query,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        coalitions.Mutation,
        organisations.Mutation,
        memberships.Mutation,
        commitment_writes.Mutation,
        deliveries.Mutation,
        activities.Mutation,
        tokens.Mutation,
        fx.Mutation,
    ),
)

# The domain enums, documented for GraphQL (registered on import, before the schema is built).
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


class CloseOperationScope(SchemaExtension):
    """Closes the operation's read session when it ends (and on websockets, per operation)."""

    async def on_operation(self):  # type: ignore[no-untyped-def]
        yield
        close = getattr(self.execution_context.context, "close", None)
        if close is not None:
            await close()


def build(*, production: bool) -> Schema:
    extensions: list[object] = [
        CloseOperationScope,
        permissions.WritesNeedSignIn,
        errors.MaskUnexpectedErrors,
        # Parsing and validating the same document again costs more than running most
        # queries: both are cached by document text (bounded LRU).
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
    ]
    if production:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return Schema(
        query=Query,
        mutation=Mutation,
        types=NODE_TYPES,
        extensions=extensions,  # type: ignore[arg-type]
        config=StrawberryConfig(disable_field_suggestions=production),
    )


schema = build(production=False)
assert relay.NODE_RESOLVERS.keys() >= {t.__name__ for t in NODE_TYPES}
