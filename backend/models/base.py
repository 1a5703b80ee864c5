"""Column types and conventions shared by every table."""

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlmodel import SQLModel

# Stable constraint names, so Alembic migrations name the same thing the same way on
# SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MONEY_SCALE = 4
RATE_SCALE = 12


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class _ScaledDecimal(sa.TypeDecorator[Decimal]):
    """An exact decimal with a fixed number of places.

    PostgreSQL stores NUMERIC; SQLite has no exact decimal, so the value is stored as an
    integer count of 10^-SCALE units — exact, and SUM() over it stays exact too.
    """

    SCALE = MONEY_SCALE
    PRECISION = 20
    impl = sa.Numeric(20, MONEY_SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.Numeric(self.PRECISION, self.SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return int((Decimal(value) * Decimal(10) ** self.SCALE).to_integral_value())
        return Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        unit = Decimal(1).scaleb(-self.SCALE)
        if dialect.name == "sqlite":
            return (Decimal(int(value)) * unit).quantize(unit)
        return Decimal(value).quantize(unit)


class Money(_ScaledDecimal):
    """An amount or quantity with four places."""

    cache_ok = True


class Rate(_ScaledDecimal):
    """An exchange rate: twelve places, enough for a dong or a rial in US dollars."""

    SCALE = RATE_SCALE
    PRECISION = 24
    impl = sa.Numeric(24, RATE_SCALE)
    cache_ok = True


def table_of(model: type[SQLModel]) -> sa.Table:
    """The table a SQLModel class maps (SQLModel's typing does not show `__table__`)."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    return table


def enum_type(enum: type[Enum]) -> sa.Enum:
    """Store an enum as its value in a VARCHAR, so adding a member needs no type migration."""
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


# JSON lists and documents: JSONB on PostgreSQL (indexable, `@>` containment), JSON text on
# SQLite.
JSONDocument = sa.JSON().with_variant(JSONB(), "postgresql")


class JsonListContains(sa.sql.expression.ColumnElement[bool]):
    """`column` (a JSON list of strings or integers) contains `value`, on both databases."""

    inherit_cache = True
    type = sa.Boolean()

    def __init__(self, column: Any, value: str | int | sa.BindParameter[Any]) -> None:
        self.column = column
        if isinstance(value, sa.BindParameter):
            bound, value_type = value, value.type
        else:
            value_type = sa.Integer() if isinstance(value, int) else sa.String()
            bound = sa.bindparam(None, value, type_=value_type)
        # The cast tells PostgreSQL the parameter's type inside jsonb_build_array(VARIADIC "any").
        self.value = sa.cast(bound, value_type)


@compiles(JsonListContains, "postgresql")
def _contains_postgresql(element: JsonListContains, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    value = compiler.process(element.value, **kw)
    return f"({column} @> jsonb_build_array({value}))"


@compiles(JsonListContains)
def _contains_sqlite(element: JsonListContains, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    value = compiler.process(element.value, **kw)
    return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = {value})"
