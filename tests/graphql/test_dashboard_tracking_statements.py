"""The trusted DeliveryTracking operation costs the same SQL statements whatever the data:
one per tracking figure, plus one batched load per related type."""

from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from tests.backdating import ago, backdate
from tests.conftest import Api, StatementCounter
from tests.factories import (
    make_coalition,
    make_commitment,
    make_delivery,
    make_membership,
    make_organisation,
    make_token,
    make_workstream,
)

OPERATION = (
    Path(__file__).resolve().parents[2] / "schema" / "operations" / "delivery_tracking.graphql"
).read_text("utf-8")
# The token, the coalition; overdue, staleness, stale commitments, member staleness, stale
# members, over-delivered, workstream progress; the commitments' organisations (one batch).
STATEMENTS = 10


async def given_tracked_coalition(session: AsyncSession, slug: str, *, rows: int) -> None:
    """`rows` of everything tracking lists: overdue, stale and over-delivered commitments,
    stale members and workstreams."""
    coalition = await make_coalition(session, slug=slug)
    for number in range(rows):
        workstream = await make_workstream(session, coalition, target_value=Decimal("100"))
        member = await make_organisation(session, name=f"{slug} member {number}")
        await make_membership(session, coalition, member, joined_on=ago(900))
        commitment = await make_commitment(
            session,
            coalition,
            member,
            stage=models.Stage.COMMITTED,
            workstream_id=workstream.id,
            end_date=ago(30 + number),
        )
        await make_delivery(
            session, commitment, amount=Decimal("12000"), delivered_on=ago(800), beneficiaries=5
        )
        await backdate(session, commitment, recorded=900, progress=800)


async def test_delivery_tracking_costs_the_same_statements_at_2_and_8_rows(
    api: Api, session: AsyncSession, statement_counter: StatementCounter
) -> None:
    await given_tracked_coalition(session, "small", rows=2)
    await given_tracked_coalition(session, "large", rows=8)
    token = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    seen: dict[str, Any] = {}

    for slug in ("small", "large"):
        statement_counter.reset()
        data = await api(OPERATION, {"slug": slug}, token=token)
        dashboard = data["coalition"]["dashboard"]
        seen[slug] = {
            "overdue": dashboard["overdue"]["totalCount"],
            "stale": dashboard["staleCommitments"]["totalCount"],
            "staleMembers": dashboard["staleMembers"]["totalCount"],
            "overDelivered": dashboard["overDelivered"]["totalCount"],
            "workstreams": len(dashboard["workstreamProgress"]),
            "statements": statement_counter.count,
        }

    print(f"delivery tracking: {seen}")
    assert seen == {
        "small": {
            "overdue": 2,
            "stale": 2,
            "staleMembers": 2,
            "overDelivered": 2,
            "workstreams": 2,
            "statements": STATEMENTS,
        },
        "large": {
            "overdue": 8,
            "stale": 8,
            "staleMembers": 8,
            "overDelivered": 8,
            "workstreams": 8,
            "statements": STATEMENTS,
        },
    }, statement_counter.statements
