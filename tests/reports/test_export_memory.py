"""Exports stream: the memory an export takes does not grow with the rows it writes."""

import gc
import tracemalloc
from typing import Any

import pytest

from backend.actors import SYSTEM
from backend.reports import csv_exports, filters
from backend.web.exports import prepare
from tests.factories import make_coalition, make_organisation
from tests.reports import bulk

SMALL = 2_000
LARGE = 20_000


async def _peak_while_exporting(session_factory: Any, name: str) -> tuple[int, int]:
    """The export's peak of traced Python memory, and the bytes it wrote (then dropped)."""
    gc.collect()
    tracemalloc.start()
    try:
        written = 0
        async with session_factory() as session:
            connection = await session.connection()
            wanted = filters.Filters(coalition="bulk")
            scope, selection = await prepare(connection, SYSTEM, wanted)
            async for chunk in csv_exports.EXPORTS[name](connection, scope, selection):
                written += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, written


@pytest.mark.parametrize("name", ["commitments", "deliveries"])
async def test_the_peak_memory_of_an_export_does_not_grow_with_its_rows(
    session, session_factory, name
):
    coalition = await make_coalition(session, slug="bulk")
    organisation = await make_organisation(session)
    assert coalition.id is not None and organisation.id is not None
    await bulk.insert(
        session, coalition_id=coalition.id, organisation_id=organisation.id, count=SMALL
    )
    # Statements compiled, pools and caches filled: the first export pays for those alone.
    await _peak_while_exporting(session_factory, name)

    small_peak, small_size = await _peak_while_exporting(session_factory, name)
    await bulk.insert(
        session,
        coalition_id=coalition.id,
        organisation_id=organisation.id,
        count=LARGE - SMALL,
        start=SMALL,
    )
    large_peak, large_size = await _peak_while_exporting(session_factory, name)

    print(
        f"\n{name}.csv: {SMALL} rows {small_size} B peak {small_peak / 2**20:.2f} MiB; "
        f"{LARGE} rows {large_size} B peak {large_peak / 2**20:.2f} MiB"
    )
    # Ten times the rows written, and about the same peak: held all at once, the rows
    # alone would take ten times the memory.
    assert large_size > 9 * small_size
    assert large_peak < 1.5 * small_peak
