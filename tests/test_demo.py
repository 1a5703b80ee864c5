import asyncio
import datetime as dt
from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from backend import codes, db, demo, migrations, models
from backend.config import Settings
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
    # The plan's commitments: accepted matches and the pipeline make their own.
    planned = len(commitments) - len(await _coordinated(session))
    assert seeded == demo.Seeded(
        created=True,
        organisations=len(organisations),
        memberships=len(memberships),
        commitments=planned,
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


async def _coordinated(session) -> set[int]:
    """Ids of the commitments that accepted matches and converted opportunities made."""
    made = await session.scalars(
        sa.union(
            sa.select(models.Match.commitment_id),
            sa.select(models.EngagementOpportunity.converted_commitment_id),
        )
    )
    return {row for row in made if row is not None}


async def test_the_demo_coordinates_needs_offers_matches_a_pipeline_and_plans(
    session_factory, session
):
    await demo.seed(session_factory)

    needs = await _rows(session, models.Need)
    offers = await _rows(session, models.Offer)
    matches = await _rows(session, models.Match)
    opportunities = await _rows(session, models.EngagementOpportunity)
    plans = await _rows(session, models.VisibilityPlan)
    actions = await _rows(session, models.CommunicationAction)
    organisations = {row.id: row for row in await _rows(session, models.Organisation)}
    commitments = {row.id: row for row in await _rows(session, models.Commitment)}
    feed = Counter(row.type for row in await _rows(session, models.FeedEvent))
    today = dt.date.today()
    assert Counter(row.status for row in needs) == {
        models.NeedStatus.OPEN: 3,
        models.NeedStatus.PARTIALLY_MATCHED: 1,
    }
    assert {(row.country, row.category) for row in needs} == {
        ("BR", models.InKindCategory.CONNECTIVITY),
        ("MZ", models.InKindCategory.TRAINING),
        ("NP", models.InKindCategory.CONTENT),
        ("KE", models.InKindCategory.DEVICES),
    }
    assert all(
        organisations[row.organisation_id].organisation_type in {"10", "11", "15"}
        for row in needs
        if row.organisation_id is not None
    )
    assert sum(row.organisation_id is None for row in needs) == 2
    assert Counter(row.status for row in offers) == {
        models.OfferStatus.LISTED: 3,
        models.OfferStatus.UNDER_REVIEW: 1,
        models.OfferStatus.DRAFT: 1,
    }
    assert all(row.attestations for row in offers)
    assert Counter(row.status for row in matches) == {
        models.MatchStatus.ACCEPTED: 1,
        models.MatchStatus.PROPOSED: 1,
        models.MatchStatus.DECLINED: 1,
    }
    accepted = next(row for row in matches if row.status is models.MatchStatus.ACCEPTED)
    assert commitments[accepted.commitment_id].stage is models.Stage.COMMITTED
    assert Counter(row.stage for row in opportunities) == {
        models.OpportunityStage.RESEARCH: 1,
        models.OpportunityStage.PROPOSAL: 1,
        models.OpportunityStage.ON_HOLD: 1,
        models.OpportunityStage.AGREED: 1,
    }
    agreed = next(row for row in opportunities if row.converted_commitment_id is not None)
    assert agreed.due_diligence_decision is models.DueDiligenceDecision.CLEARED
    assert commitments[agreed.converted_commitment_id].organisation_id == (
        agreed.prospect_organisation_id
    )
    assert sorted((row.commitment_id is None, row.donor_approved_at is None) for row in plans) == [
        (False, False),
        (True, True),
    ]
    assert sorted((row.status, row.planned_on < today) for row in actions) == [
        (models.ActionStatus.PLANNED, False),
        (models.ActionStatus.PLANNED, True),
        (models.ActionStatus.PUBLISHED, True),
    ]
    assert (
        feed["need.posted"],
        feed["offer.listed"],
        feed["match.proposed"],
        feed["match.accepted"],
        feed["communication.published"],
    ) == (4, 3, 3, 1, 1)


async def test_seeding_again_finds_the_demo_and_adds_nothing(session_factory, session):
    await demo.seed(session_factory)
    before = await _counts(session)

    again = await demo.seed(session_factory)

    assert again == demo.Seeded(created=False)
    assert await _counts(session) == before
    assert all(
        before[table]
        for table in ["needs", "offers", "matches", "engagement_opportunities", "visibility_plans"]
    )


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


# --- what the dashboard reports on ------------------------------------------------------


async def test_the_demo_has_what_the_dashboard_reports_on(session_factory, session):
    await demo.seed(session_factory)
    commitments = await _rows(session, models.Commitment)
    organisations = {row.id: row for row in await _rows(session, models.Organisation)}
    lines = await _rows(session, models.InKindLine)
    deliveries = await _rows(session, models.Delivery)
    today = dt.date.today()
    by_id = {row.id: row for row in commitments}
    open_stages = {models.Stage.PLEDGED, models.Stage.COMMITTED, models.Stage.IN_DELIVERY}

    sectors = {code for row in commitments for code in row.sectors}
    assert {"11220", "11130", "22040"} <= sectors <= set(codes.names("sectors"))
    assert any(not row.sectors for row in commitments)
    passing = [row for row in commitments if row.funded_through_id is not None]
    assert passing
    for row in passing:
        channel = by_id[row.funded_through_id]
        assert organisations[row.organisation_id].organisation_type == "60"
        assert organisations[channel.organisation_id].organisation_type == "40"
        assert channel.coalition_id == row.coalition_id
        assert channel.stage in open_stages and channel.amount is not None
        assert row.amount is not None and channel.funded_through_id is None
    shared = [row for row in deliveries if row.beneficiary_share_bp is not None]
    assert {row.beneficiary_share_bp for row in shared} >= {5000}
    by_learners = Counter(
        (row.beneficiaries, by_id[row.commitment_id].coalition_id) for row in shared
    )
    assert all(count % 2 == 0 for count in by_learners.values())
    # Commitments of accepted matches have no end date.
    overdue = [
        row
        for row in commitments
        if row.stage in open_stages and row.end_date is not None and row.end_date < today
    ]
    assert len(overdue) >= 5

    def last_report(row: models.Commitment) -> dt.date:
        days = [row.created_at.date()]
        days += [d.delivered_on for d in deliveries if d.commitment_id == row.id]
        if row.last_progress_at is not None:
            days.append(row.last_progress_at.date())
        return max(days)

    ages = [(today - last_report(row)).days for row in commitments if row.stage in open_stages]
    assert sum(age >= 730 for age in ages) >= 3
    assert sum(365 <= age < 730 for age in ages) >= 3
    assert sum(age < 365 for age in ages) > len(ages) / 2
    assert all(row.created_at <= models.utcnow() for row in commitments)
    assert all(
        row.last_progress_at is None or row.last_progress_at >= row.created_at
        for row in commitments
    )
    valued = [row for row in lines if row.fair_value is not None]
    assert len({row.fair_value_currency for row in valued}) >= 4
    assert {row.fair_value_currency for row in valued if row.fair_value_usd is None} == {"NGN"}


async def test_in_kind_value_is_pinned_on_the_day_a_commitment_was_recorded(
    session_factory, session
):
    await demo.seed(session_factory)
    commitments = {row.id: row for row in await _rows(session, models.Commitment)}
    lines = await _rows(session, models.InKindLine)

    in_kind_only = [
        line
        for line in lines
        if line.usd_rate_date is not None
        and commitments[line.commitment_id].value_date is None
        and line.fair_value_currency != "USD"
    ]
    assert in_kind_only
    for line in in_kind_only:
        recorded = commitments[line.commitment_id].created_at.date()
        assert recorded - dt.timedelta(days=31) <= line.usd_rate_date <= recorded


def test_deliveries_per_commitment_splits_tranches_and_keeps_what_is_delivered():
    day = dt.date(2026, 11, 25)

    plain = plan.build(scale=2, today=day)
    dense = plan.build(scale=2, today=day, deliveries_per_commitment=3)

    def delivered(planned) -> Counter:
        """What each commitment delivers: cash, or each in-kind line's quantity."""
        amounts: Counter = Counter()
        for index, commitment in enumerate(planned.commitments):
            for delivery in commitment.deliveries:
                amounts[(index, delivery.line)] += delivery.amount or delivery.quantity
        return amounts

    assert dense.deliveries >= 3 * len(dense.commitments) > plain.deliveries
    assert delivered(dense) == delivered(plain)
    assert [c.terms["title"] for c in dense.commitments] == [
        c.terms["title"] for c in plain.commitments
    ]
    assert dense.activities == plain.activities
    assert all(d.delivered_on <= day for c in dense.commitments for d in c.deliveries)


# --- the bulk writer ------------------------------------------------------------------

# Ids and refs differ however the rows are written; so do the instants the services stamp
# with the clock (compared only for being there or not).
_SKIPPED = {
    "organisations": {"id"},
    "memberships": {"id"},
    "commitments": {"id", "ref"},
    "in_kind_lines": {"id"},
    "deliveries": {"id"},
    "activities": {"id"},
    "fx_rates": {"id"},
}
_CLOCK = {"created_at", "updated_at", "reviewed_at", "announced_at"}
# Commitments carry the plan's times instead.
_PLANNED = {"commitments": {"created_at", "updated_at"}}


async def _canonical(engine) -> dict[str, list[dict[str, Any]]]:
    """The demo's rows as plain values in insertion order, every id replaced by a key
    that does not depend on how the rows were written."""
    tables = {table.name: table for table in SQLModel.metadata.sorted_tables}
    rows: dict[str, list[dict[str, Any]]] = {}
    async with engine.connect() as connection:
        for name in [*_SKIPPED, "coalitions", "workstreams"]:
            table = tables[name]
            found = await connection.execute(sa.select(table).order_by(table.c.id))
            rows[name] = [dict(row._mapping) for row in found]
        # The coordination layer is seeded through the services only: its commitments
        # (of accepted matches and converted opportunities) are left out.
        coordinated = set(
            await connection.scalars(
                sa.union(
                    sa.select(tables["matches"].c.commitment_id),
                    sa.select(tables["engagement_opportunities"].c.converted_commitment_id),
                )
            )
        )
    rows["commitments"] = [row for row in rows["commitments"] if row["id"] not in coordinated]
    rows["in_kind_lines"] = [
        row for row in rows["in_kind_lines"] if row["commitment_id"] not in coordinated
    ]
    names = {
        "organisation": {row["id"]: row["name"] for row in rows["organisations"]},
        "coalition": {row["id"]: row["slug"] for row in rows["coalitions"]},
        "workstream": {row["id"]: row["name"] for row in rows["workstreams"]},
        "commitment": {row["id"]: rank for rank, row in enumerate(rows["commitments"])},
    }
    names["line"] = {
        row["id"]: (names["commitment"][row["commitment_id"]], row["position"])
        for row in rows["in_kind_lines"]
    }
    references = {
        "organisation_id": "organisation",
        "receiving_organisation_id": "organisation",
        "reported_by_organisation_id": "organisation",
        "coalition_id": "coalition",
        "workstream_id": "workstream",
        "commitment_id": "commitment",
        "funded_through_id": "commitment",
        "in_kind_line_id": "line",
    }
    canonical = {}
    for name, skipped in _SKIPPED.items():
        canonical[name] = []
        for row in rows[name]:
            values = {}
            for column, value in row.items():
                if column in skipped:
                    continue
                if column in _CLOCK and column not in _PLANNED.get(name, set()):
                    value = value is not None
                if column in references and value is not None:
                    value = names[references[column]][value]
                elif column == "workstream_ids":
                    value = [names["workstream"][item] for item in value]
                elif column == "organisation_ids":
                    value = [names["organisation"][item] for item in value]
                values[column] = value
            canonical[name].append(values)
    return canonical


async def test_bulk_seeding_writes_the_rows_the_services_write(
    session_factory, engine, scratch_database_url
):
    await asyncio.to_thread(migrations.upgrade, scratch_database_url)
    bulk_engine = db.create_engine(Settings(database_url=scratch_database_url))
    try:
        through_services = await demo.seed(session_factory, bulk=False)
        in_bulk = await demo.seed(db.create_session_factory(bulk_engine), bulk=True)

        expected, written = await _canonical(engine), await _canonical(bulk_engine)
        async with db.create_session_factory(bulk_engine)() as bulk_session:
            audit = await _rows(bulk_session, models.AuditRecord)
            feed = await _rows(bulk_session, models.FeedEvent)
    finally:
        await bulk_engine.dispose()

    assert in_bulk == through_services
    for table, rows in expected.items():
        assert len(written[table]) == len(rows), table
        for number, (row, wanted) in enumerate(zip(written[table], rows, strict=True)):
            assert row == wanted, (table, number)
    assert len(expected["deliveries"]) > 100
    assert any(row["funded_through_id"] is not None for row in written["commitments"])
    assert {row.action for row in audit} == {
        "fx_rate.published",
        "organisation.registered",
        "coalition.created",
        "workstream.created",
        "demo.seeded_in_bulk",
    }
    bulk_record = next(row for row in audit if row.action == "demo.seeded_in_bulk")
    assert bulk_record.after["commitments"] == len(written["commitments"])
    assert {row.subject_type for row in feed} <= {"Coalition", "Workstream", "Organisation"}


async def test_seeding_leaves_the_planner_statistics_of_what_it_wrote(session_factory, session):
    await demo.seed(session_factory)

    rows = await session.scalar(sa.select(sa.func.count()).select_from(models.Delivery))
    if session.bind.dialect.name == "postgresql":
        planned = await session.scalar(
            sa.text("SELECT reltuples FROM pg_class WHERE relname = 'deliveries'")
        )
    else:
        stat = await session.scalar(
            sa.text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'deliveries' LIMIT 1")
        )
        planned = int(stat.split()[0])
    assert rows > 100
    assert planned == rows
