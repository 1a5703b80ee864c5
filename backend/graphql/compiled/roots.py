"""The Query fields a compiled operation may start from, and the connections they return."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from graphql import FieldNode, GraphQLList, GraphQLNonNull, GraphQLSchema, SelectionNode

from backend import models
from backend.actors import Actor
from backend.errors import DomainError
from backend.graphql import activities as activity_types
from backend.graphql import commitments as commitment_types
from backend.graphql import relay
from backend.graphql.compiled import shapes
from backend.graphql.compiled.compiler import (
    Build,
    Fallback,
    Join,
    Unsupported,
    arguments_of,
    rows_of,
)
from backend.graphql.compiled.json_sql import Expression
from backend.services import access, activities, commitments, pages

CONNECTIONS = ("commitments", "activities")
# Query fields whose statement depends on the values of their arguments, not only on
# their selection: built once per shape of those values (see `request_arguments`).
PER_SHAPE = (*CONNECTIONS, "node")
# `node(id:)` of these types is compiled: who may see one is a rule on its own row.
# Any other type (memberships, in-kind lines, deliveries, tokens) goes to the resolvers.
NODE_RULES = {
    "Coalition": None,
    "Workstream": None,
    "Organisation": None,
    "Commitment": "listed",
    "Activity": "listed",
}


def root(build: Build, key: str, nodes: list[FieldNode]) -> Expression:
    """The JSON of one Query field (`key`: its response key)."""
    node = nodes[0]
    name = node.name.value
    children = build.children(nodes)
    if name == "__typename":
        return sa.literal_column("'Query'", sa.Text)
    if name == "coalition":
        return _coalition(build, node, children)
    if name == "organisation":
        return _organisation(build, node, children)
    if name in CONNECTIONS:
        page = build.pages[key]
        return Connection(build, node, page).json(children)
    if name == "node":
        return _node(build, build.pages[key], children)
    if name == "viewer":
        return _viewer(build, children)
    raise Unsupported(f"Query.{name}")


def _viewer(build: Build, children: list[SelectionNode]) -> Expression:
    """Who is asking, from the token (bound: see `viewer_values`), and its organisation."""
    json = build.json
    pairs: list[tuple[str, Expression]] = []
    for key, nodes in build.collect("Viewer", children).items():
        name = nodes[0].name.value
        if name == "__typename":
            pairs.append((key, sa.literal_column("'Viewer'", sa.Text)))
        elif name == "name":
            pairs.append((key, sa.bindparam("viewer_name", type_=sa.String())))
        elif name == "role":
            pairs.append((key, sa.bindparam("viewer_role", type_=sa.String())))
        elif name == "memberCoalitionIds":
            pairs.append((key, json.parse(sa.bindparam("viewer_coalitions", type_=sa.String()))))
        elif name == "organisation":
            found = _one(build, "Organisation", build.children(nodes), _viewer_organisation)
            pairs.append((key, found))
        else:
            raise Unsupported(f"Viewer.{name}")
    return json.object(pairs)


def _viewer_organisation(table: Any) -> list[Any]:
    return [table.c.id == sa.bindparam("viewer_organisation", type_=sa.Integer())]


def viewer_values(actor: Actor) -> dict[str, Any]:
    coalitions = [relay.to_global_id("Coalition", id) for id in sorted(actor.member_coalition_ids)]
    return {
        "viewer_name": actor.name,
        "viewer_role": actor.role.value if actor.role is not None else None,
        "viewer_coalitions": orjson.dumps(coalitions).decode(),
        "viewer_organisation": actor.organisation_id,
    }


@dataclass(frozen=True)
class NodeArguments:
    """`node(id:)` in one request: the type its id names shapes the statement."""

    key: str
    type_name: str
    values: dict[str, Any]

    @property
    def shape(self) -> tuple[Any, ...]:
        return (self.key, "node", self.type_name)


def _node(build: Build, arguments: NodeArguments, children: list[SelectionNode]) -> Expression:
    id = sa.bindparam(f"{arguments.key}_id", type_=sa.Integer())

    def conditions(table: Any) -> list[Any]:
        if NODE_RULES[arguments.type_name] == "listed":
            return [table.c.id == id, access.listed(build.reader, table)]
        return [table.c.id == id]

    return _one(build, arguments.type_name, children, conditions)


def request_arguments(
    schema: GraphQLSchema, key: str, node: FieldNode, variables: Any, max_page_size: int
) -> "PageArguments | NodeArguments":
    if node.name.value != "node":
        return page_arguments(schema, key, node, variables, max_page_size)
    decoded = relay.from_global_id(arguments_of(schema, "Query", node)(variables)["id"])
    if decoded is None or decoded[0] not in NODE_RULES:
        raise Fallback("node of a type the compiler does not take")
    return NodeArguments(key, decoded[0], {f"{key}_id": decoded[1]})


def _coalition(build: Build, node: FieldNode, children: list[SelectionNode]) -> Expression:
    values_of = build.arguments("Query", node)
    slug = build.parameter(sa.String, lambda variables: values_of(variables)["slug"])
    return _one(build, "Coalition", children, lambda table: [table.c.slug == slug])


def _organisation(build: Build, node: FieldNode, children: list[SelectionNode]) -> Expression:
    values_of = build.arguments("Query", node)

    def database_id(variables: Any) -> int | None:
        # As the resolver: an id of another type, or no id at all, finds nothing.
        decoded = relay.from_global_id(values_of(variables)["id"])
        return decoded[1] if decoded is not None and decoded[0] == "Organisation" else None

    id = build.parameter(sa.Integer, database_id)
    return _one(build, "Organisation", children, lambda table: [table.c.id == id])


def _one(
    build: Build,
    type_name: str,
    children: list[SelectionNode],
    conditions: Callable[[Any], list[Any]],
) -> Expression:
    """The object of the one row of `type_name` that meets `conditions` (of its table),
    or null."""
    table = build.alias(shapes.SHAPES[type_name].table)
    joins: list[Join] = []
    element = build.object(type_name, table, children, None, joins)
    rows = rows_of(table, joins)
    select = sa.select(element).select_from(rows).where(*conditions(table))
    return build.json.embed(select.correlate_except(rows).scalar_subquery())


@dataclass(frozen=True)
class PageArguments:
    """A connection's arguments in one request: what its statement depends on (which
    filters are given, whether it continues after a cursor, the order), and the values
    the statement binds — so one statement serves every request of the same shape."""

    key: str
    field: str
    filters: tuple[str, ...]
    after: bool
    ordering: relay.Ordering
    values: dict[str, Any]

    @property
    def shape(self) -> tuple[Any, ...]:
        return (self.key, self.field, self.filters, self.after, self.ordering.name)

    def bind(self, name: str, type_: Any = None, *, expanding: bool = False) -> Any:
        return sa.bindparam(f"{self.key}_{name}", type_=type_, expanding=expanding)


def page_arguments(
    schema: GraphQLSchema, key: str, node: FieldNode, variables: Any, max_page_size: int
) -> PageArguments:
    """Checked as the resolver checks them; Fallback when it would refuse them (it answers
    with the reference error)."""
    arguments = arguments_of(schema, "Query", node)(variables)
    field = node.name.value
    try:
        pages.check_first(arguments["first"], limit=max_page_size)
        if field == "commitments":
            filter = _input(commitment_types.CommitmentFilter, arguments["filter"])
            criteria: Any = commitment_types.criteria_of(filter)
            ordering = commitment_types.ORDERINGS[arguments["orderBy"]]
        else:
            filter = _input(activity_types.ActivityFilter, arguments["filter"])
            criteria = activity_types.criteria_of(filter)
            ordering = activity_types.LATEST_FIRST
        after = relay.decode_cursor(ordering, arguments["after"]) if arguments["after"] else None
    except DomainError as error:
        raise Fallback(str(error)) from error
    given = {name: value for name, value in vars(criteria).items() if value not in (None, [])}
    values = {f"{key}_filter_{name}": value for name, value in given.items()}
    values[f"{key}_first"] = arguments["first"]
    values[f"{key}_limit"] = arguments["first"] + 1
    if after is not None:
        values[f"{key}_after_key"], values[f"{key}_after_id"] = after
    return PageArguments(key, field, tuple(given), after is not None, ordering, values)


def _listing(build: Build, page: PageArguments) -> tuple[sa.Select[Any], sa.Table, str]:
    """The connection's rows, filtered with bound values (services' own listing)."""
    lists = ("stages", "kinds")
    bound = {name: page.bind(f"filter_{name}", expanding=name in lists) for name in page.filters}
    for name in ("country", "sdg_target"):  # compared inside JSON lists: typed parameters
        if name in bound:
            bound[name] = page.bind(f"filter_{name}", sa.String())
    if page.field == "commitments":
        if "organisation_id" in bound:
            bound["organisation_id"] = page.bind("filter_organisation_id", sa.Integer())
        criteria = commitments.CommitmentFilter(**bound)
        table = models.table_of(models.Commitment)
        return commitments.listing_by(build.reader, criteria), table, "Commitment"
    if "organisation_id" in bound:
        bound["organisation_id"] = page.bind("filter_organisation_id", sa.Integer())
    table = models.table_of(models.Activity)
    statement = activities.listing_by(build.reader, activities.ActivityFilter(**bound))
    return statement, table, "Activity"


def _input(input_type: Any, values: dict[str, Any] | None) -> Any:
    """A coerced input object (GraphQL names) as the Strawberry input the resolver gets."""
    if values is None:
        return input_type()
    return input_type(**{_snake(name): value for name, value in values.items()})


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


class Connection:
    """A keyset page as JSON: totalCount, pageInfo and edges with their cursors."""

    def __init__(self, build: Build, node: FieldNode, page: PageArguments) -> None:
        self.build = build
        self.page = page
        self.ordering = page.ordering
        field_type = build.schema.query_type.fields[node.name.value].type  # type: ignore[union-attr]
        self.type_name = _named(field_type)
        edges_type = build.schema.get_type(self.type_name).fields["edges"].type  # type: ignore[union-attr]
        self.edge_type_name = _named(edges_type)

    def json(self, children: list[SelectionNode]) -> Expression:
        build, json, page = self.build, self.build.json, self.page
        base, table, node_type = _listing(build, page)
        key, id = table.c[self.ordering.column.key], table.c.id
        descending = self.ordering.descending
        order = (key.desc(), id.desc()) if descending else (key, id)
        filtered = base.order_by(None)
        paged = filtered
        if page.after:
            bound = sa.tuple_(page.bind("after_key", key.type), page.bind("after_id", sa.Integer()))
            paged = paged.where(
                sa.tuple_(key, id) < bound if descending else sa.tuple_(key, id) > bound
            )
        fields = build.collect(self.type_name, children)
        edge_fields = build.collect(
            self.edge_type_name, [s for n in fields.get("edges", []) for s in build.children([n])]
        )
        node_children = build.children(
            [n for nodes in edge_fields.values() for n in nodes if n.name.value == "node"]
        )
        key_text = json.instant(key) if self.ordering.is_datetime else key
        limit = page.bind("limit", sa.Integer())
        first_bind = page.bind("first", sa.Integer())
        joins: list[Join] = []
        node = build.object(node_type, table, node_children, None, joins)
        row = sa.func.row_number().over(order_by=order)
        # The row after the page only says there is a next page: nothing is built for it.
        shown = row <= first_bind
        page_rows = (
            paged.with_only_columns(
                row.label("n"),
                sa.case((shown, json.cursor(self.ordering.name, key_text, id))).label("cursor"),
                sa.case((shown, node)).label("node"),
            )
            .select_from(rows_of(table, joins))
            .order_by(*order)
            .limit(limit)
            .cte(build.name("page"))
        )
        pairs: list[tuple[str, Expression]] = []
        for response_key, nodes in fields.items():
            name = nodes[0].name.value
            if name == "__typename":
                pairs.append((response_key, sa.literal_column(f"'{self.type_name}'", sa.Text)))
            elif name == "totalCount":
                total = sa.select(sa.func.count()).select_from(filtered.subquery())
                pairs.append((response_key, total.scalar_subquery()))
            elif name == "pageInfo":
                pairs.append((response_key, self._page_info(page_rows, first_bind, nodes)))
            elif name == "edges":
                pairs.append((response_key, self._edges(page_rows, first_bind, edge_fields)))
            else:
                raise Unsupported(f"{self.type_name}.{name}")
        return json.object(pairs)

    def _page_info(self, page: Any, first: Any, nodes: list[FieldNode]) -> Expression:
        build, json = self.build, self.build.json
        pairs: list[tuple[str, Expression]] = []
        for key, info_nodes in build.collect("PageInfo", build.children(nodes)).items():
            name = info_nodes[0].name.value
            if name == "hasNextPage":
                rows = sa.select(sa.func.count()).select_from(page).scalar_subquery()
                pairs.append((key, json.boolean(rows > first)))
            elif name == "endCursor":
                last = (
                    sa.select(page.c.cursor)
                    .where(page.c.n <= first)
                    .order_by(page.c.n.desc())
                    .limit(1)
                )
                pairs.append((key, last.scalar_subquery()))
            elif name == "__typename":
                pairs.append((key, sa.literal_column("'PageInfo'", sa.Text)))
            else:
                raise Unsupported(f"PageInfo.{name}")
        return json.object(pairs)

    def _edges(self, page: Any, first: Any, edge_fields: dict[str, list[FieldNode]]) -> Expression:
        json = self.build.json
        pairs: list[tuple[str, Expression]] = []
        for key, nodes in edge_fields.items():
            name = nodes[0].name.value
            if name == "cursor":
                pairs.append((key, page.c.cursor))
            elif name == "node":
                pairs.append((key, json.embed(page.c.node)))
            elif name == "__typename":
                pairs.append((key, sa.literal_column(f"'{self.edge_type_name}'", sa.Text)))
            else:
                raise Unsupported(f"{self.edge_type_name}.{name}")
        where = sa.select(page.c.n).where(page.c.n <= first)
        return json.array(json.object(pairs), where, [page.c.n])


def _named(graphql_type: Any) -> str:
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        graphql_type = graphql_type.of_type
    return str(graphql_type.name)
