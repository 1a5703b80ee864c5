"""One contract, two executors: every trusted query answered from its compiled statement
reads exactly as the resolvers answer it — for every kind of reader and several variable
sets, on the demo coalition (public, members-only, confidential and embargoed items,
in-kind lines, deliveries, activities) — and the page query is one SQL statement."""

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest_asyncio
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from backend import demo, models
from backend.config import Settings
from backend.graphql.compiled import reads as compiled_reads
from backend.graphql.compiled.statements import AsyncpgStatements, for_engine
from backend.main import create_app
from tests.factories import gid, make_token

OPERATIONS = Path(__file__).resolve().parents[2] / "schema" / "operations"
PORTAL = (OPERATIONS / "portal.graphql").read_text("utf-8")
SECRETARIAT = (OPERATIONS / "secretariat.graphql").read_text("utf-8")
FEED = (OPERATIONS / "feed.graphql").read_text("utf-8")
# The trusted queries the compiler does not take (yet): the resolvers answer them.
ANSWERED_BY_RESOLVERS = {
    "AuditTrail",
    "ApiTokens",
    "WallScreenCoalitions",
    # The dashboard's figures and delivery tracking are SQL aggregates already
    # (backend/reports).
    "CoalitionDashboard",
    "CoalitionBreakdowns",
    "PortfolioDashboard",
    "PortfolioBreakdowns",
    "DeliveryTracking",
    # The coordination layer's lists and a need's matching.
    "CoalitionNeeds",
    "NeedMatching",
    "CoalitionOffers",
    # The pipeline is the secretariat's only.
    "Opportunities",
    "VisibilityPlanFollowUp",
    "PortfolioVisibilityPlanFollowUp",
}
COMPILED = {
    "CoalitionPage",
    "Commitments",
    "Organisation",
    "Activities",
    "Node",
    "Viewer",
}


class Hub:
    """One app over the test database, with compiled reads on or off."""

    def __init__(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        self.client = client
        self.app = app

    async def read(
        self, document: str, operation: str, variables: dict[str, Any], token: str | None
    ) -> bytes:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = {"query": document, "operationName": operation, "variables": variables}
        response = await self.client.post("/graphql", json=body, headers=headers)
        assert response.status_code == 200, response.text
        # Same keys in the same order, whitespace aside (PostgreSQL's json has spaces).
        return orjson.dumps(json.loads(response.content))


@pytest_asyncio.fixture(loop_scope="session")
async def hubs(settings: Settings, engine: Any) -> AsyncIterator[tuple[Hub, Hub]]:
    made = []
    for compiled in (False, True):
        app = create_app(
            settings.model_copy(update={"compiled_reads": compiled, "read_cache": False}),
            engine=engine,
        )
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
        )
        made.append(Hub(client, app))
    try:
        yield made[0], made[1]
    finally:
        for hub in made:
            await hub.client.aclose()
            await compiled_reads.close(hub.app.state.compiled_reads)


async def _readers(session: Any) -> dict[str, str | None]:
    """Anonymous, a partner owning confidential commitments, a partner of another member
    organisation, a partner of an organisation in no coalition, and the secretariat."""
    commitment, membership = models.Commitment, models.Membership
    owner = await session.scalar(
        sa.select(models.Organisation)
        .join(commitment, commitment.organisation_id == models.Organisation.id)
        .where(commitment.visibility == models.Visibility.CONFIDENTIAL)
        .limit(1)
    )
    other = await session.scalar(
        sa.select(models.Organisation)
        .join(membership, membership.organisation_id == models.Organisation.id)
        .where(
            membership.status == models.MembershipStatus.ACTIVE,
            models.Organisation.id != owner.id,
        )
        .order_by(models.Organisation.id.desc())
        .limit(1)
    )
    outsider = models.Organisation(name="Outsider", organisation_type="21", country="FR")
    session.add(outsider)
    await session.commit()
    return {
        "anonymous": None,
        "owner": await make_token(session, models.Role.PARTNER_EDITOR, owner),
        "other member": await make_token(session, models.Role.PARTNER_ADMIN, other),
        "outsider": await make_token(session, models.Role.PARTNER_ADMIN, outsider),
        "secretariat": await make_token(session, models.Role.SECRETARIAT_ANALYST),
    }


async def _nodes(session: Any) -> list[Any]:
    """Objects of every node type: confidential, members-only and embargoed commitments
    and activities among them (the compiled types), and the others (the resolvers')."""
    commitment, activity = models.Commitment, models.Activity
    special = sa.or_(
        commitment.visibility != models.Visibility.PUBLIC, commitment.embargo_until.is_not(None)
    )
    found: list[Any] = []
    for statement in (
        sa.select(models.Coalition),
        sa.select(models.Workstream).limit(3),
        sa.select(models.Organisation).limit(5),
        sa.select(commitment).where(special),
        sa.select(commitment).order_by(commitment.id).limit(5),
        sa.select(activity).where(
            sa.or_(
                activity.visibility != models.Visibility.PUBLIC, activity.embargo_until.is_not(None)
            )
        ),
        sa.select(activity).order_by(activity.id).limit(3),
        sa.select(models.Membership).limit(2),
        sa.select(models.InKindLine).limit(2),
        sa.select(models.Delivery).limit(2),
    ):
        found += list(await session.scalars(statement))
    return found


async def _variable_sets(session: Any, hub: Hub) -> dict[str, list[dict[str, Any]]]:
    coalitions = list(await session.scalars(sa.select(models.Coalition).order_by("id")))
    learning = next(c for c in coalitions if c.slug == demo.SLUG)
    organisations = list(await session.scalars(sa.select(models.Organisation).order_by("id")))
    page = json.loads(await hub.read(PORTAL, "Commitments", {"first": 5}, None))
    after = page["data"]["commitments"]["pageInfo"]["endCursor"]
    activities = json.loads(await hub.read(PORTAL, "Activities", {"first": 3}, None))
    activity_after = activities["data"]["activities"]["pageInfo"]["endCursor"]
    sets: dict[str, list[dict[str, Any]]] = {
        "CoalitionPage": [{"slug": c.slug, "coalitionId": gid(c)} for c in coalitions]
        + [
            {"slug": learning.slug, "coalitionId": gid(coalitions[-1])},
            {"slug": "no-such-coalition", "coalitionId": gid(learning)},
        ],
        "Commitments": [
            {},
            {"first": 5},
            {"first": 5, "after": after},
            {"first": 0},
            {"first": 100},
            {"first": 101},
            {"after": "not a cursor"},
            {"first": 7, "orderBy": "TITLE"},
            {"first": 7, "orderBy": "OLDEST_FIRST"},
            {"filter": {"coalitionId": gid(learning)}},
            {"filter": {"stages": ["PLEDGED", "COMMITTED"], "resourceKind": "FINANCIAL"}},
            {"filter": {"country": "KE"}},
            {"filter": {"organisationType": "70", "sdgTarget": "4.1"}},
            {"filter": {"createdFrom": "2020-01-01T00:00:00Z"}},
            {"filter": {"coalitionId": gid(organisations[0])}},
        ],
        "Organisation": [{"id": gid(o)} for o in organisations]
        + [{"id": gid(learning)}, {"id": "not an id"}],
        "Activities": [
            {},
            {"first": 3},
            {"first": 3, "after": activity_after},
            {"filter": {"coalitionId": gid(learning)}},
            {"filter": {"kinds": ["EVENT", "REPORT"]}},
            {"filter": {"organisationId": gid(organisations[0])}},
        ],
        "Viewer": [{}],
        "WallScreenCoalitions": [{}],
        "Node": [{"id": gid(node)} for node in await _nodes(session)] + [{"id": "not an id"}],
        "AuditTrail": [{"entityId": gid(learning)}],
        "ApiTokens": [{}],
    }
    return sets


async def test_every_trusted_query_reads_the_same_through_both_paths(
    hubs, session_factory, session
):
    reference, compiled = hubs
    await demo.seed(session_factory)
    readers = await _readers(session)
    variable_sets = await _variable_sets(session, reference)
    compared = 0
    for operation, sets in variable_sets.items():
        document = (
            SECRETARIAT
            if operation in ("AuditTrail", "ApiTokens")
            else FEED
            if operation == "WallScreenCoalitions"
            else PORTAL
        )
        for variables in sets:
            for reader, token in readers.items():
                expected = await reference.read(document, operation, variables, token)
                answered = await compiled.read(document, operation, variables, token)
                assert answered == expected, (operation, variables, reader)
                compared += 1
    reads = compiled.app.state.compiled_reads
    assert set(reads.answered) == COMPILED
    assert set(reads.trusted) - set(reads.answered) == ANSWERED_BY_RESOLVERS
    assert compared > 300


async def test_the_coalition_page_is_one_statement(
    hubs, engine, session_factory, statement_counter
):
    _, compiled = hubs
    await demo.seed(session_factory)
    async with session_factory() as session:
        learning = await session.scalar(
            sa.select(models.Coalition).where(models.Coalition.slug == demo.SLUG)
        )
    variables = {"slug": demo.SLUG, "coalitionId": gid(learning)}
    # On PostgreSQL compiled reads go to asyncpg on a pool of their own: count there too
    # (every query its connections send, from the first read on).
    statements = compiled.app.state.compiled_reads.statements
    if isinstance(statements, AsyncpgStatements):
        statements.query_loggers.append(
            lambda query: statement_counter.record(None, None, query.query)
        )
    await compiled.read(PORTAL, "CoalitionPage", variables, None)  # the plan is built
    statement_counter.reset()
    body = json.loads(await compiled.read(PORTAL, "CoalitionPage", variables, None))
    assert len(body["data"]["coalition"]["memberships"]) > 10
    assert statement_counter.count == 1, statement_counter.statements


async def test_a_compiled_read_that_fails_is_answered_by_the_resolvers(
    hubs, session_factory, caplog
):
    reference, compiled = hubs
    await demo.seed(session_factory)
    variables = {"first": 5}
    reads = compiled.app.state.compiled_reads
    working = reads.statements
    # A database that cannot be reached: the statement fails as a lost server would.
    unreachable = (
        "postgresql+asyncpg://postgres@127.0.0.1:9/none"
        if isinstance(working, AsyncpgStatements)
        else "sqlite+aiosqlite:////nonexistent/folder/hub.db"
    )
    engine = create_async_engine(unreachable)
    reads.statements = for_engine(engine, pool_size=1)
    try:
        answered = await compiled.read(PORTAL, "Commitments", variables, None)
    finally:
        await reads.statements.close()
        await engine.dispose()
        reads.statements = working

    assert answered == await reference.read(PORTAL, "Commitments", variables, None)
    assert b'"edges"' in answered and reads.answered["Commitments"] == 0
    assert "compiled read Commitments failed" in caplog.text


async def test_compiled_reads_keep_to_their_connections(settings, engine, session_factory):
    await demo.seed(session_factory)
    app = create_app(
        settings.model_copy(update={"read_cache": False, "compiled_reads_connections": 2}),
        engine=engine,
    )
    reads = app.state.compiled_reads
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        hub = Hub(client, app)
        answers = await asyncio.gather(
            *(hub.read(PORTAL, "Commitments", {"first": 10}, None) for _ in range(12))
        )
    statements = reads.statements
    opened = statements._pool.get_size() if isinstance(statements, AsyncpgStatements) else None
    await compiled_reads.close(reads)

    assert len(set(answers)) == 1 and b'"edges"' in answers[0]
    assert reads.answered["Commitments"] == 12
    assert opened in (None, 1, 2)  # PostgreSQL: at most the two it may keep
