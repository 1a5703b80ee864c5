"""Resume: what a subscriber missed since its cursor, then live, exactly once and in order.

The live subscription is registered first, then history is replayed from the bus in
bounded pages, then the live queue is drained, skipping everything at or before the last
cursor already yielded. Registering first is what closes the gap: an event the fan-out
handed out before the registration is already in the bus, so the replay (which starts
after it) finds it; anything published after the replay's last page is in the queue.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass

from events.bus import Bus, CursorExpired, Unavailable
from events.envelope import Positioned
from events.fanout import Disconnected, FanOut, RecentIds

# Publishing is idempotent within the retained history, but an event published again after
# its first entry was trimmed is a second entry (two cursors, one id), possibly arriving
# live after the first was replayed. Live-only repeats are the fan-out's to drop; so only
# replayed ids are remembered, and no more than this many.
_DEDUPE_WINDOW = 10_000


@dataclass(frozen=True)
class Reset:
    """The cursor was older than the retained history: there is a gap, so refetch.

    `cursor` is where the stream continues (its end when the reset was noticed; exactly
    the later events follow): the subscriber keeps it as its new cursor, and refetches
    with a normal query. `oldest` is the oldest event still retained (None: none is).
    """

    cursor: str
    oldest: str | None


async def resume(
    fanout: FanOut, bus: Bus, *, after: str | None, page: int = 500
) -> AsyncIterator[Positioned | Reset]:
    """Events after `after` (None: from the end of the stream now), then live ones, until
    the subscription ends.

    Raises `events.fanout.Overflowed` (or `Disconnected`) when the hub drops the
    subscription or the bus does not answer while replaying, and `InvalidCursor` for a
    malformed `after`. Use it with `contextlib.aclosing` so the live subscription is
    unregistered as soon as the consumer stops.
    """
    async with fanout.subscribe() as live:
        replayed = RecentIds(_DEDUPE_WINDOW)
        try:
            if after is None:
                # Live only, from the end of the stream now: an event published just before
                # that the reader has not handed out yet is not for this subscriber.
                last = bus.sort_key(await bus.tail())
            else:
                last = bus.sort_key(after)
                cursor = after
                try:
                    while True:
                        batch = await bus.replay(cursor, limit=page)
                        for positioned in batch:
                            if replayed.add(positioned.envelope.id):
                                yield positioned
                        if batch:
                            cursor = batch[-1].cursor
                            last = bus.sort_key(cursor)
                        if len(batch) < page:
                            break
                except CursorExpired:
                    tail = await bus.tail()
                    oldest = await bus.replay(None, limit=1)
                    yield Reset(cursor=tail, oldest=oldest[0].cursor if oldest else None)
                    last = bus.sort_key(tail)
        except Unavailable as error:
            # Redis is down: the hub cannot tell what was missed, so it ends the subscription
            # as it does any it cannot serve, and the subscriber resumes from its cursor.
            raise Disconnected("the bus does not answer") from error
        caught_up = False
        async for positioned in live:
            if not caught_up:
                if bus.sort_key(positioned.cursor) <= last:
                    continue  # replayed already, or from before this subscription
                # The live queue is in bus order: everything after this one is later still,
                # so no more cursors need comparing (once per subscriber, not per event).
                caught_up = True
            if positioned.envelope.id not in replayed:
                yield positioned
