"""Keyset pagination in SQL: a page is `WHERE (key, id) > (:after) ORDER BY key, id LIMIT n+1`.

Offsets grow slower with every page and skip or repeat rows when others are inserted;
a keyset page costs the same wherever it starts and never repeats a row.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import BAD_RANGE, FieldIssue, InvalidInput

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    first: int
    # The sort key and id of the last row the client saw.
    after: tuple[Any, int] | None = None
    descending: bool = False


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: Sequence[T]
    keys: Sequence[tuple[Any, int]]
    has_next: bool
    count_statement: sa.Select[Any]


def given(values: Any) -> bool:
    """Whether a list filter was given: a non-empty list, or a bound parameter for one."""
    return bool(values) if isinstance(values, list) else values is not None


def check_first(first: int, *, limit: int) -> None:
    if first < 0 or first > limit:
        message = f"`first` must be between 0 and {limit}."
        raise InvalidInput([FieldIssue(field="first", code=BAD_RANGE, message=message)])


async def fetch(
    session: AsyncSession,
    statement: sa.Select[Any],
    *,
    key: Any,
    id_column: Any,
    request: PageRequest,
) -> Page[Any]:
    """Run `statement` (selecting one entity, already filtered) as one keyset page."""
    count_statement = sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
    if request.after is not None:
        after_key, after_id = request.after
        if request.descending:
            statement = statement.where(sa.tuple_(key, id_column) < sa.tuple_(after_key, after_id))
        else:
            statement = statement.where(sa.tuple_(key, id_column) > sa.tuple_(after_key, after_id))
    order = (key.desc(), id_column.desc()) if request.descending else (key, id_column)
    statement = statement.add_columns(key, id_column).order_by(*order).limit(request.first + 1)
    result = (await session.execute(statement)).all()
    has_next = len(result) > request.first
    result = result[: request.first]
    return Page(
        rows=[row[0] for row in result],
        keys=[(row[1], row[2]) for row in result],
        has_next=has_next,
        count_statement=count_statement,
    )
