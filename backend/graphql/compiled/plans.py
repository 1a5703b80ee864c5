"""Plans for the portal's trusted queries: their statements per kind of reader, and
running one (which documents are trusted: backend/graphql/trusted_documents.py)."""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from graphql import (
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
)
from graphql.execution.values import VariableValues
from sqlalchemy.dialects import postgresql

from backend.actors import Actor
from backend.graphql.bounded import Bounded
from backend.graphql.compiled import json_sql
from backend.graphql.compiled.compiler import Build, Parameter, Unsupported, root_fields
from backend.graphql.compiled.roots import (
    PER_SHAPE,
    NodeArguments,
    PageArguments,
    request_arguments,
    root,
    viewer_values,
)
from backend.models.base import UTCDateTime
from backend.services import access

SECRETARIAT, ORGANISATION, ANONYMOUS = access.SECRETARIAT, access.ORGANISATION, access.ANONYMOUS
reader_kind = access.reader_kind
Fragments = dict[str, FragmentDefinitionNode]


def _reader(kind: str, dialect: str) -> access.Reader:
    """The reader of a compiled statement: its values are bound at each execution."""
    organisation = sa.bindparam("reader_organisation", type_=sa.Integer)
    member_of: Callable[[Any], Any]
    if dialect == "postgresql":
        # One array parameter: the same SQL text whatever the number of memberships.
        coalitions = sa.bindparam("reader_coalitions", type_=postgresql.ARRAY(sa.Integer))
        member_of = lambda coalition_id: coalition_id == sa.any_(coalitions)  # noqa: E731
    else:
        listed = sa.bindparam("reader_coalitions", expanding=True, type_=sa.Integer)
        member_of = lambda coalition_id: coalition_id.in_(listed)  # noqa: E731
    return access.Reader(
        secretariat=kind == SECRETARIAT,
        organisation_id=organisation if kind == ORGANISATION else None,
        member_of=member_of,
        now=sa.bindparam("reader_now", type_=UTCDateTime()),
    )


def reader_values(actor: Actor, now: dt.datetime) -> dict[str, Any]:
    return {
        "reader_organisation": actor.organisation_id,
        "reader_coalitions": sorted(actor.member_coalition_ids),
        "reader_now": now,
    }


@dataclass(frozen=True)
class Statement:
    select: sa.Select[Any]
    parameters: list[Parameter]

    def values(self, variables: VariableValues) -> dict[str, Any]:
        return {p.bind.key: p.value_of(variables) for p in self.parameters}


class Plan:
    """One trusted query operation, compiled on first use for each kind of reader (and,
    for connections, each shape of their arguments)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        json: json_sql.JsonSql,
        operation: OperationDefinitionNode,
        fragments: Fragments,
        max_page_size: int,
    ) -> None:
        self.schema = schema
        self.json = json
        self.operation = operation
        self.name = operation.name.value if operation.name else ""
        self.fragments = fragments
        self.max_page_size = max_page_size
        # By (kind of reader, shapes of the arguments); filters combine, so bounded.
        self._statements: Bounded[tuple[Any, ...], Statement] = Bounded(256)
        build = self._build(ANONYMOUS, {})
        roots = root_fields(build, operation)
        self.per_shape = {
            key: nodes[0] for key, nodes in roots.items() if nodes[0].name.value in PER_SHAPE
        }
        self.reads_viewer = any(nodes[0].name.value == "viewer" for nodes in roots.values())
        if not self.per_shape:
            # Compiled now: a selection the compiler cannot take fails before any request.
            self._statements.put((ANONYMOUS, ()), self._compile(build))

    def prepare(
        self, actor: Actor, variables: VariableValues, now: dt.datetime
    ) -> tuple[sa.Select[Any], dict[str, Any]]:
        """The statement and its values; Fallback when the values need the resolvers."""
        pages = {
            key: request_arguments(self.schema, key, node, variables, self.max_page_size)
            for key, node in self.per_shape.items()
        }
        kind = reader_kind(actor)
        shape = (kind, tuple(page.shape for page in pages.values()))
        statement = self._statements.get(shape)
        if statement is None:
            statement = self._statements.put(shape, self._compile(self._build(kind, pages)))
        values = {**reader_values(actor, now), **statement.values(variables)}
        if self.reads_viewer:
            values.update(viewer_values(actor))
        for page in pages.values():
            values.update(page.values)
        return statement.select, values

    def _build(self, kind: str, pages: Mapping[str, PageArguments | NodeArguments]) -> Build:
        return Build(
            schema=self.schema,
            json=self.json,
            reader=_reader(kind, self.json.name),
            fragments=self.fragments,
            pages=pages,
        )

    def _compile(self, build: Build) -> Statement:
        pairs = [
            (key, root(build, key, nodes))
            for key, nodes in root_fields(build, self.operation).items()
        ]
        document = self.json.text(self.json.object(pairs)).label("data")
        return Statement(sa.select(document), build.parameters)


__all__ = ["Plan", "Unsupported"]
