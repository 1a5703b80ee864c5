"""Answering a trusted query from its compiled statement (and the result cache), inside
Strawberry's pipeline: parsing and validation stay Strawberry's (cached), and the schema
extension below sets the execution result, so no resolver runs for such an operation."""

import datetime as dt
import hashlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson
from graphql import DocumentNode, ExecutionResult, GraphQLSchema, OperationType
from graphql.execution.values import get_variable_values
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from strawberry.extensions import SchemaExtension

from backend.actors import Actor
from backend.graphql.bounded import Bounded
from backend.graphql.compiled import json_sql
from backend.graphql.compiled.compiler import Fallback, Unsupported
from backend.graphql.compiled.plans import (
    Plan,
    canonical,
    reader_kind,
    select_operation,
    trusted_operations,
)
from backend.graphql.public_reads import response_body
from backend.services import embargoes

if TYPE_CHECKING:
    from backend.graphql.context import Context

log = logging.getLogger(__name__)


class CompiledReads:
    """This process's plans: one per trusted document text and operation name."""

    def __init__(self, schema: GraphQLSchema, engine: AsyncEngine, *, max_page_size: int) -> None:
        self.schema = schema
        self.json = json_sql.for_dialect(engine.dialect.name)
        # One statement is one snapshot: on PostgreSQL it runs in autocommit (no BEGIN, no
        # ROLLBACK) on a pool without the per-checkout ping. A dead connection fails that
        # one read, which the resolvers then answer through the main (pinged) pool.
        self._own_engine = engine.dialect.name == "postgresql"
        self.engine = (
            create_async_engine(
                engine.url, pool_size=10, max_overflow=10, isolation_level="AUTOCOMMIT"
            )
            if self._own_engine
            else engine
        )
        self.max_page_size = max_page_size
        self.trusted = trusted_operations()
        # (document text, operation name) -> its plan, or None: the resolvers answer it.
        self._plans: Bounded[tuple[str, str | None], tuple[Plan | None]] = Bounded(512)
        # Operations answered from their statement (or the cache), by name.
        self.answered: Counter[str] = Counter()

    def plan(self, text: str, document: DocumentNode, operation_name: str | None) -> Plan | None:
        key = (text, operation_name)
        found = self._plans.get(key)
        if found is None:
            found = self._plans.put(key, (self._make_plan(document, operation_name),))
        return found[0]

    def _make_plan(self, document: DocumentNode, operation_name: str | None) -> Plan | None:
        selected = select_operation(document, operation_name)
        if selected is None:
            return None
        operation, fragments = selected
        name = operation.name.value if operation.name else None
        if name is None or self.trusted.get(name) != canonical(operation, fragments):
            return None
        if operation.operation is not OperationType.QUERY:
            return None
        try:
            return Plan(self.schema, self.json, operation, fragments, self.max_page_size)
        except Unsupported as reason:
            log.info("operation %s is answered by the resolvers: %s", name, reason)
            return None

    async def answer(
        self,
        context: "Context",
        text: str,
        document: DocumentNode,
        operation_name: str | None,
        raw_variables: dict[str, Any] | None,
    ) -> ExecutionResult | None:
        """The result of a trusted query, or None: the resolvers answer it."""
        plan = self.plan(text, document, operation_name)
        if plan is None:
            return None
        variables = get_variable_values(
            self.schema, plan.operation.variable_definitions or (), raw_variables or {}
        )
        if isinstance(variables, list):
            return None  # the reference path reports the variables' errors
        actor = context.actor
        now = dt.datetime.now(dt.UTC)
        cache = context.read_cache
        generation = await cache.generation() if cache is not None else None
        key = _cache_key(text, operation_name, raw_variables, actor)
        # A public read the middleware missed is read from the database, so both entries
        # are stored with the same valid_until.
        public = context.public_read if actor.is_anonymous else None
        if cache is not None and generation is not None and public is None:
            cached = await cache.get(key, generation, now)
            if cached is not None:
                self.answered[plan.name] += 1
                return ExecutionResult(data=orjson.Fragment(cached))  # type: ignore[arg-type]
        try:
            prepared = plan.prepare(actor, variables, now)
        except (Fallback, Unsupported) as reason:
            log.debug("operation %s goes to the resolvers: %s", operation_name, reason)
            return None
        except Exception:
            log.exception("compiled read %s failed; the resolvers answer it", operation_name)
            return None
        try:
            async with self.engine.connect() as connection:
                data = await plan.run(connection, prepared)
                if cache is not None and (generation is not None or public is not None):
                    valid_until = await embargoes.next_end(connection, now)
        except Exception:
            # Never an answer the resolvers would not give: they answer instead (and their
            # errors are masked as any other).
            log.exception("compiled read %s failed; the resolvers answer it", operation_name)
            return None
        if cache is not None and generation is not None:
            await cache.put(key, generation, data.encode(), valid_until)
        if cache is not None and public is not None:
            public_key, public_generation = public
            await cache.put(public_key, public_generation, response_body(data), valid_until)
        self.answered[plan.name] += 1
        return ExecutionResult(data=orjson.Fragment(data))  # type: ignore[arg-type]


async def close(reads: "CompiledReads | None") -> None:
    if reads is not None and reads._own_engine:
        await reads.engine.dispose()


def _cache_key(
    text: str, operation_name: str | None, variables: dict[str, Any] | None, actor: Actor
) -> str:
    """(document, variables, visibility scope): what a compiled result depends on."""
    kind = reader_kind(actor)
    scope = (
        [kind]
        if kind != "organisation"
        else [kind, actor.organisation_id, sorted(actor.member_coalition_ids)]
    )
    material = orjson.dumps(
        [hashlib.sha256(text.encode()).hexdigest(), operation_name, variables or {}, scope],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(material).hexdigest()


class CompiledReadsExtension(SchemaExtension):
    """Sets the result of a trusted query from its compiled statement; any other
    operation (or a trusted one the compiler cannot take) runs through the resolvers."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        reads: CompiledReads | None = getattr(context, "compiled_reads", None)
        if (
            reads is not None
            and execution.result is None
            and execution.graphql_document is not None
            and execution.query is not None
        ):
            result = await reads.answer(
                context,
                execution.query,
                execution.graphql_document,
                execution.operation_name,
                execution.variables,
            )
            if result is not None:
                execution.result = result
        yield
