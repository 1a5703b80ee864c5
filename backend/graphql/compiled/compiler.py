"""One query operation -> one SQL statement that returns the whole `data` object as JSON.

The selection set is walked once (fragments spread, fields merged by response key, as
graphql-core's collect_fields does); each field becomes the SQL of its `shapes` entry, a
to-one relation a LEFT JOIN, a list a correlated subquery (PostgreSQL) or a WITH query
(SQLite), and the access rules of services.access the predicates of the statement.
Whatever this module does not know raises `Unsupported`, and the operation goes through
the resolvers instead.
"""

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    get_argument_values,
)
from graphql.execution.values import VariableValues

from backend import codes
from backend.errors import DomainError
from backend.graphql import relay
from backend.graphql.compiled import shapes
from backend.graphql.compiled.json_sql import Expression, JsonSql
from backend.services import access

Variables = VariableValues
Fields = dict[str, list[FieldNode]]


def arguments_of(
    schema: GraphQLSchema, type_name: str, node: FieldNode
) -> Callable[[Variables], dict[str, Any]]:
    """The field's coerced arguments (defaults filled in) for an execution's variables."""
    parent = schema.get_type(type_name)
    definition = parent.fields[node.name.value]  # type: ignore[union-attr]

    def values_of(variables: Variables) -> dict[str, Any]:
        return get_argument_values(definition, node, variables)

    return values_of


class Unsupported(Exception):
    """The compiler does not handle this selection: the resolvers answer it."""


class Fallback(Exception):
    """These argument values need the resolvers (they answer with the reference error)."""


@dataclass
class Parameter:
    """A value bound at each execution, from the operation's variables."""

    bind: sa.BindParameter[Any]
    value_of: Callable[[Variables], Any]


@dataclass
class Build:
    """What compiling one operation for one kind of reader collects on the way."""

    schema: GraphQLSchema
    json: JsonSql
    reader: access.Reader
    fragments: Mapping[str, FragmentDefinitionNode]
    parameters: list[Parameter] = field(default_factory=list)
    # Each connection's arguments in the request the statement is built for, by key.
    pages: Mapping[str, Any] = field(default_factory=dict)
    names: Iterator[int] = field(default_factory=itertools.count)

    def alias(self, table: sa.Table) -> Any:
        return table.alias(f"t{next(self.names)}")

    def name(self, prefix: str) -> str:
        return f"{prefix}{next(self.names)}"

    def parameter(self, type_: Any, value_of: Callable[[Variables], Any]) -> Any:
        bind = sa.bindparam(f"p{len(self.parameters)}", type_=type_)
        self.parameters.append(Parameter(bind, value_of))
        return bind

    def arguments(self, type_name: str, node: FieldNode) -> Callable[[Variables], dict[str, Any]]:
        return arguments_of(self.schema, type_name, node)

    # -- selections --------------------------------------------------------------------

    def collect(self, type_name: str, selections: Iterable[SelectionNode]) -> Fields:
        fields: Fields = {}
        self._collect(type_name, selections, fields)
        return fields

    def _collect(self, type_name: str, selections: Iterable[SelectionNode], into: Fields) -> None:
        for selection in selections:
            if selection.directives:
                raise Unsupported("directives")
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                into.setdefault(key, []).append(selection)
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                condition = fragment.type_condition.name.value
                selection_set = fragment.selection_set
            else:
                assert isinstance(selection, InlineFragmentNode)
                condition = (
                    selection.type_condition.name.value if selection.type_condition else type_name
                )
                selection_set = selection.selection_set
            if condition == type_name or condition in self._interfaces(type_name):
                self._collect(type_name, selection_set.selections, into)
            elif not isinstance(self.schema.get_type(condition), GraphQLObjectType):
                raise Unsupported(f"fragment on {condition} inside {type_name}")
            # else: a fragment on another object type, which this object is not

    def _interfaces(self, type_name: str) -> set[str]:
        found = self.schema.get_type(type_name)
        if not isinstance(found, GraphQLObjectType):
            return set()
        return {interface.name for interface in found.interfaces}

    @staticmethod
    def children(nodes: list[FieldNode]) -> list[SelectionNode]:
        return [
            selection
            for node in nodes
            if node.selection_set is not None
            for selection in node.selection_set.selections
        ]

    # -- objects -----------------------------------------------------------------------

    def object(
        self,
        type_name: str,
        row: sa.Alias | sa.Table,
        selections: list[SelectionNode],
        figures: Expression | None,
        joins: list["Join"],
    ) -> Expression:
        """The JSON object of `type_name` for the current row of `row`; the rows it needs
        of to-one relations are added to `joins` (see `rows_of`)."""
        shape = shapes.SHAPES.get(type_name)
        if shape is None:
            raise Unsupported(type_name)
        if shape.owns_figures:
            figures = access.amounts_shown(self.reader, row)
        pairs: list[tuple[str, Expression]] = []
        for key, nodes in self.collect(type_name, selections).items():
            name = nodes[0].name.value
            if name == "__typename":
                pairs.append((key, sa.literal_column(f"'{type_name}'", sa.Text)))
                continue
            spec = shape.fields.get(name)
            if spec is None:
                raise Unsupported(f"{type_name}.{name}")
            if nodes[0].arguments and not isinstance(spec, shapes.Many):
                raise Unsupported(f"arguments of {type_name}.{name}")
            pairs.append((key, self.field(spec, row, nodes, figures, joins)))
        if len(pairs) > 50:
            raise Unsupported("more than 50 fields in one object")  # json_build_object: 100
        return self.json.object(pairs)

    def field(
        self,
        spec: shapes.Field,
        row: sa.Alias | sa.Table,
        nodes: list[FieldNode],
        figures: Expression | None,
        joins: list["Join"],
    ) -> Expression:
        json = self.json
        if isinstance(spec, shapes.GlobalId):
            return json.global_id(spec.type_name, row.c.id)
        if isinstance(spec, shapes.Column):
            value = self.scalar(spec, row.c[spec.name])
            if not spec.masked:
                return value
            if figures is None:
                raise Unsupported("figures without their commitment")
            return sa.case((figures, value), else_=sa.null())
        if isinstance(spec, shapes.CodeName):
            return _code_names(row.c[spec.column], spec.code_list)
        children = self.children(nodes)
        if isinstance(spec, shapes.One):
            # A join rather than a subquery: SQLite's parser has a fixed depth, and a join
            # on a primary key costs PostgreSQL less than a subplan per row.
            target = shapes.SHAPES[spec.target]
            other = self.alias(target.table)
            joins.append(Join(other, other.c.id == row.c[spec.column]))
            element = self.object(spec.target, other, children, figures, joins)
            return json.embed(sa.case((other.c.id.is_(None), sa.null()), else_=element))
        if isinstance(spec, shapes.Many):
            return self.many(spec, row, nodes[0], children, figures, joins)
        if isinstance(spec, shapes.ByIds):
            target = shapes.SHAPES[spec.target]
            other = self.alias(target.table)
            parent = row if self.json.nests_lists else self.alias(_table_of(row))
            elements, value, position = json.elements(
                parent.c[spec.column], integers=True, name=self.name("e")
            )
            inner: list[Join] = []
            element = self.object(spec.target, other, children, None, inner)
            source = elements if self.json.nests_lists else parent.join(elements, sa.true())
            source = source.join(other, other.c.id == value)
            return self.listing(
                element, rows_of(source, inner), [], [position], row, parent.c.id, joins
            )
        assert isinstance(spec, shapes.Codes)
        parent = row if self.json.nests_lists else self.alias(_table_of(row))
        elements, value, position = json.elements(
            parent.c[spec.column], integers=False, name=self.name("e")
        )
        pairs: list[tuple[str, Expression]] = []
        for key, code_nodes in self.collect("SdgGoal", children).items():
            name = code_nodes[0].name.value
            if name == "code":
                pairs.append((key, value))
            elif name == "name":
                pairs.append((key, _code_names(value, spec.code_list)))
            elif name == "__typename":
                pairs.append((key, sa.literal_column("'SdgGoal'", sa.Text)))
            else:
                raise Unsupported(f"SdgGoal.{name}")
        source = elements if self.json.nests_lists else parent.join(elements, sa.true())
        return self.listing(json.object(pairs), source, [], [position], row, parent.c.id, joins)

    def many(
        self,
        spec: shapes.Many,
        row: sa.Alias | sa.Table,
        node: FieldNode,
        children: list[SelectionNode],
        figures: Expression | None,
        joins: list["Join"],
    ) -> Expression:
        target = shapes.SHAPES[spec.target]
        other = self.alias(target.table)
        conditions = []
        if spec.rule == "listed":
            conditions.append(access.listed(self.reader, other))
        elif spec.rule == "memberships":
            conditions.append(access.memberships_listed(self.reader, other))
        values_of = self.arguments(spec.parent, node)
        for argument in node.arguments or ():
            declared = spec.arguments.get(argument.name.value)
            if declared is None:
                raise Unsupported(f"argument {argument.name.value}")
            column, id_type = declared

            def database_id(
                variables: Variables, name: str = argument.name.value, id_type: str = id_type
            ) -> int | None:
                global_id = values_of(variables).get(name)
                try:
                    return relay.decode_optional_id(global_id, id_type, field=name)
                except DomainError as error:
                    raise Fallback(str(error)) from error

            bind = self.parameter(sa.Integer, database_id)
            conditions.append(sa.or_(bind.is_(None), other.c[column] == bind))
        source: Any = other
        if figures is not None and not self.json.nests_lists:
            # The list is built apart from its parent's row: the parent's figures rule
            # reads the parent's row again.
            if not shapes.SHAPES[spec.parent].owns_figures:
                raise Unsupported(f"figures of {spec.parent}.{node.name.value}")
            parent = self.alias(_table_of(row))
            source = other.join(parent, parent.c.id == other.c[spec.foreign_key])
            figures = access.amounts_shown(self.reader, parent)
        inner: list[Join] = []
        element = self.object(spec.target, other, children, figures, inner)
        order = [other.c[name].desc() if desc else other.c[name] for name, desc in spec.order]
        key = other.c[spec.foreign_key]
        return self.listing(element, rows_of(source, inner), conditions, order, row, key, joins)

    def listing(
        self,
        element: Expression,
        rows: Any,
        conditions: list[Any],
        order: list[Any],
        parent: Any,
        parent_key: Any,
        joins: list["Join"],
    ) -> Expression:
        """The JSON list of `element` over `rows` that belong to the parent row, in order.

        PostgreSQL: a subquery correlated with the parent row. SQLite: the lists of every
        parent at once in a WITH query, joined to the parent by its id — nesting subqueries
        would overflow its parser's fixed stack."""
        json = self.json
        if json.nests_lists:
            where = sa.select(parent_key).select_from(rows)
            where = where.where(parent_key == parent.c.id, *conditions).correlate_except(rows)
            return json.array(element, where, order)
        window = {"partition_by": parent_key, "order_by": order}
        lists = (
            sa.select(
                parent_key.label("parent_key"),
                json.window_array(element, window).label("elements"),
                sa.func.row_number().over(**window).label("n"),
            )
            .select_from(rows)
            .where(*conditions)
            .subquery()
        )
        cte = (
            sa.select(lists.c.parent_key, lists.c.elements)
            .where(lists.c.n == 1)
            .cte(self.name("list"))
        )
        joins.append(Join(cte, cte.c.parent_key == parent.c.id))
        return json.list_of(cte.c.elements)

    def scalar(self, spec: shapes.Column, value: Any) -> Expression:
        json = self.json
        match spec.format:
            case shapes.Format.AMOUNT:
                return json.amount(value)
            case shapes.Format.QUANTITY:
                return json.quantity(value, 4)
            case shapes.Format.RATE:
                return json.quantity(value, 12)
            case shapes.Format.INSTANT:
                return json.instant(value)
            case shapes.Format.DATE:
                return json.date(value)
            case shapes.Format.BOOLEAN:
                return json.boolean(value)
            case shapes.Format.JSON:
                return json.json(value)
        return value  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Join:
    """A to-one relation's table, joined to the rows it hangs off."""

    table: Any  # an alias of a table, or a WITH query
    on: Expression


def _table_of(row: Any) -> sa.Table:
    table: sa.Table = getattr(row, "element", row)  # an alias's table, or the table
    return table


def rows_of(rows: Any, joins: list[Join]) -> Any:
    """`rows` with the to-one relations its objects read (LEFT JOIN: a missing one is null)."""
    for join in joins:
        rows = rows.outerjoin(join.table, join.on)
    return rows


def _code_names(code: Any, code_list: str) -> Expression:
    names = codes.names(code_list)
    if not names:
        return sa.literal_column("''", sa.Text)
    return sa.case(
        {key: sa.literal_column(_sql_text(name), sa.Text) for key, name in names.items()},
        value=code,
        else_=sa.literal_column("''", sa.Text),
    )


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def root_fields(build: Build, operation: OperationDefinitionNode) -> Fields:
    return build.collect("Query", operation.selection_set.selections)
