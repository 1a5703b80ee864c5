import datetime as dt
from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from backend import codes, demo, models
from backend.demo import plan
from backend.services import tokens
from tests.factories import make_coalition, make_membership, make_organisation

LEARNING = "learning-continuity"


async def _rows(session, model) -> list[Any]:
    return list(await session.scalars(sa.select(model)))


async def _counts(session) -> dict[str, int]:
    """Rows in every table."""
    counts = {}
    for table in SQLModel.metadata.sorted_tables:
        counts[table.name] = await session.scalar(sa.select(sa.func.count()).select_from(table))
    return counts


async def test_seed_demo_records_every_kind_of_fact_through_the_services(session_factory, session):
    seeded = await demo.seed(session_factory)

    organisations = await _rows(session, models.Organisation)
    coalitions = await _rows(session, models.Coalition)
    workstreams = await _rows(session, models.Workstream)
    memberships = await _rows(session, models.Membership)
    commitments = await _rows(session, models.Commitment)
    lines = await _rows(session, models.InKindLine)
    deliveries = await _rows(session, models.Delivery)
    activities = await _rows(session, models.Activity)
    rates = await _rows(session, models.FxRate)
    audit, feed = await _rows(session, models.AuditRecord), await _rows(session, models.FeedEvent)
    now = models.utcnow()
    assert seeded == demo.Seeded(
        created=True,
        organisations=len(organisations),
        memberships=len(memberships),
        commitments=len(commitments),
        deliveries=len(deliveries),
        activities=len(activities),
    )
    assert len(organisations) >= 40
    assert len({row.country for row in organisations}) >= 15
    assert {row.organisation_type for row in organisations} == set(
        codes.names("organisation_types")
    )
    assert {row.hub_category for row in organisations} == {None, *models.HubCategory}
    assert {(row.slug, row.kind, tuple(row.sdg_goals)) for row in coalitions} == {
        (LEARNING, models.CoalitionKind.COALITION, ("4", "5", "9", "17")),
        ("resilient-arts", models.CoalitionKind.MOVEMENT, ("4", "11", "17")),
    }
    assert {
        (row.name, row.target_metric, row.target_value, row.target_date)
        for row in workstreams
        if row.target_metric == "learners connected"
    } == {("Connectivity flagship", "learners connected", 1_000_000, dt.date(2027, 12, 31))}
    learning = next(row for row in coalitions if row.slug == LEARNING)
    statuses = Counter(row.status for row in memberships if row.coalition_id == learning.id)
    active = models.MembershipStatus.ACTIVE
    assert statuses - Counter({active: statuses[active]}) == Counter(
        {
            models.MembershipStatus.APPLIED: 3,
            models.MembershipStatus.SUSPENDED: 1,
            models.MembershipStatus.WITHDRAWN: 1,
        }
    )
    assert statuses[active] > 30
    assert {row.role for row in memberships} == set(models.MembershipRole)
    assert len(commitments) >= 150
    assert {row.stage for row in commitments} == set(models.Stage)
    assert {row.resource_kind for row in commitments} == set(models.ResourceKind)
    assert {row.visibility for row in commitments} == set(models.Visibility)
    assert any(row.embargo_until and row.embargo_until > now for row in commitments)
    assert len({row.currency for row in commitments if row.currency}) >= 8
    assert {row.currency for row in commitments if row.amount and row.amount_usd is None} == {"NGN"}
    assert {row.unit for row in lines} >= {"GB", "device", "seat", "expert_day", "airtime_minute"}
    assert all(row.valuation_method for row in lines if row.fair_value is not None)
    assert {row.status for row in deliveries} == set(models.DeliveryStatus)
    assert all(row.dispute_reason for row in deliveries if row.status == "DISPUTED")
    assert {row.reviewed_by == "system" for row in deliveries if row.status == "CONFIRMED"} == {
        True,
        False,
    }
    assert {row.kind for row in activities} == set(models.ActivityKind)
    withdrawn = [row for row in commitments if row.stage is models.Stage.WITHDRAWN]
    assert Counter(row.actor_role for row in audit if row.action == "commitment.withdrawn") == {
        "PARTNER_EDITOR": len(withdrawn)
    }
    assert Counter(row.type for row in feed)["commitment.pledged"] == len(commitments)
    assert {(row.currency, row.source) for row in rates} == {
        (currency, "Demo rates (fictional)")
        for currency in ["EUR", "GBP", "JPY", "CHF", "SEK", "NOK", "CAD", "KES", "INR", "BRL"]
    }


async def test_seeding_again_finds_the_demo_and_adds_nothing(session_factory, session):
    await demo.seed(session_factory)
    before = await _counts(session)

    again = await demo.seed(session_factory)

    assert again == demo.Seeded(created=False)
    assert await _counts(session) == before


async def test_issued_tokens_are_a_secretariat_admin_and_an_active_partner_editor(
    session_factory, session
):
    coalition = await make_coalition(session, slug=LEARNING)
    partner = await make_organisation(session, name="Brightwave Telecom", acronym="BWT")
    await make_membership(session, coalition, partner)

    issued = await demo.issue_tokens(session_factory)

    admin = await tokens.authenticate(session, issued.admin.secret)
    editor = await tokens.authenticate(session, issued.partner.secret)
    assert issued.partner_organisation == "Brightwave Telecom"
    assert (admin.role, admin.organisation_id) == (models.Role.SECRETARIAT_ADMIN, None)
    assert (editor.role, editor.organisation_id, editor.member_coalition_ids) == (
        models.Role.PARTNER_EDITOR,
        partner.id,
        frozenset({coalition.id}),
    )


def test_the_plan_is_the_same_for_the_same_scale_and_day():
    day = dt.date(2026, 11, 25)

    first, second = plan.build(scale=1, today=day), plan.build(scale=1, today=day)

    assert first == second


def test_scale_multiplies_organisations_commitments_deliveries_and_activities():
    day = dt.date(2026, 11, 25)

    one, three = plan.build(scale=1, today=day), plan.build(scale=3, today=day)

    assert (
        len(three.organisations),
        len(three.memberships),
        len(three.commitments),
        len(three.activities),
        len(three.rates),
    ) == (
        3 * len(one.organisations),
        3 * len(one.memberships),
        3 * len(one.commitments),
        3 * len(one.activities),
        len(one.rates),
    )
    assert three.deliveries > 2 * one.deliveries
    assert len({organisation.draft.name for organisation in three.organisations}) == len(
        three.organisations
    )
