"""The private-sector pipeline: the stage machine, due diligence, conversion into a
membership or a commitment, the secretariat-only rule and the audit trail."""

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from backend import models
from backend.actors import SYSTEM, Actor
from backend.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from backend.services import memberships, pipeline
from tests.factories import make_coalition, make_membership, make_opportunity, make_organisation

Stage = models.OpportunityStage
TODAY = models.utcnow().date()
TERMS = {
    "title": "Connectivity fund",
    "resource_kind": models.ResourceKind.FINANCIAL,
    "amount": Decimal("250000"),
    "currency": "USD",
}
ANALYST = Actor(name="Ana", role=models.Role.SECRETARIAT_ANALYST)


async def _given(session, **fields):
    coalition = await make_coalition(session)
    prospect = await make_organisation(session, name="Telco")
    opportunity = await make_opportunity(session, coalition, prospect, **fields)
    return coalition, prospect, opportunity


def _issues(error):
    return [(issue.field, issue.code) for issue in error.value.issues]


async def test_opening_keeps_the_draft_and_every_write_is_audited(session):
    coalition = await make_coalition(session)
    prospect = await make_organisation(session, name="Telco")

    opportunity = await pipeline.open_opportunity(
        session,
        SYSTEM,
        coalition_id=coalition.id,
        prospect_organisation_id=prospect.id,
        draft=pipeline.OpportunityDraft(
            title="  Telco data bundles ",
            donor_kind=models.DonorKind.CORPORATE,
            motivations=[models.Motivation.BRAND_CSR, models.Motivation.MARKET_ENTRY],
            estimated_value=Decimal("500000"),
            currency="EUR",
            probability=40,
            next_step="Call the CSR lead",
            next_step_on=dt.date(2026, 12, 15),
        ),
    )
    await pipeline.update_opportunity(
        session, SYSTEM, opportunity_id=opportunity.id, changes={"probability": 60}
    )
    await pipeline.move_stage(session, SYSTEM, opportunity_id=opportunity.id, stage=Stage.RESEARCH)
    await session.commit()

    assert (opportunity.title, opportunity.stage, opportunity.probability) == (
        "Telco data bundles",
        Stage.RESEARCH,
        60,
    )
    assert pipeline.motivations_of(opportunity) == [
        models.Motivation.BRAND_CSR,
        models.Motivation.MARKET_ENTRY,
    ]
    assert (opportunity.estimated_value, opportunity.currency) == (Decimal("500000"), "EUR")
    audit = models.AuditRecord
    actions = list(
        await session.scalars(
            sa.select(audit.action)
            .where(audit.entity_type == "EngagementOpportunity")
            .order_by(audit.id)
        )
    )
    assert actions == [
        "engagement_opportunity.opened",
        "engagement_opportunity.updated",
        "engagement_opportunity.stage_moved",
    ]


async def test_an_invalid_draft_names_each_field(session):
    _, _, opportunity = await _given(session)

    with pytest.raises(InvalidInput) as refused:
        await pipeline.update_opportunity(
            session,
            SYSTEM,
            opportunity_id=opportunity.id,
            changes={
                "title": " ",
                "estimated_value": Decimal("-1"),
                "currency": "XYZ",
                "probability": 101,
                "motivations": [models.Motivation.TALENT, models.Motivation.TALENT],
            },
        )

    assert _issues(refused) == [
        ("title", "REQUIRED"),
        ("motivations.1", "DUPLICATE"),
        ("estimated_value", "NOT_POSITIVE"),
        ("currency", "UNKNOWN_CODE"),
        ("probability", "BAD_RANGE"),
    ]


async def test_a_value_needs_its_currency(session):
    _, _, opportunity = await _given(session)

    with pytest.raises(InvalidInput) as refused:
        await pipeline.update_opportunity(
            session,
            SYSTEM,
            opportunity_id=opportunity.id,
            changes={"estimated_value": Decimal("1000")},
        )

    assert _issues(refused) == [("currency", "REQUIRED")]


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Stage.IDENTIFIED, Stage.DUE_DILIGENCE),  # no skipping ahead
        (Stage.RESEARCH, Stage.IDENTIFIED),  # no going back
        (Stage.IDENTIFIED, Stage.AGREED),
        (Stage.IDENTIFIED, Stage.IDENTIFIED),
        (Stage.ON_HOLD, Stage.AGREED),  # resuming is at an open stage
        (Stage.ON_HOLD, Stage.ON_HOLD),
        (Stage.AGREED, Stage.DECLINED),  # AGREED and DECLINED are final
        (Stage.AGREED, Stage.ON_HOLD),
        (Stage.DECLINED, Stage.IDENTIFIED),
        (Stage.DECLINED, Stage.ON_HOLD),
    ],
)
async def test_the_stage_machine_refuses(session, start, target):
    _, _, opportunity = await _given(session, stage=start)

    with pytest.raises(InvalidTransition) as refused:
        await pipeline.move_stage(session, SYSTEM, opportunity_id=opportunity.id, stage=target)

    assert refused.value.code == "INVALID_TRANSITION"


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Stage.IDENTIFIED, Stage.RESEARCH),
        (Stage.NEGOTIATION, Stage.AGREED),
        (Stage.IDENTIFIED, Stage.DECLINED),
        (Stage.PROPOSAL, Stage.ON_HOLD),
        (Stage.ON_HOLD, Stage.CULTIVATION),
        (Stage.ON_HOLD, Stage.IDENTIFIED),
        (Stage.ON_HOLD, Stage.DECLINED),
    ],
)
async def test_the_stage_machine_allows(session, start, target):
    _, _, opportunity = await _given(session, stage=start)

    moved = await pipeline.move_stage(session, SYSTEM, opportunity_id=opportunity.id, stage=target)

    assert moved.stage is target


def test_every_stage_has_its_moves_written_down():
    assert set(pipeline.MOVES) == set(Stage)
    assert pipeline.MOVES[Stage.IDENTIFIED] == {Stage.RESEARCH, Stage.DECLINED, Stage.ON_HOLD}
    assert pipeline.MOVES[Stage.ON_HOLD] == {
        Stage.IDENTIFIED,
        Stage.RESEARCH,
        Stage.DUE_DILIGENCE,
        Stage.CULTIVATION,
        Stage.PROPOSAL,
        Stage.NEGOTIATION,
        Stage.DECLINED,
    }


async def test_a_clearance_needs_a_rating_a_date_and_with_conditions_the_conditions(session):
    _, _, opportunity = await _given(session)

    with pytest.raises(InvalidInput) as refused:
        await pipeline.record_due_diligence(
            session,
            SYSTEM,
            opportunity_id=opportunity.id,
            draft=pipeline.DueDiligenceDraft(
                decision=models.DueDiligenceDecision.CLEARED_WITH_CONDITIONS
            ),
        )

    assert _issues(refused) == [
        ("conditions", "REQUIRED"),
        ("risk_rating", "REQUIRED"),
        ("valid_until", "REQUIRED"),
    ]


async def test_due_diligence_is_recorded_with_who_decided_and_when(session):
    _, _, opportunity = await _given(session)
    admin = Actor(name="Sam", role=models.Role.SECRETARIAT_ADMIN)

    recorded = await pipeline.record_due_diligence(
        session,
        admin,
        opportunity_id=opportunity.id,
        draft=pipeline.DueDiligenceDraft(
            decision=models.DueDiligenceDecision.CLEARED_WITH_CONDITIONS,
            risk_rating=models.RiskRating.MEDIUM,
            conditions="No use of learner data for marketing.",
            valid_until=dt.date(2027, 6, 30),
        ),
    )

    assert recorded.due_diligence_decision is models.DueDiligenceDecision.CLEARED_WITH_CONDITIONS
    assert recorded.risk_rating is models.RiskRating.MEDIUM
    assert recorded.due_diligence_decided_by == "Sam"
    assert recorded.due_diligence_decided_at is not None


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"stage": Stage.NEGOTIATION, "cleared_until": TODAY}, "NOT_AGREED"),
        ({"stage": Stage.AGREED}, "DUE_DILIGENCE_NOT_CLEARED"),
        (
            {"stage": Stage.AGREED, "cleared_until": TODAY - dt.timedelta(days=1)},
            "DUE_DILIGENCE_EXPIRED",
        ),
    ],
)
async def test_conversion_is_refused_until_agreed_and_cleared(session, fields, code):
    _, _, opportunity = await _given(session, **fields)

    with pytest.raises(InvalidTransition) as to_membership:
        await pipeline.convert_to_membership(
            session, SYSTEM, opportunity_id=opportunity.id, draft=memberships.MembershipDraft()
        )
    with pytest.raises(InvalidTransition) as to_commitment:
        await pipeline.convert_to_commitment(
            session, SYSTEM, opportunity_id=opportunity.id, terms=TERMS
        )

    assert (to_membership.value.code, to_commitment.value.code) == (code, code)


async def test_a_rejected_prospect_does_not_convert(session):
    _, _, opportunity = await _given(session, stage=Stage.AGREED, cleared_until=TODAY)
    await pipeline.record_due_diligence(
        session,
        SYSTEM,
        opportunity_id=opportunity.id,
        draft=pipeline.DueDiligenceDraft(
            decision=models.DueDiligenceDecision.REJECTED, risk_rating=models.RiskRating.HIGH
        ),
    )

    with pytest.raises(InvalidTransition) as refused:
        await pipeline.convert_to_membership(
            session, SYSTEM, opportunity_id=opportunity.id, draft=memberships.MembershipDraft()
        )

    assert refused.value.code == "DUE_DILIGENCE_NOT_CLEARED"


async def test_conversion_admits_the_prospect_once(session):
    coalition, prospect, opportunity = await _given(
        session, stage=Stage.AGREED, cleared_until=TODAY
    )

    converted = await pipeline.convert_to_membership(
        session, SYSTEM, opportunity_id=opportunity.id, draft=memberships.MembershipDraft()
    )
    await session.commit()
    with pytest.raises(Conflict) as again:
        await pipeline.convert_to_membership(
            session, SYSTEM, opportunity_id=opportunity.id, draft=memberships.MembershipDraft()
        )

    membership = await session.get(models.Membership, converted.converted_membership_id)
    assert membership is not None
    assert (membership.coalition_id, membership.organisation_id, membership.status) == (
        coalition.id,
        prospect.id,
        models.MembershipStatus.ACTIVE,
    )
    assert again.value.code == "ALREADY_CONVERTED"


async def test_conversion_records_the_prospects_pledge_once(session):
    coalition, prospect, opportunity = await _given(
        session, stage=Stage.AGREED, cleared_until=TODAY + dt.timedelta(days=90)
    )

    converted = await pipeline.convert_to_commitment(
        session,
        SYSTEM,
        opportunity_id=opportunity.id,
        terms={**TERMS, "coalition_id": 0, "organisation_id": 0},
    )
    await session.commit()
    with pytest.raises(Conflict) as again:
        await pipeline.convert_to_commitment(
            session, SYSTEM, opportunity_id=opportunity.id, terms=TERMS
        )

    commitment = await session.get(models.Commitment, converted.converted_commitment_id)
    assert commitment is not None
    assert (
        commitment.coalition_id,
        commitment.organisation_id,
        commitment.title,
        commitment.amount,
        commitment.stage,
    ) == (coalition.id, prospect.id, "Connectivity fund", Decimal("250000"), models.Stage.PLEDGED)
    assert again.value.code == "ALREADY_CONVERTED"
    audit = models.AuditRecord
    last = await session.scalar(
        sa.select(audit.action)
        .where(audit.entity_type == "EngagementOpportunity")
        .order_by(audit.id.desc())
        .limit(1)
    )
    assert last == "engagement_opportunity.converted_to_commitment"


async def test_the_pipeline_sends_nothing_to_the_feed(session):
    _, _, opportunity = await _given(session)
    feed_before = await session.scalar(sa.select(sa.func.count()).select_from(models.FeedEvent))

    await pipeline.update_opportunity(
        session, SYSTEM, opportunity_id=opportunity.id, changes={"next_step": "Meet"}
    )
    await pipeline.move_stage(session, SYSTEM, opportunity_id=opportunity.id, stage=Stage.RESEARCH)
    await pipeline.record_due_diligence(
        session,
        SYSTEM,
        opportunity_id=opportunity.id,
        draft=pipeline.DueDiligenceDraft(decision=models.DueDiligenceDecision.PENDING),
    )
    await session.commit()

    feed_after = await session.scalar(sa.select(sa.func.count()).select_from(models.FeedEvent))
    assert feed_after == feed_before


async def test_a_partner_admin_is_refused_everything(session):
    coalition, prospect, opportunity = await _given(
        session, stage=Stage.AGREED, cleared_until=TODAY
    )
    await make_membership(session, coalition, prospect)
    partner = Actor(
        name="Pat",
        role=models.Role.PARTNER_ADMIN,
        organisation_id=prospect.id,
        member_coalition_ids=frozenset({coalition.id}),
    )
    id = opportunity.id
    draft = pipeline.OpportunityDraft(title="Ours", donor_kind=models.DonorKind.CORPORATE)
    dd = pipeline.DueDiligenceDraft(decision=models.DueDiligenceDecision.PENDING)
    attempts = {
        "open": pipeline.open_opportunity(
            session,
            partner,
            coalition_id=coalition.id,
            prospect_organisation_id=prospect.id,
            draft=draft,
        ),
        "update": pipeline.update_opportunity(
            session, partner, opportunity_id=id, changes={"title": "Ours"}
        ),
        "move": pipeline.move_stage(session, partner, opportunity_id=id, stage=Stage.DECLINED),
        "due diligence": pipeline.record_due_diligence(
            session, partner, opportunity_id=id, draft=dd
        ),
        "to membership": pipeline.convert_to_membership(
            session, partner, opportunity_id=id, draft=memberships.MembershipDraft()
        ),
        "to commitment": pipeline.convert_to_commitment(
            session, partner, opportunity_id=id, terms=TERMS
        ),
        "get": pipeline.get(session, partner, opportunity_id=id),
    }

    refused = {}
    for name, attempt in attempts.items():
        with pytest.raises(PermissionDenied) as error:
            await attempt
        refused[name] = error.value.code

    assert refused == dict.fromkeys(attempts, "PERMISSION_DENIED")
    with pytest.raises(PermissionDenied):
        pipeline.listing(partner, coalition_id=coalition.id)


async def test_analysts_read_and_do_not_write(session):
    coalition, _, opportunity = await _given(session)

    seen = await pipeline.get(session, ANALYST, opportunity_id=opportunity.id)
    with pytest.raises(PermissionDenied):
        await pipeline.move_stage(
            session, ANALYST, opportunity_id=opportunity.id, stage=Stage.RESEARCH
        )

    assert seen.id == opportunity.id
    rows = list(await session.scalars(pipeline.listing(ANALYST, coalition_id=coalition.id)))
    assert [row.id for row in rows] == [opportunity.id]


async def test_an_unknown_opportunity_is_not_found(session):
    with pytest.raises(NotFound):
        await pipeline.move_stage(session, SYSTEM, opportunity_id=999_999, stage=Stage.RESEARCH)
