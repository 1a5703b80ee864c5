"""The secretariat's follow-up of visibility plans on the dashboard (the trusted
VisibilityPlanFollowUp operation): open commitments worth the coalition's threshold or more
with no plan, communication actions overdue, refused to partners, the threshold changed
through updateCoalition, and the same statements whatever the data."""

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.actors import SYSTEM, Actor
from backend.graphql import report_cache
from backend.services import commitments, visibility_plans
from tests.apps import app_with, client_of
from tests.backdating import TODAY, ago
from tests.conftest import Api, StatementCounter
from tests.factories import (
    gid,
    in_kind_line,
    make_coalition,
    make_commitment,
    make_membership,
    make_organisation,
    make_token,
    make_workstream,
)

OPERATIONS = (
    Path(__file__).resolve().parents[2] / "schema" / "operations" / "visibility_plans.graphql"
).read_text("utf-8")
UPDATE_COALITION = """
mutation ($input: UpdateCoalitionInput!) {
  updateCoalition(input: $input) { __typename }
}
"""
# The token, the coalition; commitments without a plan, overdue actions; the commitments'
# organisations (one batch).
STATEMENTS = 5


async def _post(
    client: httpx.AsyncClient, token: str | None, operation: str, **variables: Any
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"query": OPERATIONS, "operationName": operation, "variables": variables}
    response = await client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _follow_up(api: Api, token: str, slug: str, **variables: Any) -> dict[str, Any]:
    answer = await _post(api.client, token, "VisibilityPlanFollowUp", slug=slug, **variables)
    assert "errors" not in answer, answer
    dashboard: dict[str, Any] = answer["data"]["coalition"]["dashboard"]
    return dashboard


def _unplanned(dashboard: dict[str, Any]) -> list[tuple[str, str, str]]:
    listed = dashboard["commitmentsWithoutPlan"]
    rows = [
        (item["commitment"]["title"], item["valueUsd"], item["thresholdUsd"])
        for item in listed["items"]
    ]
    assert listed["totalCount"] == len(rows)
    return rows


def _overdue(dashboard: dict[str, Any]) -> list[tuple[str, int, str | None, str | None]]:
    listed = dashboard["overdueActions"]
    rows = [
        (
            item["action"]["title"],
            item["daysOverdue"],
            item["commitment"] and item["commitment"]["title"],
            item["workstream"] and item["workstream"]["name"],
        )
        for item in listed["items"]
    ]
    assert listed["totalCount"] == len(rows)
    return rows


async def _plan(session: AsyncSession, **subject: Any) -> models.VisibilityPlan:
    """A plan (for `commitment_id=` or `workstream_id=`) set by the secretariat."""
    subject = {"commitment_id": None, "workstream_id": None, **subject}
    draft = visibility_plans.PlanDraft(acknowledgement="With thanks to our partner.")
    plan = await visibility_plans.set_plan(session, SYSTEM, **subject, draft=draft)
    await session.commit()
    return plan


async def _action(
    session: AsyncSession,
    plan: models.VisibilityPlan,
    title: str,
    planned_on: dt.date,
    status: models.ActionStatus = models.ActionStatus.PLANNED,
) -> None:
    assert plan.id is not None
    draft = visibility_plans.ActionDraft(
        kind=models.CommunicationKind.SOCIAL_POST, title=title, planned_on=planned_on
    )
    action = await visibility_plans.add_action(session, SYSTEM, plan_id=plan.id, draft=draft)
    await session.flush()
    assert action.id is not None
    if status is models.ActionStatus.PUBLISHED:
        await visibility_plans.publish_action(session, SYSTEM, action_id=action.id)
    elif status is models.ActionStatus.CANCELLED:
        await visibility_plans.cancel_action(session, SYSTEM, action_id=action.id)
    await session.commit()


async def _withdraw(session: AsyncSession, commitment: models.Commitment) -> None:
    assert commitment.id is not None
    partner = Actor(
        name="partner",
        role=models.Role.PARTNER_EDITOR,
        organisation_id=commitment.organisation_id,
        member_coalition_ids=frozenset({commitment.coalition_id}),
    )
    await commitments.withdraw(
        session, partner, commitment_id=commitment.id, version=commitment.version, reason="Test"
    )
    await session.commit()


async def test_open_commitments_at_or_above_the_threshold_without_a_plan_are_listed(
    api: Api, session: AsyncSession
) -> None:
    coalition = await make_coalition(session)
    elsewhere = await make_coalition(session)
    member = await make_organisation(session)
    await make_membership(session, coalition, member)
    await make_membership(session, elsewhere, member)

    async def commitment(title: str, amount: str, **fields: Any) -> models.Commitment:
        return await make_commitment(
            session, coalition, member, title=title, amount=Decimal(amount), **fields
        )

    valued_line = in_kind_line(
        fair_value=Decimal("30000"), fair_value_currency="USD", valuation_method="List price"
    )
    await commitment("Just below", "99999.99")
    await commitment("At the threshold", "100000", stage=models.Stage.COMMITTED)
    await commitment(
        "Above with its in-kind value",
        "80000",
        stage=models.Stage.IN_DELIVERY,
        resource_kind=models.ResourceKind.MIXED,
        in_kind=[valued_line],
    )
    await commitment("Confidential", "150000", visibility=models.Visibility.CONFIDENTIAL)
    planned = await commitment("Above with a plan", "500000")
    await _plan(session, commitment_id=planned.id)
    await commitment("Withdrawn", "200000", stage=models.Stage.WITHDRAWN)
    await commitment("Fulfilled", "300000", stage=models.Stage.FULFILLED)
    await make_commitment(session, elsewhere, member, title="Elsewhere", amount=Decimal("400000"))
    secretariat = await make_token(session, models.Role.SECRETARIAT_ANALYST)

    dashboard = await _follow_up(api, secretariat, coalition.slug)

    assert _unplanned(dashboard) == [
        ("Confidential", "150000.00", "100000.00"),
        ("Above with its in-kind value", "110000.00", "100000.00"),
        ("At the threshold", "100000.00", "100000.00"),
    ]


async def test_actions_still_planned_before_the_as_of_day_are_overdue(
    api: Api, session: AsyncSession
) -> None:
    coalition = await make_coalition(session)
    elsewhere = await make_coalition(session)
    member = await make_organisation(session)
    await make_membership(session, coalition, member)
    pledge = await make_commitment(session, coalition, member, title="Laptops for schools")
    workstream = await make_workstream(session, coalition, name="Teachers first")
    other = await make_workstream(session, elsewhere, name="Elsewhere")
    commitment_plan = await _plan(session, commitment_id=pledge.id)
    workstream_plan = await _plan(session, workstream_id=workstream.id)
    other_plan = await _plan(session, workstream_id=other.id)
    await _action(session, commitment_plan, "Planned yesterday", ago(1))
    await _action(session, commitment_plan, "Planned today", TODAY)
    await _action(session, commitment_plan, "Published", ago(10), models.ActionStatus.PUBLISHED)
    await _action(session, commitment_plan, "Cancelled", ago(5), models.ActionStatus.CANCELLED)
    await _action(session, workstream_plan, "Launch event", ago(3))
    await _action(session, other_plan, "Another coalition's", ago(3))
    taken_back = await make_commitment(session, coalition, member)
    await _action(session, await _plan(session, commitment_id=taken_back.id), "Withdrawn", ago(4))
    await _withdraw(session, taken_back)
    secretariat = await make_token(session, models.Role.SECRETARIAT_ANALYST)

    today = await _follow_up(api, secretariat, coalition.slug)
    two_days_ago = await _follow_up(api, secretariat, coalition.slug, to=ago(2).isoformat())

    assert _overdue(today) == [
        ("Launch event", 3, None, "Teachers first"),
        ("Planned yesterday", 1, "Laptops for schools", None),
    ]
    assert two_days_ago["asOf"] == ago(2).isoformat()
    assert _overdue(two_days_ago) == [("Launch event", 1, None, "Teachers first")]


async def test_partners_are_refused_the_lists_and_anonymous_readers_asked_to_sign_in(
    api: Api, session: AsyncSession
) -> None:
    coalition = await make_coalition(session)
    member = await make_organisation(session)
    await make_membership(session, coalition, member)
    await make_commitment(session, coalition, member, amount=Decimal("250000"))
    partner = await make_token(session, models.Role.PARTNER_ADMIN, member)

    as_partner = await _post(api.client, partner, "VisibilityPlanFollowUp", slug=coalition.slug)
    anonymous = await _post(api.client, None, "VisibilityPlanFollowUp", slug=coalition.slug)
    portfolio = await _post(api.client, partner, "PortfolioVisibilityPlanFollowUp")

    for answer, code in ((as_partner, "PERMISSION_DENIED"), (anonymous, "UNAUTHENTICATED")):
        dashboard = answer["data"]["coalition"]["dashboard"]
        assert dashboard["commitmentsWithoutPlan"] is None
        assert dashboard["overdueActions"] is None
        assert sorted(
            (error["path"][-1], error["extensions"]["code"]) for error in answer["errors"]
        ) == [("commitmentsWithoutPlan", code), ("overdueActions", code)]
    assert portfolio["data"] is None
    assert [error["extensions"]["code"] for error in portfolio["errors"]] == ["PERMISSION_DENIED"]


async def test_the_portfolio_judges_each_commitment_by_its_coalitions_threshold(
    api: Api, session: AsyncSession
) -> None:
    strict = await make_coalition(session, visibility_plan_threshold_usd=Decimal("5000"))
    default = await make_coalition(session)
    member = await make_organisation(session)
    for coalition in (strict, default):
        await make_membership(session, coalition, member)
        await make_commitment(session, coalition, member, title=coalition.slug)
    secretariat = await make_token(session, models.Role.SECRETARIAT_ANALYST)

    answer = await _post(api.client, secretariat, "PortfolioVisibilityPlanFollowUp")

    assert "errors" not in answer, answer
    assert _unplanned(answer["data"]["portfolio"]) == [(strict.slug, "10000.00", "5000.00")]


async def test_a_threshold_changed_through_update_coalition_is_in_the_next_kept_answer(
    settings: Any, engine: Any, session: AsyncSession
) -> None:
    coalition = await make_coalition(session)
    member = await make_organisation(session)
    await make_membership(session, coalition, member)
    amount = Decimal("50000")
    await make_commitment(session, coalition, member, title="Radio lessons", amount=amount)
    admin = await make_token(session, models.Role.SECRETARIAT_ADMIN)
    change = {"id": gid(coalition), "visibilityPlanThresholdUsd": "50000"}

    async with app_with(settings, engine, read_cache=True) as app, client_of(app) as client:
        before = await _post(client, admin, "VisibilityPlanFollowUp", slug=coalition.slug)
        hits = report_cache.ReportCache.hits
        kept = await _post(client, admin, "VisibilityPlanFollowUp", slug=coalition.slug)
        kept_hits = report_cache.ReportCache.hits - hits
        updated = await client.post(
            "/graphql",
            json={"query": UPDATE_COALITION, "variables": {"input": change}},
            headers={"Authorization": f"Bearer {admin}"},
        )
        after = await _post(client, admin, "VisibilityPlanFollowUp", slug=coalition.slug)

    assert updated.json()["data"]["updateCoalition"]["__typename"] == "Coalition"
    assert kept == before and kept_hits == 1
    assert _unplanned(before["data"]["coalition"]["dashboard"]) == []
    assert after["data"]["coalition"]["visibilityPlanThresholdUsd"] == "50000.00"
    assert _unplanned(after["data"]["coalition"]["dashboard"]) == [
        ("Radio lessons", "50000.00", "50000.00")
    ]


async def given_followed_coalition(session: AsyncSession, slug: str, *, rows: int) -> None:
    """`rows` commitments without a plan, and `rows` overdue actions of commitment plans."""
    coalition = await make_coalition(session, slug=slug)
    for number in range(rows):
        member = await make_organisation(session, name=f"{slug} member {number}")
        await make_membership(session, coalition, member)
        await make_commitment(session, coalition, member, amount=Decimal("200000"))
        planned = await make_commitment(session, coalition, member, amount=Decimal("200000"))
        plan = await _plan(session, commitment_id=planned.id)
        await _action(session, plan, f"Post {number}", ago(1 + number))


async def test_the_follow_up_costs_the_same_statements_at_2_and_8_rows(
    api: Api, session: AsyncSession, statement_counter: StatementCounter
) -> None:
    await given_followed_coalition(session, "small", rows=2)
    await given_followed_coalition(session, "large", rows=8)
    token = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    seen: dict[str, Any] = {}

    for slug in ("small", "large"):
        statement_counter.reset()
        dashboard = await _follow_up(api, token, slug)
        seen[slug] = (
            len(_unplanned(dashboard)),
            len(_overdue(dashboard)),
            statement_counter.count,
        )

    assert seen == {"small": (2, 2, STATEMENTS), "large": (8, 8, STATEMENTS)}, (
        statement_counter.statements
    )
