"""The bus: an ordered, bounded stream of envelopes that every app process reads.

Two implementations: `events.memory.MemoryBus` (one process, the embedded default) and
`events.redis_streams.RedisStreamBus` (Redis Streams, shared by replicas). Cursors are
opaque strings in publish order, never database ids: rows commit out of id order, the
stream does not. Compare cursors only through the bus's `sort_key` — Redis Stream ids
are not fixed width, so string order is wrong for them.
"""

from collections.abc import AsyncIterator
from typing import Protocol

from events.envelope import Envelope, Positioned


class CursorExpired(Exception):
    """Events after this cursor have been trimmed from the retained history: a gap.

    Also raised for a well-formed cursor this stream never issued (newer than its newest
    event, or older than its history, e.g. from before an in-memory bus restarted): what
    lies between is unknown, which is a gap too.
    """


class InvalidCursor(ValueError):
    """Not a cursor of this kind of bus at all (a client sent garbage)."""


class Unavailable(ConnectionError):
    """The bus does not answer (Redis is down or restarting): try again later.

    Nothing is wrong with the request itself, so callers retry rather than fail for good:
    the relay publishes the row on its next run, a resuming subscriber subscribes again.
    """


class Bus(Protocol):
    async def publish(self, envelope: Envelope) -> str:
        """Append the envelope; returns its cursor. Raises Unavailable when the bus does not
        answer (the envelope may have been appended all the same).

        Idempotent by envelope id: an envelope whose id is in the retained history is not
        appended again, and its cursor there is returned. (The relay publishes a row again
        when it cannot tell whether the bus took it; a second entry would reach a subscriber
        that resumed between the two.)
        """
        ...

    async def replay(self, after: str | None, *, limit: int) -> list[Positioned]:
        """Up to `limit` retained events after `after` (None: from the oldest), oldest first.

        Raises CursorExpired when events after `after` are no longer retained, and
        Unavailable when the bus does not answer (as every method that reads may).
        """
        ...

    async def latest(self) -> str | None:
        """The cursor of the newest event, or None for an empty stream."""
        ...

    async def tail(self) -> str:
        """A cursor at the end of the stream as it is now: exactly the events published after
        this call come after it. For an empty stream, a cursor before the first event."""
        ...

    def listen(self, after: str | None) -> AsyncIterator[list[Positioned]]:
        """Batches of events after `after` (None: only those published from now on), as they
        arrive, until the bus is closed. One listener per process is the design.

        Raises CursorExpired if it finds it has fallen behind the retained history (events
        were trimmed before it read them).
        """
        ...

    def sort_key(self, cursor: str) -> tuple[int, ...]:
        """A key that orders cursors in publish order; raises InvalidCursor."""
        ...

    async def close(self) -> None: ...
