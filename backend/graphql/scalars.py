"""Scalars the hub reads more strictly than Strawberry's defaults."""

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal

import strawberry
from graphql import DocumentNode, GraphQLError, StringValueNode, Visitor, visit
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import SchemaExtension
from strawberry.schema.types.base_scalars import DateDefinition, DecimalDefinition
from strawberry.types.scalar import ScalarDefinition

from backend.errors import BAD_USER_INPUT


def refused(message: str) -> StrawberryInputCoercionError:
    """A value that cannot be read as its type; GraphQL reports it before any resolver."""
    return StrawberryInputCoercionError(message, extensions={"code": BAD_USER_INPUT})


def _instant(value: object) -> dt.datetime:
    # A time without a UTC offset names no instant; guessing the zone would move embargoes
    # and expiries by hours, so it is refused as input, like any malformed value.
    try:
        if not isinstance(value, str):
            raise ValueError("expected a string")
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise refused(f'Value cannot represent a DateTime: "{value}".') from None
    if parsed.tzinfo is None:
        raise refused(f'DateTime "{value}" needs a UTC offset, e.g. 2026-03-01T09:00:00Z.')
    # Stored and answered in UTC, so a write's result reads the same as a later query.
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:
        # 0001-01-01T00:00:00+01:00 is in year 0 in UTC.
        raise refused(f'DateTime "{value}" is out of range in UTC.') from None


def _coded(parse: Callable[[object], object] | None) -> Callable[[object], object]:
    """Strawberry's own parser, its refusals carrying BAD_USER_INPUT."""
    assert parse is not None

    def parse_coded(value: object) -> object:
        try:
            return parse(value)
        except StrawberryInputCoercionError as error:
            raise refused(error.message) from None

    return parse_coded


Date = strawberry.scalar(
    name="Date",
    description=DateDefinition.description,
    serialize=dt.date.isoformat,
    parse_value=_coded(DateDefinition.parse_value),
)


DateTime = strawberry.scalar(
    name="DateTime",
    description="An instant: ISO 8601 date and time with a UTC offset, "
    "e.g. 2026-03-01T09:00:00Z or 2026-03-01T10:00:00+01:00.",
    serialize=dt.datetime.isoformat,
    parse_value=_instant,
)


def plain_decimal(value: Decimal) -> str:
    """Positional notation, never exponents: 0.000000039, not 3.9E-8 (str() would)."""
    return format(value, "f")


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description="An exact decimal number, as a string in positional notation: amounts "
    "with two places unless they need more (1250000.00), quantities and rates without "
    "trailing zeros (5000, 0.000039).",
    serialize=plain_decimal,
    parse_value=_coded(DecimalDefinition.parse_value),
)
SCALARS: Mapping[object, ScalarDefinition] = {
    dt.date: Date,
    dt.datetime: DateTime,
    Decimal: DecimalScalar,
}


NUL = "\x00"


def holds_nul(value: object) -> bool:
    """Whether a JSON value holds a NUL character in any text, keys included."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False


def _nul_literals(document: DocumentNode) -> list[StringValueNode]:
    found: list[StringValueNode] = []

    class Finder(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: object) -> None:
            if NUL in node.value:
                found.append(node)

    visit(document, Finder())
    return found


class RefuseNulInText(SchemaExtension):
    """Text holding a NUL character (U+0000) is refused as malformed, before any resolver.

    PostgreSQL text cannot hold one (the statement fails), and no name, code or search
    needs one. String and ID are graphql-core's own scalars, which cannot be replaced, so
    this runs once the document is validated: over its string literals and the variables.
    """

    def on_validate(self):  # type: ignore[no-untyped-def]
        execution = self.execution_context
        if not execution.pre_execution_errors:
            error = self._refusal()
            if error is not None:
                # A new list: the one there may be the validation cache's.
                execution.pre_execution_errors = [error]
        yield

    def _refusal(self) -> GraphQLError | None:
        execution = self.execution_context
        message = "Text must not contain the NUL character (U+0000)."
        extensions = {"code": BAD_USER_INPUT}
        # A NUL reaches a literal only through an escape (the lexer refuses a raw one).
        text = execution.query or ""
        document = execution.graphql_document
        if "\\u" in text and document is not None and (literals := _nul_literals(document)):
            return GraphQLError(message, literals, extensions=extensions)
        for name, value in (execution.variables or {}).items():
            if holds_nul(value):
                return GraphQLError(f"Variable '${name}': {message}", extensions=extensions)
        return None
