"""The in-process bus: the embedded default, for one app process (and for tests).

Positions are integers rendered as fixed-width strings, so they sort as strings too. The
first position is taken from the clock (microseconds) when the bus is created, so a cursor
a client kept from before a restart is older than this bus's history and resumes with an
explicit reset instead of silently skipping the new run's first events.
"""

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from itertools import islice

from events.bus import CursorExpired, InvalidCursor
from events.envelope import Envelope, Positioned

_WIDTH = 20
_BATCH = 1000


class MemoryBus:
    def __init__(self, retention: int = 100_000, *, start: int | None = None) -> None:
        if retention < 1:
            raise ValueError("retention must be at least 1")
        self.retention = retention
        self._events: deque[Positioned] = deque()
        # The cursor of each retained event, by id: publishing is idempotent (see Bus).
        self._cursors: dict[str, str] = {}
        base = time.time_ns() // 1_000 if start is None else start
        self._last = base
        # Every position at or below this one is gone (or was never here): a cursor below
        # it has a gap after it.
        self._trimmed = base
        self._published = asyncio.Event()
        self._closed = False

    @staticmethod
    def sort_key(cursor: str) -> tuple[int, ...]:
        return (_position(cursor),)

    async def publish(self, envelope: Envelope) -> str:
        if self._closed:
            raise RuntimeError("the bus is closed")
        known = self._cursors.get(envelope.id)
        if known is not None:
            return known
        self._last += 1
        cursor = self._cursors[envelope.id] = f"{self._last:0{_WIDTH}d}"
        self._events.append(Positioned(cursor=cursor, envelope=envelope))
        if len(self._events) > self.retention:
            trimmed = self._events.popleft()
            self._trimmed = _position(trimmed.cursor)
            del self._cursors[trimmed.envelope.id]
        # Wake every listener waiting on this event; later ones wait on a fresh one.
        published, self._published = self._published, asyncio.Event()
        published.set()
        return cursor

    async def replay(self, after: str | None, *, limit: int) -> list[Positioned]:
        position = self._trimmed if after is None else self._checked(after)
        return self._after(position, limit)

    async def latest(self) -> str | None:
        return self._events[-1].cursor if self._events else None

    async def tail(self) -> str:
        return f"{self._last:0{_WIDTH}d}"

    async def listen(self, after: str | None) -> AsyncIterator[list[Positioned]]:
        position = self._last if after is None else self._checked(after)
        while True:
            if position < self._trimmed:
                raise CursorExpired(f"{position:0{_WIDTH}d}")
            published = self._published
            batch = self._after(position, _BATCH)
            if batch:
                position = _position(batch[-1].cursor)
                yield batch
                continue
            if self._closed:
                return
            await published.wait()

    async def close(self) -> None:
        self._closed = True
        self._published.set()

    def _checked(self, cursor: str) -> int:
        position = _position(cursor)
        if position < self._trimmed or position > self._last:
            raise CursorExpired(cursor)
        return position

    def _after(self, position: int, limit: int) -> list[Positioned]:
        # Positions in the deque are consecutive, so the index is arithmetic; read from
        # whichever end is nearer (deque access is linear from the ends).
        newer = self._last - position
        if newer <= 0:
            return []
        held = len(self._events)
        if newer <= held // 2:
            tail = list(islice(reversed(self._events), newer))
            tail.reverse()
            return tail[:limit]
        return list(islice(self._events, held - newer, held - newer + limit))


def _position(cursor: str) -> int:
    if len(cursor) != _WIDTH or not cursor.isdigit() or not cursor.isascii():
        raise InvalidCursor(cursor)
    return int(cursor)
