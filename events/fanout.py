"""The per-process fan-out: one reader of the bus, a bounded queue per subscriber.

The reader decodes each event once (the bus does) and hands the same `Positioned` object
to every subscriber with `put_nowait`, so one slow subscriber can never hold up the others
or the reader: a subscriber whose queue is full is dropped on the spot. It resumes from its
last cursor (see `events.resume`), which is cheaper for everyone than waiting for it.
"""

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
from types import TracebackType
from typing import Self

from events.bus import Bus, Unavailable
from events.envelope import Positioned

log = logging.getLogger(__name__)

_RESTART_DELAY = 1.0


class Disconnected(Exception):
    """The hub ended this subscription; the subscriber resumes from its last cursor."""


class Overflowed(Disconnected):
    """The subscriber fell `queue_size` events behind and was dropped."""


class RecentIds:
    """The last `size` event ids seen, to drop an event the outbox relay published twice."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, event_id: str) -> bool:
        """True the first time an id is seen (within the window), False for a repeat."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids


class Subscription:
    """The live events for one subscriber, in bus order, from the moment it subscribed.

    Iterating raises `Overflowed` as soon as the hub has dropped it — at once, without
    handing out what was still queued (the queue is emptied to free its memory; the
    subscriber resumes from its last cursor and gets those events by replay). It ends
    (StopAsyncIteration) when it is closed or the hub stops.
    """

    def __init__(self, fanout: "FanOut", queue_size: int) -> None:
        self._fanout = fanout
        self._size = queue_size
        # A deque and one waiter rather than an asyncio.Queue: the fan-out hands each event
        # to every subscriber, so this is the hot path (one reader, one consumer; a Queue's
        # bookkeeping for many of each cost a tenth of the hub's CPU per delivery).
        self._items: deque[Positioned] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False
        self._error: Disconnected | None = None

    @property
    def pending(self) -> int:
        """Events queued and not yet read."""
        return len(self._items)

    def close(self) -> None:
        self._fanout._unregister(self)
        self._end(None)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Positioned:
        while not self._items:
            if self._ended:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def _offer(self, positioned: Positioned) -> bool:
        if len(self._items) >= self._size:
            return False
        self._items.append(positioned)
        self._wake()
        return True

    def _end(self, error: Disconnected | None) -> None:
        if self._ended:
            return
        self._ended = True
        self._error = error
        self._items.clear()  # what was queued is not handed out: the subscriber resumes
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class FanOut:
    def __init__(self, bus: Bus, *, queue_size: int = 1000, dedupe_window: int = 10_000) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.bus = bus
        self.queue_size = queue_size
        self.received = 0
        self.duplicates = 0
        self.dropped = 0
        self._recent = RecentIds(dedupe_window)
        self._subscriptions: set[Subscription] = set()
        self._reader: asyncio.Task[None] | None = None
        # True while the reader holds a place in the stream. A subscription made when it
        # does not (before start, while restarting after a fault) could miss events, so
        # it is disconnected at once and resumes.
        self._reading = False
        # Set once no more events will come (stopped, or the bus closed): a subscription
        # made then ends at once instead of waiting forever.
        self._over = False

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    async def start(self) -> None:
        """Returns once the reader holds its place: every event published from then on is
        handed to every subscriber. (A reader that took its place lazily could start after
        a resuming subscriber's replay ended, and both would miss what came between.)

        When the bus does not answer (Redis is down as the process starts), it returns at
        once without a place, so the process can serve the rest of the API: subscriptions
        are disconnected at once (they resume), and the reader takes its place as soon as
        the bus answers.
        """
        if self._reader is None:
            self._over = False
            after: str | None
            try:
                after = await self.bus.tail()
            except Unavailable as error:
                log.warning(
                    "feed fan-out: the bus does not answer (%s); reading once it does", error
                )
                after = None
            else:
                self._reading = True
            self._reader = asyncio.create_task(self._read(after), name="feed fan-out reader")

    async def stop(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            # Cancel until it takes: on Python 3.11 a cancellation that lands while
            # redis-py is inside asyncio.wait_for can be swallowed (CPython gh-86296), and
            # the reader would sit out a whole XREAD BLOCK before noticing.
            while not reader.done():
                reader.cancel()
                await asyncio.wait({reader}, timeout=0.05)
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        self._reading = False
        self._over = True
        self._end_all(None)

    def subscribe(self) -> Subscription:
        """Registered at once: every event the reader hands out from now on is queued."""
        subscription = Subscription(self, self.queue_size)
        if self._over:
            subscription._end(None)
        elif not self._reading:
            subscription._end(Disconnected("the hub is not reading the bus"))
        else:
            self._subscriptions.add(subscription)
        return subscription

    def _unregister(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def _dispatch(self, batch: list[Positioned]) -> None:
        for positioned in batch:
            self.received += 1
            if not self._recent.add(positioned.envelope.id):
                self.duplicates += 1
                continue
            for subscription in tuple(self._subscriptions):
                if not subscription._offer(positioned):
                    self._subscriptions.discard(subscription)
                    subscription._end(Overflowed(f"more than {self.queue_size} events behind"))
                    self.dropped += 1

    async def _read(self, after: str | None) -> None:
        """Reads from `after`; None: no place yet, so it takes one first."""
        while True:
            if after is None:
                after = await self._retake_place()
            try:
                async for batch in self.bus.listen(after):
                    self._dispatch(batch)
            except Exception:
                # A gap (CursorExpired: the reader fell behind the retained history) or a
                # fault: the subscribers may have missed events, so they resume, and the
                # reader starts again from the end of the stream.
                log.exception("feed fan-out: reading the bus failed; subscribers resume")
                self._reading = False
                self._end_all(Disconnected("the hub lost its place in the stream"))
                after = None
                continue
            # The bus was closed: nothing more will come.
            self._reading = False
            self._over = True
            self._end_all(None)
            return

    async def _retake_place(self) -> str:
        while True:
            await asyncio.sleep(_RESTART_DELAY)
            try:
                after = await self.bus.tail()
            except Exception as error:
                # Once a second while the bus is down: the message, not the traceback.
                log.warning("feed fan-out: the bus does not answer (%r)", error)
                continue
            self._reading = True
            return after

    def _end_all(self, error: Disconnected | None) -> None:
        subscriptions, self._subscriptions = self._subscriptions, set()
        for subscription in subscriptions:
            subscription._end(error)
