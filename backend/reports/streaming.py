"""Rows read in batches, so an export of any size holds one batch in memory at a time.

PostgreSQL streams one statement through a server-side cursor (one snapshot, rows fetched
`batch` at a time). SQLite reads keyset pages, `key > last ORDER BY key LIMIT batch`, each
a short read of its own: an open SQLite read would pin the write-ahead log for as long as
a slow client takes to download, and the log could not be checkpointed meanwhile.
"""

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

BATCH = 1000

# (after: the last key read, or None; limit: at most this many keys, or None) -> a SELECT
# ordered by its key. A key may span several rows (a commitment and its in-kind lines):
# `limit` counts keys, and a page never splits one.
Pages = Callable[[Any, int | None], sa.Select[Any]]


async def batches(
    connection: AsyncConnection,
    pages: Pages,
    *,
    key: Callable[[sa.Row[Any]], Any],
    batch: int = BATCH,
) -> AsyncIterator[Sequence[sa.Row[Any]]]:
    """The rows of `pages`, in key order, in lists of about `batch` keys; the rows of one
    key always come in the same list."""
    if connection.dialect.name == "postgresql":
        result = await connection.stream(pages(None, None).execution_options(yield_per=batch))
        # The cursor's partitions count rows, not keys: the last key's rows wait for the
        # next partition, which may hold more of them.
        pending: list[sa.Row[Any]] = []
        async for partition in result.partitions():
            rows = [*pending, *partition]
            last = key(rows[-1])
            cut = len(rows)
            while cut > 0 and key(rows[cut - 1]) == last:
                cut -= 1
            if cut:
                yield rows[:cut]
            pending = rows[cut:]
        if pending:
            yield pending
        return
    after = None
    while True:
        page = (await connection.execute(pages(after, batch))).all()
        if not page:
            return
        yield page
        after = key(page[-1])
