"""Answering a trusted query from its compiled statement (and the result cache), so no
resolver runs: inside Strawberry's pipeline through the schema extension below the first
time (Strawberry parses and validates the document, and the extension plans it), then from
the read lane (`backend/graphql/read_lane.py`) before the stack for the same text."""

import datetime as dt
import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import orjson
import sqlalchemy as sa
from graphql import DocumentNode, ExecutionResult, GraphQLSchema, OperationType
from graphql.execution.values import get_variable_values
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.extensions import SchemaExtension

from backend.actors import Actor
from backend.graphql import scalars
from backend.graphql.bounded import Bounded
from backend.graphql.compiled import json_sql, statements
from backend.graphql.compiled.compiler import Fallback, Unsupported
from backend.graphql.compiled.plans import Plan
from backend.graphql.read_cache import ReadCache, result_key
from backend.graphql.read_lane import response_body
from backend.graphql.trusted_documents import TrustedDocuments, canonical, select_operation
from backend.models.base import UTCDateTime
from backend.services import embargoes

log = logging.getLogger(__name__)
# When the answers read now stop being what a reader may see (an embargo ends).
NEXT_EMBARGO_END = embargoes.next_end_query(sa.bindparam("after", type_=UTCDateTime()))


class CompiledReads:
    """This process's plans: one per trusted document text and operation name."""

    def __init__(
        self,
        schema: GraphQLSchema,
        engine: AsyncEngine,
        *,
        max_page_size: int,
        connections: int,
        documents: TrustedDocuments,
    ) -> None:
        self.schema = schema
        self.json = json_sql.for_dialect(engine.dialect.name)
        self.statements = statements.for_engine(engine, pool_size=connections)
        self.max_page_size = max_page_size
        self.trusted = documents.queries()
        # (document text, operation name) -> its plan, or None: the resolvers answer it.
        self._plans: Bounded[tuple[str, str | None], tuple[Plan | None]] = Bounded(512)
        # Operations answered from their statement (or the cache), by name.
        self.answered: Counter[str] = Counter()

    def plan(self, text: str, document: DocumentNode, operation_name: str | None) -> Plan | None:
        """The plan of a document Strawberry has parsed and validated; None: the resolvers
        answer it."""
        key = (text, operation_name)
        found = self._plans.get(key)
        if found is None:
            found = self._plans.put(key, (self._make_plan(document, operation_name),))
        return found[0]

    def known_plan(self, text: str, operation_name: str | None) -> Plan | None:
        """The plan of a document text this process has already validated and planned
        (`plan`), without parsing or validating it again; None for any other text."""
        found = self._plans.get((text, operation_name))
        return found[0] if found is not None else None

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
        plan: Plan,
        actor: Actor,
        cache: ReadCache | None,
        public: tuple[str, int] | None,
        text: str,
        operation_name: str | None,
        raw_variables: dict[str, Any] | None,
    ) -> bytes | None:
        """The `data` of a trusted query as JSON text, or None: the resolvers answer it.

        `public`: where to store the whole response of an anonymous read the read lane
        missed (its key and the write generation taken when the request arrived)."""
        if scalars.holds_nul(raw_variables):
            return None  # refused by the stack (PostgreSQL would fail the statement)
        variables = get_variable_values(
            self.schema, plan.operation.variable_definitions or (), raw_variables or {}
        )
        if isinstance(variables, list):
            return None  # the reference path reports the variables' errors
        now = dt.datetime.now(dt.UTC)
        generation = await cache.generation() if cache is not None else None
        key = result_key(text, operation_name, raw_variables, actor) if cache is not None else ""
        # A public read the lane missed is read from the database, so both entries are
        # stored with the same valid_until.
        public = public if actor.is_anonymous else None
        if cache is not None and generation is not None and public is None:
            cached = await cache.get(key, generation, now)
            if cached is not None:
                self.answered[plan.name] += 1
                return cached
        try:
            select, values = plan.prepare(actor, variables, now)
        except (Fallback, Unsupported) as reason:
            log.debug("operation %s goes to the resolvers: %s", operation_name, reason)
            return None
        except Exception:
            log.exception("compiled read %s failed; the resolvers answer it", operation_name)
            return None
        try:
            data = str(await self.statements.value(select, values)).encode()
            if cache is not None and (generation is not None or public is not None):
                valid_until = await self.statements.value(NEXT_EMBARGO_END, {"after": now})
        except Exception:
            # Never an answer the resolvers would not give: they answer instead (and their
            # errors are masked as any other).
            log.exception("compiled read %s failed; the resolvers answer it", operation_name)
            return None
        if cache is not None and generation is not None:
            await cache.put(key, generation, data, valid_until)
        if cache is not None and public is not None:
            public_key, public_generation = public
            await cache.put(public_key, public_generation, response_body(data), valid_until)
        self.answered[plan.name] += 1
        return data


async def close(reads: "CompiledReads | None") -> None:
    if reads is not None:
        await reads.statements.close()


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
            plan = reads.plan(execution.query, execution.graphql_document, execution.operation_name)
            data = (
                await reads.answer(
                    plan,
                    context.actor,
                    context.read_cache,
                    context.public_read,
                    execution.query,
                    execution.operation_name,
                    execution.variables,
                )
                if plan is not None
                else None
            )
            if data is not None:
                execution.result = ExecutionResult(data=orjson.Fragment(data))  # type: ignore[arg-type]
        yield
