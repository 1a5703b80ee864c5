"""An export read back as the secretariat would open it: the header and rows as text."""

import csv
import io
from typing import Any

from backend import db
from backend.actors import SYSTEM, Actor
from backend.reports import csv_exports, filters
from backend.web import exports


async def export_bytes(
    session_factory: db.SessionFactory, name: str, *, actor: Actor = SYSTEM, **wanted: Any
) -> bytes:
    async with session_factory() as session:
        connection = await session.connection()
        scope, selection = await exports.prepare(connection, actor, filters.Filters(**wanted))
        chunks = [chunk async for chunk in csv_exports.EXPORTS[name](connection, scope, selection)]
    return b"".join(chunks)


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


async def exported(session_factory: db.SessionFactory, name: str, **wanted: Any) -> list[list[str]]:
    """The export's rows, its header first."""
    return rows_of(await export_bytes(session_factory, name, **wanted))
