"""Relay conventions: opaque global ids, the Node interface, and cursor connections."""

import base64
import binascii
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
import sqlalchemy as sa
import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from backend.errors import BAD_FORMAT, FieldIssue, InvalidInput
from backend.services import pages

T = TypeVar("T")
BAD_ID = "BAD_ID"


def to_global_id(type_name: str, id: int | None) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{id}".encode()).decode())


# Rows are numbered by INTEGER columns, 32-bit on PostgreSQL: a larger number names no row,
# and sent as a query parameter it fails the statement instead of finding nothing.
LARGEST_ID = 2**31 - 1


def from_global_id(global_id: str) -> tuple[str, int] | None:
    try:
        decoded = base64.urlsafe_b64decode(global_id.encode()).decode()
        type_name, _, raw_id = decoded.partition(":")
        id = int(raw_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return (type_name, id) if 0 < id <= LARGEST_ID else None


def decode_id(global_id: str, type_name: str, *, field: str) -> int:
    """The database id inside a global id of `type_name`; InvalidInput naming `field` if not."""
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] != type_name:
        message = f"Not the id of a {type_name}."
        raise InvalidInput([FieldIssue(field=field, code=BAD_ID, message=message)])
    return decoded[1]


def decode_optional_id(global_id: str | None, type_name: str, *, field: str) -> int | None:
    return None if global_id is None else decode_id(global_id, type_name, field=field)


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(description="The object's opaque global id.")


NodeResolver = Callable[[Info, int], Awaitable[Node | None]]
# Filled by each domain module: type name -> how to fetch one visible object by database id.
NODE_RESOLVERS: dict[str, NodeResolver] = {}


def node_resolver(type_name: str) -> Callable[[NodeResolver], NodeResolver]:
    def register(resolver: NodeResolver) -> NodeResolver:
        NODE_RESOLVERS[type_name] = resolver
        return resolver

    return register


@strawberry.type(description="Where a page of a connection stands.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether `after: endCursor` has more.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last edge on the page.")


@strawberry.type(description="One item of a connection, with the cursor to continue after it.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass as `after` to continue after this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, in keyset order, with its total size.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items on this page.")
    page_info: PageInfo = strawberry.field(description="Whether there are more items.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items match the filter, on every page.")
    async def total_count(self) -> int:
        return await self.count()


@dataclass(frozen=True)
class Ordering:
    """A sort key for keyset pages: its name goes into cursors so they are not mixed up."""

    name: str
    column: Any
    descending: bool
    is_datetime: bool = False


def encode_cursor(ordering: Ordering, key: Any, id: int) -> str:
    value = key.isoformat() if isinstance(key, dt.datetime) else key
    return base64.urlsafe_b64encode(orjson.dumps([ordering.name, value, id])).decode()


def decode_cursor(ordering: Ordering, cursor: str) -> tuple[Any, int]:
    try:
        name, value, id = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        if name != ordering.name or not isinstance(id, int) or not 0 < id <= LARGEST_ID:
            raise ValueError(cursor)
        # Every key is an instant or a text: any other value would fail the statement.
        if ordering.is_datetime:
            value = dt.datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError(cursor)
            value = value.astimezone(dt.UTC)
        elif not isinstance(value, str):
            raise ValueError(cursor)
        return value, id
    except (ValueError, TypeError, OverflowError, binascii.Error, orjson.JSONDecodeError):
        message = "Not a cursor from this list in this order."
        raise InvalidInput([FieldIssue(field="after", code=BAD_FORMAT, message=message)]) from None


async def connection(
    info: Info,
    statement: sa.Select[Any],
    *,
    ordering: Ordering,
    id_column: Any,
    first: int,
    after: str | None,
    build: Callable[[Any], T],
) -> Connection[T]:
    """Run `statement` as one keyset page and wrap it; `totalCount` runs only if asked for."""
    context = info.context
    pages.check_first(first, limit=context.settings.max_page_size)
    request = pages.PageRequest(
        first=first,
        after=decode_cursor(ordering, after) if after else None,
        descending=ordering.descending,
    )
    async with context.reading() as session:
        page = await pages.fetch(
            session, statement, key=ordering.column, id_column=id_column, request=request
        )

    async def count() -> int:
        async with context.reading() as session:
            return await _count(session, page.count_statement)

    edges = [
        Edge(cursor=encode_cursor(ordering, key, id), node=build(row))
        for row, (key, id) in zip(page.rows, page.keys, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
        ),
        count=count,
    )


async def _count(session: AsyncSession, statement: sa.Select[Any]) -> int:
    return int(await session.scalar(statement) or 0)
