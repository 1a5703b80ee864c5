"""Operation limits: what one GraphQL document may ask of the hub, checked before it runs.

The portal is public, so a document is untrusted input until proven otherwise. Each limit
refuses with a GraphQL error whose `extensions.code` is stable (backend/errors.py):

- the document's size and its number of tokens, before it is parsed (`DocumentLimits`);
- depth, aliases, directives and cost, as one validation rule (`validation_rule`) that
  measures the whole document once, with fragments expanded and memoised, so a fragment
  that spreads another twice on every level costs linear time, not exponential.

The rule class is built once per schema: graphql-core's validation cache (ours is keyed by
document text and the rule classes) only hits while the classes stay the same objects.

Cost: every field that returns an object costs 1, times the size of the list it is in. A
connection's list (`edges`) has the size its `first` asks for; a `first` taken from a
variable counts as the largest page, since the variables can change while the validated
document stays cached. A plain list without paging counts as `list_size` items. Scalars
cost nothing; neither do introspection fields (`__typename`, and `__schema` where
introspection is on at all — it is off in production).
"""

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    get_named_type,
    is_composite_type,
    is_list_type,
    is_non_null_type,
    parse,
    visit,
)
from graphql.language import ast
from graphql.validation import ASTValidationRule, ValidationRule
from strawberry.extensions import SchemaExtension

from backend import errors
from backend.config import Settings


@dataclass(frozen=True)
class Limits:
    """Every limit, from Settings (`HUB_MAX_*`); the README's security section lists them."""

    depth: int = 10
    aliases: int = 15
    tokens: int = 2_000
    document_chars: int = 15_000
    body_bytes: int = 100_000
    directives: int = 50
    cost: int = 5_000
    page_size: int = 100
    # What an unpaged list (coalition.memberships, commitment.deliveries, …) counts as.
    list_size: int = 20

    @classmethod
    def of(cls, settings: Settings) -> "Limits":
        return cls(
            depth=settings.max_depth,
            aliases=settings.max_aliases,
            tokens=settings.max_tokens,
            document_chars=settings.max_document_chars,
            body_bytes=settings.max_body_bytes,
            directives=settings.max_directives,
            cost=settings.max_cost,
            page_size=settings.max_page_size,
            list_size=settings.cost_list_size,
        )


def refusal(code: str, message: str, nodes: Sequence[ast.Node] | None = None) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": code})


# -- before parsing ---------------------------------------------------------------------


# GraphQL's tokens, as one regular expression: strings and comments first, so what is
# inside them is not counted; never more than the lexer counts, so it refuses no document
# the parser would take. Python's parser spends about 7 µs a token; this counts a
# 2,000-token document in a fraction of a millisecond, before the parser is given it.
_TOKENS = re.compile(
    r'"""(?:\\"""|[^"]|"(?!""))*"""|"(?:\\.|[^"\\\n])*"|#[^\n]*'
    r"|\.\.\.|[!$&():=@\[\]{|}]|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
    r"|[_A-Za-z][_0-9A-Za-z]*"
)


def more_tokens_than(text: str, limit: int) -> bool:
    """Whether `text` has more than `limit` GraphQL tokens, counting no further."""
    counted = 0
    for token in _TOKENS.finditer(text):
        if not token.group().startswith("#"):
            counted += 1
            if counted > limit:
                return True
    return False


@lru_cache(maxsize=512)
def _parse(text: str, max_tokens: int) -> DocumentNode:
    # Counted on a miss only: a cached document was counted when it was parsed.
    if more_tokens_than(text, max_tokens):
        raise refusal(
            errors.TOO_MANY_TOKENS,
            f"The document has more than {max_tokens} tokens. Parsing aborted.",
        )
    return parse(text, max_tokens=max_tokens)


def parse_cache_info() -> Any:
    """Hits and misses of the parse cache (functools' CacheInfo), for tests and metrics."""
    return _parse.cache_info()


def parse_limited(text: str, limits: Limits) -> DocumentNode:
    """The parsed document (cached by text), or a refusal: too large, too many tokens, or
    not GraphQL at all."""
    if len(text) > limits.document_chars:
        raise refusal(
            errors.DOCUMENT_TOO_LARGE,
            f"The document has {len(text)} characters; at most {limits.document_chars} are "
            "accepted.",
        )
    try:
        return _parse(text, limits.tokens)
    except GraphQLError as error:
        if (error.extensions or {}).get("code"):
            raise  # refused by the count before parsing
        # The parser's own token limit (its count is the last word) or a syntax error.
        code = (
            errors.TOO_MANY_TOKENS
            if "more than" in error.message and "tokens" in error.message
            else errors.GRAPHQL_PARSE_FAILED
        )
        raise GraphQLError(
            error.message, source=error.source, positions=error.positions, extensions={"code": code}
        ) from None


_REFUSED = parse("{ __typename }")


class DocumentLimits(SchemaExtension):
    """Parses the document within the size and token limits (and caches it by text): the
    parser never sees a document larger than the limits allow."""

    limits = Limits()

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        if execution.query is not None and execution.graphql_document is None:
            try:
                execution.graphql_document = parse_limited(execution.query, self.limits)
            except GraphQLError as error:
                # Refused without raising (an exception here escapes the websocket
                # transport): a stand-in document, and the refusal as the errors found
                # before execution, which skip validation and are answered as such.
                execution.graphql_document = _REFUSED
                execution.pre_execution_errors = [error]
        yield


def document_limits(limits: Limits) -> type[DocumentLimits]:
    return type("DocumentLimits", (DocumentLimits,), {"limits": limits})


# -- validation -------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """How deep a selection goes and what it costs."""

    depth: int = 0
    cost: int = 0

    def plus(self, other: "Measure") -> "Measure":
        return Measure(max(self.depth, other.depth), self.cost + other.cost)


class _Measuring:
    """Depth and cost of one document's operations, fragments measured once each."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, limits: Limits) -> None:
        self.schema = schema
        self.limits = limits
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self._measured: dict[tuple[str, int | None], Measure] = {}
        self._measuring: set[str] = set()

    def operation(self, operation: OperationDefinitionNode) -> Measure:
        root = self.schema.get_root_type(operation.operation)
        return self.selections(operation.selection_set, root, page=None) if root else Measure()

    def selections(
        self, selection_set: SelectionSetNode | None, parent: Any, *, page: int | None
    ) -> Measure:
        total = Measure()
        if selection_set is None or parent is None:
            return total
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total = total.plus(self.field(selection, parent, page=page))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total = total.plus(self.selections(selection.selection_set, inner, page=page))
            elif isinstance(selection, FragmentSpreadNode):
                total = total.plus(self.spread(selection.name.value, page=page))
            if total.depth > self.limits.depth or total.cost > self.limits.cost:
                break  # refused already: measuring further only costs time
        return total

    def spread(self, name: str, *, page: int | None) -> Measure:
        key = (name, page)
        if key in self._measured:
            return self._measured[key]
        fragment = self.fragments.get(name)
        if fragment is None or name in self._measuring:
            return Measure()  # unknown or cyclic: the specification's rules report it
        self._measuring.add(name)
        inner = self.schema.get_type(fragment.type_condition.name.value)
        measure = self.selections(fragment.selection_set, inner, page=page)
        self._measuring.discard(name)
        self._measured[key] = measure
        return measure

    def field(self, node: FieldNode, parent: GraphQLNamedType, *, page: int | None) -> Measure:
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return Measure()
        definition = parent.fields.get(name)
        if definition is None:
            return Measure()  # an unknown field: FieldsOnCorrectTypeRule reports it
        output = definition.type
        if is_non_null_type(output):
            output = output.of_type
        named = get_named_type(output)
        if not is_composite_type(named):
            return Measure(depth=1)
        size = (page if page is not None else self.limits.list_size) if is_list_type(output) else 1
        inner = self.selections(node.selection_set, named, page=self.page_size(node))
        return Measure(depth=1 + inner.depth, cost=size * (1 + inner.cost))

    def page_size(self, node: FieldNode) -> int | None:
        """The size `first` asks of a connection (its lists' size); None: not paged."""
        for argument in node.arguments or ():
            if argument.name.value in ("first", "last"):
                value = argument.value
                return (
                    int(value.value) if isinstance(value, IntValueNode) else self.limits.page_size
                )
        return None


def _counts(document: DocumentNode) -> tuple[int, int]:
    """(aliases, directives) in the whole document."""
    counted = [0, 0]

    class Counting(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            if node.alias is not None:
                counted[0] += 1

        def enter_directive(self, node: DirectiveNode, *_: object) -> None:
            counted[1] += 1

    visit(document, Counting())
    return counted[0], counted[1]


# Whether an operation (with the document's fragments) is exempt from the cost limit.
Exempt = Callable[[OperationDefinitionNode, dict[str, FragmentDefinitionNode]], bool]


def validation_rule(
    limits: Limits, *, cost_exempt: Exempt | None = None
) -> type[ASTValidationRule]:
    """The limits as one validation rule class, to be built once and reused. Operations
    `cost_exempt` names (the portal's trusted documents) are not held to the cost limit."""

    class OperationLimits(ValidationRule):
        def enter_document(self, document: DocumentNode, *_: object) -> bool:
            aliases, directives = _counts(document)
            if aliases > limits.aliases:
                self.report_error(
                    refusal(
                        errors.TOO_MANY_ALIASES,
                        f"The document has {aliases} aliases; at most {limits.aliases} are "
                        "accepted.",
                    )
                )
            if directives > limits.directives:
                self.report_error(
                    refusal(
                        errors.TOO_MANY_DIRECTIVES,
                        f"The document has {directives} directives; at most "
                        f"{limits.directives} are accepted.",
                    )
                )
            measuring = _Measuring(self.context.schema, document, limits)
            for definition in document.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    exempt = cost_exempt is not None and cost_exempt(
                        definition, measuring.fragments
                    )
                    self._check(definition, measuring.operation(definition), exempt=exempt)
            return False  # measured: no need to walk the document again

        def _check(
            self, operation: OperationDefinitionNode, measure: Measure, *, exempt: bool
        ) -> None:
            name = f"`{operation.name.value}`" if operation.name else "The operation"
            if measure.depth > limits.depth:
                self.report_error(
                    refusal(
                        errors.DEPTH_LIMIT_EXCEEDED,
                        f"{name} nests fields deeper than {limits.depth} levels.",
                        [operation],
                    )
                )
            elif measure.cost > limits.cost and not exempt:
                self.report_error(
                    refusal(
                        errors.COST_LIMIT_EXCEEDED,
                        f"{name} could cost more than {limits.cost} (objects count 1, lists "
                        "multiply by their page size).",
                        [operation],
                    )
                )

    return OperationLimits


def measure(schema: GraphQLSchema, document: DocumentNode, limits: Limits) -> dict[str, Measure]:
    """Each operation's depth and cost, by name, as the rule measures them (exact below the
    limits; measuring stops once one is passed)."""
    measuring = _Measuring(schema, document, limits)
    return {
        definition.name.value if definition.name else "": measuring.operation(definition)
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    }
