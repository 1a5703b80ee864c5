"""The dashboard's trusted reports answered from the result cache between writes.

A dashboard sums every counted commitment and delivery of a coalition: on 100,000
commitments it costs PostgreSQL one to three seconds, however few rows it returns. Its
figures change only when a write commits, when a day passes (staleness and overdue
commitments are judged on today) or when an embargo ends (what a reader may see). So the
whole `data` of a report operation is kept in the read cache (backend/graphql/read_cache.py)
under the write generation taken before it was read, for its reader's visibility scope,
until the next embargo end or midnight, whichever comes first; every committed write puts
it out of reach, as it does the compiled reads' entries.

An anonymous request's whole response is kept for the read lane too, which answers the
same body again before the GraphQL stack (backend/graphql/read_lane.py). Only the portal's
trusted report operations (`REPORT_OPERATIONS`, sent as the documents in
schema/operations/ hold them) are kept: their fields depend on nothing but the data, the
day and the reader's visibility scope, which is what the key holds. Answers with errors are
never kept. Concurrent misses of one entry in this process wait for the first to read it
(one computation, not one per request in flight), then take its answer.
"""

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import ClassVar

import orjson
from graphql import ExecutionResult, OperationType
from strawberry.extensions import SchemaExtension

from backend.graphql.read_cache import ReadCache, result_key
from backend.graphql.read_lane import response_body
from backend.graphql.trusted_documents import TrustedDocuments, select_operation
from backend.services import embargoes

log = logging.getLogger(__name__)

# schema/operations/dashboard.graphql, delivery_tracking.graphql and visibility_plans.graphql.
REPORT_OPERATIONS = frozenset(
    {
        "CoalitionDashboard",
        "CoalitionBreakdowns",
        "PortfolioDashboard",
        "PortfolioBreakdowns",
        "DeliveryTracking",
        "VisibilityPlanFollowUp",
        "PortfolioVisibilityPlanFollowUp",
    }
)

# (cache, key, generation) -> the answer the first reader of a missed entry will give
# (None: it failed, each waiter reads for itself).
Flights = dict[tuple[int, str, int], "asyncio.Future[bytes | None]"]


def next_midnight(now: dt.datetime) -> dt.datetime:
    """The start of the next local day after `now` (reports judge on `date.today()`)."""
    today = now.astimezone().date()
    return dt.datetime.combine(today + dt.timedelta(days=1), dt.time()).astimezone(dt.UTC)


class ReportCache(SchemaExtension):
    """Sets a report operation's result from the cache, or keeps the result it computed."""

    documents: ClassVar[TrustedDocuments]
    _flights: ClassVar[Flights] = {}
    # In this process: answers served from the cache, computed and kept, and taken from a
    # concurrent reader's computation.
    hits: ClassVar[int] = 0
    misses: ClassVar[int] = 0
    shared: ClassVar[int] = 0

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        cache: ReadCache | None = getattr(context, "read_cache", None)
        key = self._key() if cache is not None else None
        if cache is None or key is None:
            yield
            return
        # Before the report's first read: an entry stored under it never misses a write
        # that committed before the generation was taken.
        now = dt.datetime.now(dt.UTC)
        generation = await cache.generation()
        if generation is None:
            yield
            return
        data = await cache.get(key, generation, now)
        flight = (id(cache), key, generation)
        leader: asyncio.Future[bytes | None] | None = None
        if data is None:
            waiting = self._flights.get(flight)
            if waiting is not None:
                data = await asyncio.shield(waiting)
                ReportCache.shared += data is not None
            else:
                leader = asyncio.get_running_loop().create_future()
                self._flights[flight] = leader
        else:
            ReportCache.hits += 1
        if data is not None:
            execution.result = ExecutionResult(data=orjson.Fragment(data))  # type: ignore[arg-type]
            yield
            return
        answer: bytes | None = None
        try:
            yield
            try:
                answer = await self._keep(cache, key, generation, now)
            except Exception:
                # The answer is computed: keeping it must never fail the request.
                log.exception("report cache: could not keep the answer; it is computed again")
        finally:
            if leader is not None:
                self._flights.pop(flight, None)
                leader.set_result(answer)

    def _key(self) -> str | None:
        """The entry of a trusted report operation; None for anything else."""
        execution = self.execution_context
        document, text = execution.graphql_document, execution.query
        if execution.result is not None or document is None or text is None:
            return None
        selected = select_operation(document, execution.operation_name)
        if selected is None:
            return None
        operation, _ = selected
        if (
            operation.operation is not OperationType.QUERY
            or operation.name is None
            or operation.name.value not in REPORT_OPERATIONS
            or not self.documents.allows(text, document, execution.operation_name)
        ):
            return None
        return result_key(text, operation.name.value, execution.variables, execution.context.actor)

    async def _keep(
        self, cache: ReadCache, key: str, generation: int, now: dt.datetime
    ) -> bytes | None:
        """The computed answer, kept until the next embargo end or midnight; None when it
        has errors (or the pre-execution refused it)."""
        result = self.execution_context.result
        if result is None or result.errors or result.data is None:
            return None
        data = orjson.dumps(result.data)
        async with self.execution_context.context.reading() as session:
            embargo_ends = await session.scalar(embargoes.next_end_query(now))
        valid_until = min(
            [moment for moment in (embargo_ends, next_midnight(now)) if moment is not None]
        )
        await cache.put(key, generation, data, valid_until)
        # An anonymous request the read lane missed: the same bytes again, before the stack.
        public = getattr(self.execution_context.context, "public_read", None)
        if public is not None and self.execution_context.context.actor.is_anonymous:
            public_key, public_generation = public
            await cache.put(public_key, public_generation, response_body(data), valid_until)
        ReportCache.misses += 1
        return data


def report_cache(documents: TrustedDocuments) -> type[ReportCache]:
    return type("ReportCache", (ReportCache,), {"documents": documents, "_flights": {}})
