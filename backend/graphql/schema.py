"""The schema: every domain module's Query and Mutation merged into one."""

import weakref

import strawberry
from graphql import GraphQLError
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry import Schema
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document

from backend import errors as codes
from backend.graphql import (
    activities,
    audit,
    coalitions,
    commitment_writes,
    commitments,
    dashboard,
    deliveries,
    enums,
    errors,
    feed,
    fx,
    matches,
    memberships,
    needs,
    offers,
    organisations,
    permissions,
    pipeline,
    pipeline_writes,
    relay,
    scalars,
    tokens,
    viewer,
    visibility_plans,
)
from backend.graphql.bounded import Bounded
from backend.graphql.compiled.reads import CompiledReadsExtension
from backend.graphql.context import Context
from backend.graphql.limits import Limits, document_limits, validation_rule
from backend.graphql.report_cache import report_cache
from backend.graphql.trusted_documents import TrustedDocuments, trusted_documents_only


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
    dashboard.Query,
    audit.Query,
    tokens.Query,
    needs.Query,
    offers.Query,
    pipeline.Query,
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
    visibility_plans.Mutation,
    needs.Mutation,
    offers.Mutation,
    matches.Mutation,
    pipeline_writes.Mutation,
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
    needs.Need,
    offers.Offer,
    matches.Match,
    pipeline.EngagementOpportunity,
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
    # Lookups answered from the cache, and documents validated, in this process.
    hits = 0
    misses = 0

    def on_validate(self):  # type: ignore[no-untyped-def]
        execution = self.execution_context
        if execution.pre_execution_errors is not None:
            yield  # refused before validation (limits, trusted documents)
            return
        schema = execution.schema._schema
        rules = tuple(execution.validation_rules)
        results = self._results.setdefault(schema, Bounded(512))
        key = (execution.query or "", rules)
        errors = results.get(key) if execution.query is not None else None
        if errors is None:
            ValidationCacheByText.misses += 1
            assert execution.graphql_document is not None
            errors = with_codes(validate_document(schema, execution.graphql_document, rules))
            if execution.query is not None:
                results.put(key, errors)
        else:
            ValidationCacheByText.hits += 1
        execution.pre_execution_errors = errors
        yield


def with_codes(found: list[GraphQLError]) -> list[GraphQLError]:
    """The specification's validation errors, with the code every refusal carries."""
    for error in found:
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": codes.GRAPHQL_VALIDATION_FAILED}
    return found


def validation_rules(
    *, production: bool, limits: Limits, documents: TrustedDocuments | None = None
) -> tuple[type[ASTValidationRule], ...]:
    """The rules on top of the specification's (the feed's shared renders apply them too).
    Built once: the validation cache is keyed by the rule classes. The portal's trusted
    documents are not held to the cost limit: they are reviewed, and their lists are the
    coalition's own size (README "Security")."""
    documents = documents or TrustedDocuments()
    rules: list[type[ASTValidationRule]] = [validation_rule(limits, cost_exempt=documents.holds)]
    if production:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


def build(
    *,
    production: bool,
    limits: Limits = Limits(),
    rules: tuple[type[ASTValidationRule], ...] | None = None,
    trusted_only: TrustedDocuments | None = None,
) -> Schema:
    """The schema; `rules` from validation_rules (built here if not given), and with
    `trusted_only` anonymous and partner callers may run only those documents."""
    rules = rules if rules is not None else validation_rules(production=production, limits=limits)
    documents = trusted_only or TrustedDocuments()
    extensions: list[object] = [
        CloseOperationScope,
        permissions.WritesNeedSignIn,
        errors.MaskUnexpectedErrors,
        # The portal's trusted queries: one compiled statement each, no resolver.
        CompiledReadsExtension,
        # The dashboard's trusted reports: whole answers kept between writes.
        report_cache(documents),
        # Parsing and validating the same document again costs more than running most
        # queries: both are cached by document text (bounded LRU). Parsing is limited in
        # size and tokens.
        document_limits(limits),
    ]
    if trusted_only is not None:
        # Before validation: an untrusted document is refused without being validated.
        extensions.append(trusted_documents_only(trusted_only))
    extensions += [
        ValidationCacheByText,
        lambda: AddValidationRules(list(rules)),
        # After validation (the cache's), before any resolver.
        scalars.RefuseNulInText,
    ]
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
