"""The feed rendered once per (document, variables, visibility), for every subscriber.

Strawberry's subscription path executes a subscriber's selection for each event and
serialises each result on its own: with 1,000 subscribers of the wall-screen document, one
pledge means 1,000 executions of the same selection on the same event, ~0.5 ms of CPU
each. Here, a subscribe message whose document is a plain `coalitionFeed` subscription is
prepared once (parsed and validated with the schema's rules, cached by its text; its
variables coerced) and joins a *render group*: the subscribers with the same document,
operation name and variables — all but the one given as `after`, which only chooses where
replay starts and cannot appear anywhere else (no other field of the feed takes a String).
Each event is then executed once per group and visibility (whether its confidential
amounts are shown), serialised once with orjson, and every subscriber sends that text in
its own `next` message (see `backend.graphql.transport_ws`).

Documents of any other shape (the feed field behind a fragment or a directive at the root,
other operations) take Strawberry's path, which stays the reference: a differential test
runs both on the same events and compares what each subscriber receives.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    VariableNode,
    parse,
    specified_rules,
    validate,
)
from graphql.execution import Executor, execute_subscription_event
from graphql.execution.values import get_argument_values
from graphql.utilities import get_operation_ast
from graphql.validation import ASTValidationRule

from backend.graphql.bounded import Bounded
from backend.graphql.feed import feed_item
from events.envelope import Positioned
from events.resume import Reset

log = logging.getLogger("backend.graphql.feed")

FEED_FIELD = "coalitionFeed"
_MASKED = {"message": "Unexpected error.", "extensions": {"code": "INTERNAL"}}


@dataclass(frozen=True)
class _FeedDocument:
    """A valid document whose operation is a plain `coalitionFeed` subscription."""

    document: DocumentNode
    field: FieldNode
    # The variable the `after` argument takes its value from, if any.
    after_variable: str | None


@dataclass(frozen=True)
class RenderGroup:
    """Subscribers that receive the same text for the same event."""

    key: tuple[str, str | None, bytes]
    executor: Executor


@dataclass(frozen=True)
class FeedSubscription:
    """One subscriber's prepared `coalitionFeed`: its group and its arguments."""

    group: RenderGroup
    coalition_id: str | None
    types: list[Any] | None
    after: str | None


class SharedRenders:
    """This process's prepared feed documents, render groups and rendered events."""

    def __init__(
        self,
        schema: GraphQLSchema,
        *,
        rules: Iterable[type[ASTValidationRule]] = (),
        documents: int = 512,
        groups: int = 512,
        renders: int = 8192,
    ) -> None:
        self.schema = schema
        self.rules = (*specified_rules, *rules)
        self.rendered = 0  # executions of a selection on an event
        self.reused = 0  # times a rendered text was sent again to another subscriber
        # By (text, operation name); False: not a plain, valid feed subscription (Strawberry
        # runs it).
        self._documents: Bounded[tuple[str, str | None], _FeedDocument | bool]
        self._documents = Bounded(documents)
        self._groups: Bounded[tuple[str, str | None, bytes], RenderGroup] = Bounded(groups)
        self._texts: Bounded[tuple[object, ...], str] = Bounded(renders)

    def prepare(
        self, query: str, variables: Mapping[str, Any] | None, operation_name: str | None
    ) -> FeedSubscription | None:
        """The subscription's place among the render groups; None when the document is not
        a plain, valid `coalitionFeed` subscription or its variables do not coerce — the
        reference path then runs it, and reports any error the same way as for queries."""
        if variables is not None and not isinstance(variables, Mapping):
            return None  # not JSON object variables: the reference path refuses them
        document = self._document(query, operation_name)
        if document is None:
            return None
        raw = dict(variables or {})
        executor = Executor.build(
            self.schema, document.document, raw_variable_values=raw, operation_name=operation_name
        )
        if isinstance(executor, list):
            return None
        shared = {name: value for name, value in raw.items() if name != document.after_variable}
        key = (query, operation_name, orjson.dumps(shared, option=orjson.OPT_SORT_KEYS))
        group = self._groups.get(key) or self._groups.put(key, RenderGroup(key, executor))
        subscription_type = self.schema.subscription_type
        assert subscription_type is not None
        arguments = get_argument_values(
            subscription_type.fields[FEED_FIELD], document.field, executor.variable_values
        )
        return FeedSubscription(
            group=group,
            coalition_id=arguments.get("coalitionId"),
            types=arguments.get("types"),
            after=arguments.get("after"),
        )

    def text(self, subscription: FeedSubscription, item: Positioned | Reset, amounts: bool) -> str:
        """The `next` payload for this item as this subscriber may see it, as JSON text."""
        kind = "reset" if isinstance(item, Reset) else "event"
        key = (subscription.group.key, kind, item.cursor, amounts)
        text = self._texts.get(key)
        if text is not None:
            self.reused += 1
            return text
        self.rendered += 1
        return self._texts.put(key, self._render(subscription.group, item, amounts))

    def _render(self, group: RenderGroup, item: Positioned | Reset, amounts: bool) -> str:
        event = feed_item(item, amounts=amounts)
        result = execute_subscription_event(group.executor.build_per_event_executor(event))
        # The feed's objects are plain data: every resolver is synchronous.
        assert not callable(getattr(result, "__await__", None)), "a feed resolver awaited"
        payload: dict[str, Any] = {"data": result.data}  # type: ignore[union-attr]
        if result.errors:  # type: ignore[union-attr]
            # Nothing in a feed event should fail to render: a bug, whose text may leak.
            log.error("rendering feed event %s failed: %s", item.cursor, result.errors)  # type: ignore[union-attr]
            payload["errors"] = [_MASKED]
        return orjson.dumps(payload).decode()

    def _document(self, query: str, operation_name: str | None) -> _FeedDocument | None:
        key = (query, operation_name)
        found = self._documents.get(key)
        if found is None:
            found = _feed_document(self.schema, query, operation_name, self.rules)
            self._documents.put(key, found)
        return None if isinstance(found, bool) else found


def _feed_document(
    schema: GraphQLSchema,
    query: str,
    operation_name: str | None,
    rules: tuple[type[ASTValidationRule], ...],
) -> _FeedDocument | bool:
    """The document's operation, when it is a plain `coalitionFeed` subscription in a valid
    document; False otherwise (False, not None: the answer is cached either way)."""
    try:
        document = parse(query)
    except GraphQLError:
        return False
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation != OperationType.SUBSCRIPTION:
        return False
    field = _feed_field(operation.selection_set.selections)
    if field is None or validate(schema, document, rules):
        return False
    after = next(
        (argument for argument in field.arguments or () if argument.name.value == "after"), None
    )
    after_variable = (
        after.value.name.value if after and isinstance(after.value, VariableNode) else None
    )
    return _FeedDocument(document, field, after_variable)


def _feed_field(selections: Iterable[object]) -> FieldNode | None:
    """The root field, when it is the only selection: `coalitionFeed`, no directive."""
    selected = list(selections)
    if len(selected) != 1:
        return None
    field = selected[0]
    if not isinstance(field, FieldNode) or field.name.value != FEED_FIELD or field.directives:
        return None
    return field


__all__ = ["FeedSubscription", "SharedRenders"]
