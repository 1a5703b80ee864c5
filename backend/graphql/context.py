"""Per-operation context: who is acting, a read session, loaders, and the write transaction."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.fastapi import BaseContext

from backend.actors import Actor
from backend.config import Settings
from backend.db import SessionFactory
from backend.graphql.loaders import Loaders
from backend.graphql.read_cache import ReadCache
from backend.services.outbox import Relay
from events.bus import Bus
from events.fanout import FanOut

if TYPE_CHECKING:
    from backend.graphql.compiled.reads import CompiledReads
    from backend.graphql.feed_renders import SharedRenders


class LiveFeed(NamedTuple):
    """This process's reader of the bus, the bus itself, and the feed's shared renders."""

    fanout: FanOut
    bus: Bus
    renders: "SharedRenders"


class Context(BaseContext):
    def __init__(
        self,
        *,
        settings: Settings,
        session_factory: SessionFactory,
        actor: Actor,
        relay: Relay | None = None,
        feed: LiveFeed | None = None,
        read_cache: ReadCache | None = None,
        compiled_reads: "CompiledReads | None" = None,
        public_read: tuple[str, int] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.session_factory = session_factory
        self.actor = actor
        self.relay = relay
        self.feed = feed
        self.read_cache = read_cache
        # Answers the portal's trusted queries from one statement each (None: resolvers).
        self.compiled_reads = compiled_reads
        # An anonymous POST the public-read cache missed: where to store the response
        # (key, write generation taken when the request arrived); see read_lane.py.
        self.public_read = public_read
        # graphql-transport-ws puts the `connection_init` payload here.
        self.connection_params: dict[str, object] | None = None
        self.request_id = uuid.uuid4().hex
        self._session: AsyncSession | None = None
        # One AsyncSession cannot run two statements at once, and sibling resolvers (and
        # loaders) run concurrently: every read takes this lock.
        self._read_lock = asyncio.Lock()
        # Whether an operation is running. graphql-core does not cancel sibling resolvers
        # when an error nulls their parent: they may still read after the operation ended.
        self._in_operation = True

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """The operation's read session, one statement at a time."""
        async with self._read_lock:
            if self._session is None:
                self._session = self.session_factory()
            try:
                yield self._session
            finally:
                if not self._in_operation:
                    # A resolver still running after its operation ended: its session
                    # goes with its read, as nothing will close it later.
                    await self._close_session()

    def begin_operation(self) -> None:
        self._in_operation = True

    async def end_operation(self) -> None:
        self._in_operation = False
        await self.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One mutation, one transaction: COMMIT on leaving the block, ROLLBACK on error."""
        async with self.session_factory() as session, session.begin():
            yield session
        # Committed: the feed events it recorded can leave now (the relay publishes them in
        # the background, so the mutation does not wait for the bus, nor fail with it).
        if self.relay is not None:
            self.relay.kick()
        # Before the mutation returns, so the client's next read (in any process sharing the
        # cache) sees its write: no result cached before the COMMIT is served after it.
        if self.read_cache is not None:
            await self.read_cache.invalidate()
        # Reads after the write must see it: drop the read snapshot (SQLite keeps one per
        # transaction) and whatever the loaders cached before the write.
        await self.close()

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.actor, self.reading)

    async def close(self) -> None:
        """Drops the read session (after a read in flight, never under it) and the loaders."""
        async with self._read_lock:
            await self._close_session()
        self.__dict__.pop("loaders", None)

    async def _close_session(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
