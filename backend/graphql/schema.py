"""The schema: every domain module's Query and Mutation merged into one."""

import weakref

import strawberry
from graphql import GraphQLError
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry import Schema
from strawberry.extensions import AddValidationRules, ParserCache, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document

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
from backend.graphql.bounded import Bounded
from backend.graphql.compiled.reads import CompiledReadsExtension
from backend.graphql.context import Context


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
        context = self.execution_context.context
        scoped = isinstance(context, Context)
        if scoped:
            context.begin_operation()
        yield
        if scoped:
            await context.end_operation()


# (document text, validation rules) -> the errors validating it found
Validated = Bounded[tuple[str, tuple[object, ...]], list[GraphQLError]]


class ValidationCacheByText(SchemaExtension):
    """Validation results cached by document text.

    Strawberry's ValidationCache keys its LRU by the parsed document, and graphql-core
    hashes a document by walking its whole syntax tree — about 0.8 ms per request for the
    portal's page, more than answering it from its compiled statement. The text the
    document was parsed from names it as well and hashes in microseconds.
    """

    _results: "weakref.WeakKeyDictionary[object, Validated]" = weakref.WeakKeyDictionary()

    def on_validate(self):  # type: ignore[no-untyped-def]
        execution = self.execution_context
        schema = execution.schema._schema
        rules = tuple(execution.validation_rules)
        results = self._results.setdefault(schema, Bounded(512))
        key = (execution.query or "", rules)
        errors = results.get(key) if execution.query is not None else None
        if errors is None:
            assert execution.graphql_document is not None
            errors = validate_document(schema, execution.graphql_document, rules)
            if execution.query is not None:
                results.put(key, errors)
        execution.pre_execution_errors = errors
        yield


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
        ValidationCacheByText,
        # After validation (the cache's), before any resolver.
        scalars.RefuseNulInText,
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
