"""The response JSON in each database's SQL: objects, ordered lists and every scalar
written exactly as the resolvers' serialisers write it.

PostgreSQL builds it with json_build_object/json_agg and formats in SQL; SQLite builds it
with json_object/json_group_array and formats with the hub's own Python functions,
registered on each connection (`register_functions`), so both read the same as the
reference path, character for character.
"""

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BYTEA, aggregate_order_by

from backend.graphql import money, relay
from backend.graphql.scalars import plain_decimal

Expression = sa.ColumnElement[Any]
Pairs = Sequence[tuple[str, Expression]]
Select = sa.Select[Any]


def _key(name: str) -> Expression:
    # Response keys are GraphQL names ([_A-Za-z][_0-9A-Za-z]*): safe as SQL literals.
    return sa.literal_column(f"'{name}'")


class JsonSql(ABC):
    """How one database writes the response; PostgreSQL and SQLite below."""

    name = ""
    # Lists as subqueries correlated with their parent row (PostgreSQL), or built apart
    # in WITH queries (SQLite, whose parser stack is too shallow for the nesting).
    nests_lists = True

    @abstractmethod
    def window_array(self, element: Expression, window: dict[str, Any]) -> Expression:
        """The JSON list of `element` over a whole window partition, in its order."""

    @abstractmethod
    def list_of(self, elements: Any) -> Expression:
        """A WITH query's list as a JSON value, `[]` when the parent has none."""

    def object(self, pairs: Pairs) -> Expression:
        arguments: list[Any] = []
        for name, value in pairs:
            arguments += [_key(name), value]
        return self._object_function(*arguments)

    @abstractmethod
    def _object_function(self, *arguments: Any) -> Expression:
        """json_build_object or json_object."""

    @abstractmethod
    def embed(self, subquery: Expression) -> Expression:
        """A scalar subquery that yields JSON, as a JSON value of an enclosing object."""

    @abstractmethod
    def array(self, element: Expression, where: Select, order_by: Sequence[Any]) -> Expression:
        """`[element for each row of where, in order_by]`, `[]` when there is none."""

    @abstractmethod
    def elements(
        self, column: Any, *, integers: bool, name: str
    ) -> tuple[sa.FromClause, Expression, Expression]:
        """A JSON list column as rows: (from clause, element, position in the list)."""

    @abstractmethod
    def parse(self, text: Any) -> Expression:
        """JSON text (a bound parameter) as a JSON value."""

    def text(self, document: Expression) -> Expression:
        """The whole response as text (not a driver-decoded JSON value)."""
        return sa.cast(document, sa.Text)

    @abstractmethod
    def global_id(self, type_name: str, id: Any) -> Expression:
        """relay.to_global_id(type_name, id)."""

    @abstractmethod
    def amount(self, value: Any) -> Expression:
        """money.amount: two places unless the figure needs more."""

    @abstractmethod
    def quantity(self, value: Any, scale: int) -> Expression:
        """money.quantity of a figure stored with `scale` places: no trailing zeros."""

    @abstractmethod
    def instant(self, value: Any) -> Expression:
        """datetime.isoformat() in UTC."""

    @abstractmethod
    def date(self, value: Any) -> Expression:
        """date.isoformat()."""

    @abstractmethod
    def boolean(self, value: Any) -> Expression:
        """A JSON true or false."""

    @abstractmethod
    def json(self, value: Any) -> Expression:
        """A JSON list column, as the list."""

    @abstractmethod
    def cursor(self, ordering_name: str, key: Expression, id: Any) -> Expression:
        """relay.encode_cursor in SQL; `key` is already text (an instant formatted)."""


class PostgresJson(JsonSql):
    name = "postgresql"

    def window_array(self, element: Expression, window: dict[str, Any]) -> Expression:
        return sa.func.json_agg(element).over(**window, rows=(None, None))

    def list_of(self, elements: Any) -> Expression:
        return sa.func.coalesce(elements, sa.literal_column("'[]'::json"))

    def _object_function(self, *arguments: Any) -> Expression:
        return sa.func.json_build_object(*arguments, type_=sa.JSON)

    def embed(self, subquery: Expression) -> Expression:
        return subquery

    def parse(self, text: Any) -> Expression:
        return sa.cast(text, sa.JSON)

    def array(self, element: Expression, where: Select, order_by: Sequence[Any]) -> Expression:
        aggregated = sa.func.json_agg(aggregate_order_by(element, *order_by))
        empty: Expression = sa.literal_column("'[]'::json")
        return where.with_only_columns(sa.func.coalesce(aggregated, empty)).scalar_subquery()

    def elements(
        self, column: Any, *, integers: bool, name: str
    ) -> tuple[sa.FromClause, Expression, Expression]:
        function = sa.func.jsonb_array_elements_text(column)
        rows = function.table_valued("value", with_ordinality="position").render_derived(name)
        value = sa.cast(rows.c.value, sa.Integer) if integers else rows.c.value
        return rows, value, rows.c.position

    def global_id(self, type_name: str, id: Any) -> Expression:
        # A type name and a number: ASCII without backslashes, so the text is its own
        # bytes, and under 57 of them, so encode() breaks no line. Two replace() calls
        # cost a third of one translate() (measured: formatting the ids was a fifth of
        # the `Commitments` statement's time; the change took 8 % off it).
        raw = sa.cast(sa.literal_column(f"'{type_name}:'") + sa.cast(id, sa.Text), BYTEA)
        encoded = sa.func.encode(raw, sa.literal_column("'base64'"))
        plus_free = sa.func.replace(encoded, sa.literal_column("'+'"), sa.literal_column("'-'"))
        return sa.func.replace(plus_free, sa.literal_column("'/'"), sa.literal_column("'_'"))

    @staticmethod
    def _base64url(raw: Expression) -> Expression:
        # encode() breaks lines every 76 characters: translate drops the newline.
        encoded = sa.func.encode(raw, sa.literal_column("'base64'"))
        return sa.func.translate(encoded, sa.literal_column("E'+/\\n'"), sa.literal_column("'-_'"))

    def amount(self, value: Any) -> Expression:
        cents = sa.func.round(value, sa.literal_column("2"))
        return sa.case(
            (value == cents, sa.cast(cents, sa.Text)),
            else_=sa.cast(sa.func.trim_scale(value), sa.Text),
        )

    def quantity(self, value: Any, scale: int) -> Expression:
        return sa.cast(sa.func.trim_scale(value), sa.Text)

    def instant(self, value: Any) -> Expression:
        # datetime.isoformat(): six digits of microseconds only when there are any.
        utc = sa.func.timezone(sa.literal_column("'UTC'"), value)
        pattern: Expression = sa.literal_column("""'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'""")
        text = sa.func.to_char(utc, pattern, type_=sa.Text)
        return sa.func.replace(text, sa.literal_column("'.000000+'"), sa.literal_column("'+'"))

    def date(self, value: Any) -> Expression:
        # JSON's date is ISO 8601 whatever the DateStyle, and cheaper than to_char.
        return sa.func.to_json(value, type_=sa.JSON)

    def boolean(self, value: Any) -> Expression:
        return value  # type: ignore[no-any-return]

    def json(self, value: Any) -> Expression:
        return value  # type: ignore[no-any-return]

    def cursor(self, ordering_name: str, key: Expression, id: Any) -> Expression:
        document = sa.func.concat(
            sa.literal_column(f"'[\"{ordering_name}\",'"),
            sa.cast(sa.func.to_json(key), sa.Text),
            sa.literal_column("','"),
            sa.cast(id, sa.Text),
            sa.literal_column("']'"),
        )
        return self._base64url(sa.func.convert_to(document, sa.literal_column("'UTF8'")))


class SqliteJson(JsonSql):
    name = "sqlite"
    nests_lists = False

    def window_array(self, element: Expression, window: dict[str, Any]) -> Expression:
        aggregated = sa.func.json_group_array(sa.func.json(element))
        return aggregated.over(**window, rows=(None, None))

    def list_of(self, elements: Any) -> Expression:
        return sa.func.json(sa.func.coalesce(elements, sa.literal_column("'[]'")))

    def _object_function(self, *arguments: Any) -> Expression:
        return sa.func.json_object(*arguments)

    def embed(self, subquery: Expression) -> Expression:
        # A subquery's value loses its JSON subtype: json() gives it back.
        return sa.func.json(subquery)

    def parse(self, text: Any) -> Expression:
        return sa.func.json(text)

    def array(self, element: Expression, where: Select, order_by: Sequence[Any]) -> Expression:
        # A connection's edges (one level, so the parser's depth is no matter). SQLite
        # before 3.44 has no ORDER BY inside aggregates; an ordered subquery feeding an
        # aggregate is kept in order (the flattener leaves it alone).
        rows = where.with_only_columns(element.label("element")).order_by(*order_by).subquery()
        return sa.select(sa.func.json_group_array(sa.func.json(rows.c.element))).scalar_subquery()

    def elements(
        self, column: Any, *, integers: bool, name: str
    ) -> tuple[sa.FromClause, Expression, Expression]:
        rows = sa.func.json_each(column).table_valued("value", "key").alias(name)
        return rows, rows.c.value, rows.c.key

    def global_id(self, type_name: str, id: Any) -> Expression:
        return sa.func.hub_global_id(sa.literal_column(f"'{type_name}'"), id)

    def amount(self, value: Any) -> Expression:
        return sa.func.hub_amount(value)

    def quantity(self, value: Any, scale: int) -> Expression:
        return sa.func.hub_quantity(value, scale)

    def instant(self, value: Any) -> Expression:
        return sa.func.hub_instant(value)

    def date(self, value: Any) -> Expression:
        return value  # type: ignore[no-any-return]  # stored as YYYY-MM-DD

    def boolean(self, value: Any) -> Expression:
        return sa.case(
            (value.is_(None), sa.null()),
            (value != 0, sa.func.json(sa.literal_column("'true'"))),
            else_=sa.func.json(sa.literal_column("'false'")),
        )

    def json(self, value: Any) -> Expression:
        return sa.func.json(value)

    def cursor(self, ordering_name: str, key: Expression, id: Any) -> Expression:
        return sa.func.hub_cursor(sa.literal_column(f"'{ordering_name}'"), key, id)


def for_dialect(name: str) -> JsonSql:
    if name == "postgresql":
        return PostgresJson()
    if name == "sqlite":
        return SqliteJson()
    raise ValueError(f"no compiled reads for {name}")


# SQLite's side: the serialisers of the reference path, over the values as SQLite stores
# them (scaled integers for decimals, naive UTC text for instants).


def _global_id(type_name: str, id: int | None) -> str | None:
    return None if id is None else relay.to_global_id(type_name, id)


def _scaled(value: int, scale: int) -> Decimal:
    return Decimal(int(value)).scaleb(-scale)


def _amount(value: int | None) -> str | None:
    return None if value is None else plain_decimal(money.amount(_scaled(value, 4)))


def _quantity(value: int | None, scale: int) -> str | None:
    return None if value is None else plain_decimal(money.quantity(_scaled(value, scale)))


def _instant(value: str | None) -> str | None:
    if value is None:
        return None
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC).isoformat()


def _cursor(ordering_name: str, key: object, id: int) -> str:
    # `key` arrives as text (an instant already formatted): no ordering column is needed.
    return relay.encode_cursor(relay.Ordering(ordering_name, None, descending=False), key, id)


FUNCTIONS = {
    "hub_global_id": (2, _global_id),
    "hub_amount": (1, _amount),
    "hub_quantity": (2, _quantity),
    "hub_instant": (1, _instant),
    "hub_cursor": (3, _cursor),
}
