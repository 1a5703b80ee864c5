"""The demo's coordination layer: needs, offers, matches, the pipeline and visibility plans.

Fed through the services like the rest of the demo, so the rules, audit records and feed
events apply: ministries' staff post their needs and accept matches for them, members'
staff write and submit their offers, the secretariat (SYSTEM) reviews offers, posts needs
for countries without a ministry member, keeps the pipeline and follows up visibility.
Only the learning coalition has them, and only when the demo is seeded through the
services (the bulk writer leaves them out: they are a handful of rows, not a load).
"""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import models
from backend.actors import SYSTEM, Actor
from backend.services import matches, needs, offers, pipeline, visibility_plans

_C, _Offer, _Stage = models.InKindCategory, models.OfferStatus, models.OpportunityStage
ATTESTED = [
    models.Attestation.LEARNER_DATA_PROTECTION,
    models.Attestation.NO_COMMERCIAL_USE_OF_LEARNER_DATA,
]


@dataclass(frozen=True)
class NeedFact:
    key: str
    # The ministry's acronym; None: the secretariat posts it for the country.
    ministry: str | None
    country: str
    category: models.InKindCategory
    title: str
    quantity: int
    unit: str
    languages: list[str] = field(default_factory=list)
    target_groups: list[models.TargetGroup] = field(default_factory=list)
    offline_required: bool = False
    low_bandwidth: bool = False
    device_type: str | None = None
    priority: models.NeedPriority = models.NeedPriority.MEDIUM
    needed_in_days: int = 120


@dataclass(frozen=True)
class OfferFact:
    key: str
    organisation: str
    category: models.InKindCategory
    title: str
    capacity: int
    unit: str
    countries: list[str]
    # Where it ends up: DRAFT (never submitted), UNDER_REVIEW or LISTED.
    status: models.OfferStatus
    languages: list[str] = field(default_factory=list)
    offline_capable: bool = False
    low_bandwidth_friendly: bool = False


_L = models.TargetGroup
NEEDS = [
    NeedFact("connectivity", "PCMSA", "BR", _C.CONNECTIVITY,
             "Mobile data for 50,000 learners studying from home", 50_000, "learner", ["pt"],
             [_L.LEARNERS], low_bandwidth=True, priority=models.NeedPriority.HIGH,
             needed_in_days=90),
    NeedFact("training", None, "MZ", _C.TRAINING,
             "Blended-pedagogy training in Portuguese for secondary teachers", 2_000, "seat",
             ["pt"], [_L.TEACHERS]),
    NeedFact("content", None, "NP", _C.CONTENT,
             "Offline lessons for schools in low-bandwidth mountain districts", 20_000,
             "licence", ["ne", "en"], [_L.LEARNERS, _L.GIRLS], offline_required=True,
             low_bandwidth=True),
    NeedFact("devices", "LCEB", "KE", _C.DEVICES,
             "Rugged tablets for rural primary schools", 1_500, "device", ["sw", "en"],
             [_L.LEARNERS, _L.LEARNERS_WITH_DISABILITIES], offline_required=True,
             device_type="tablet", priority=models.NeedPriority.HIGH),
]  # fmt: skip
OFFERS = [
    OfferFact("data", "BWT", _C.CONNECTIVITY, "Zero-rated learning data for home study",
              80_000, "learner", ["BR", "MZ", "KE"], _Offer.LISTED, ["pt", "en"],
              low_bandwidth_friendly=True),
    OfferFact("course", "OCI", _C.TRAINING, "Blended teacher-training course in Portuguese",
              5_000, "seat", ["MZ", "BR", "AO"], _Offer.LISTED, ["pt"]),
    OfferFact("tablets", "SLD", _C.DEVICES, "Refurbished tablets with preloaded lessons", 800,
              "device", ["KE", "PH"], _Offer.LISTED, ["en"], offline_capable=True),
    OfferFact("packs", "NCS", _C.CONTENT, "Offline content packs for low-bandwidth schools",
              50_000, "licence", ["NP", "BD", "PK"], _Offer.UNDER_REVIEW, ["ne", "en"],
              offline_capable=True, low_bandwidth_friendly=True),
    OfferFact("hotspots", "KIMO", _C.CONNECTIVITY, "Community Wi-Fi hotspots near schools",
              300, "learner", ["KE"], _Offer.DRAFT, ["sw", "en"]),
]  # fmt: skip


@dataclass(frozen=True)
class OpportunityFact:
    prospect: str
    title: str
    donor_kind: models.DonorKind
    motivations: list[models.Motivation]
    estimated_usd: int
    probability: int
    stage: models.OpportunityStage
    decision: models.DueDiligenceDecision | None = None


_M, _D = models.Motivation, models.DueDiligenceDecision
OPPORTUNITIES = [
    OpportunityFact("ALSAT", "Satellite backhaul for rural schools", models.DonorKind.CORPORATE,
                    [_M.MARKET_ENTRY, _M.BRAND_CSR], 750_000, 60, _Stage.PROPOSAL,
                    _D.CLEARED_WITH_CONDITIONS),
    OpportunityFact("SSK", "Solar kiosks for community learning hubs",
                    models.DonorKind.CORPORATE, [_M.MARKET_ENTRY], 120_000, 30, _Stage.RESEARCH),
    OpportunityFact("PSS", "Solar classrooms programme", models.DonorKind.CORPORATE_FOUNDATION,
                    [_M.PHILANTHROPY, _M.EMPLOYEE_ENGAGEMENT], 200_000, 20, _Stage.ON_HOLD,
                    _D.PENDING),
    OpportunityFact("NCS", "Cloud credits for national learning platforms",
                    models.DonorKind.CORPORATE, [_M.BRAND_CSR, _M.TALENT], 250_000, 90,
                    _Stage.AGREED, _D.CLEARED),
]  # fmt: skip


async def seed(
    session: AsyncSession,
    *,
    coalition_id: int,
    organisations: Mapping[str, int],
    workstream_id: int,
    partner: Callable[[str], Actor],
    today: dt.date,
) -> None:
    """`partner(acronym)`: a member of that organisation's staff, acting through the API."""
    posted: dict[str, models.Need] = {}
    listed: dict[str, models.Offer] = {}
    for need in NEEDS:
        posted[need.key] = await _need(session, coalition_id, organisations, partner, need, today)
    for offer in OFFERS:
        listed[offer.key] = await _offer(session, coalition_id, organisations, partner, offer)
    await _matches(session, posted, listed, partner)
    for opportunity in OPPORTUNITIES:
        await _opportunity(session, coalition_id, organisations, opportunity, today)
    await _plans(session, coalition_id, workstream_id, partner, organisations, today)


async def _need(
    session: AsyncSession,
    coalition_id: int,
    organisations: Mapping[str, int],
    partner: Callable[[str], Actor],
    fact: NeedFact,
    today: dt.date,
) -> models.Need:
    organisation_id = organisations[fact.ministry] if fact.ministry else None
    draft = needs.NeedDraft(
        coalition_id=coalition_id,
        organisation_id=organisation_id,
        country=fact.country,
        category=fact.category,
        title=fact.title,
        quantity=Decimal(fact.quantity),
        unit=fact.unit,
        languages=fact.languages,
        target_groups=list(fact.target_groups),
        offline_required=fact.offline_required,
        low_bandwidth=fact.low_bandwidth,
        device_type=fact.device_type,
        priority=fact.priority,
        needed_by=today + dt.timedelta(days=fact.needed_in_days),
    )
    actor = partner(fact.ministry) if fact.ministry else SYSTEM
    return await needs.post(session, actor, draft=draft)


async def _offer(
    session: AsyncSession,
    coalition_id: int,
    organisations: Mapping[str, int],
    partner: Callable[[str], Actor],
    fact: OfferFact,
) -> models.Offer:
    staff = partner(fact.organisation)
    draft = offers.OfferDraft(
        coalition_id=coalition_id,
        organisation_id=organisations[fact.organisation],
        category=fact.category,
        title=fact.title,
        capacity=Decimal(fact.capacity),
        unit=fact.unit,
        countries=fact.countries,
        languages=fact.languages,
        offline_capable=fact.offline_capable,
        low_bandwidth_friendly=fact.low_bandwidth_friendly,
        attestations=list(ATTESTED),
    )
    offer = await offers.create(session, staff, draft=draft)
    await session.flush()
    assert offer.id is not None
    if fact.status is not _Offer.DRAFT:
        await offers.move(session, staff, offer_id=offer.id, to=_Offer.UNDER_REVIEW)
    if fact.status is _Offer.LISTED:
        await offers.move(session, SYSTEM, offer_id=offer.id, to=_Offer.LISTED)
    return offer


async def _matches(
    session: AsyncSession,
    posted: Mapping[str, models.Need],
    listed: Mapping[str, models.Offer],
    partner: Callable[[str], Actor],
) -> None:
    """One accepted by both sides, one awaiting the secretariat's answer, one declined."""

    async def propose(actor: Actor, need: str, offer: str, quantity: int) -> int:
        found_need, found_offer = posted[need], listed[offer]
        assert found_need.id is not None and found_offer.id is not None
        match = await matches.propose(
            session,
            actor,
            need_id=found_need.id,
            offer_id=found_offer.id,
            quantity=Decimal(quantity),
        )
        assert match.id is not None
        return match.id

    accepted = await propose(partner("PCMSA"), "connectivity", "data", 30_000)
    await matches.accept(session, partner("BWT"), match_id=accepted)
    await propose(partner("OCI"), "training", "course", 2_000)
    declined = await propose(SYSTEM, "devices", "tablets", 800)
    await matches.decline(
        session,
        partner("LCEB"),
        match_id=declined,
        reason="The tablets come without a Kiswahili keyboard; the schools need one.",
    )


async def _opportunity(
    session: AsyncSession,
    coalition_id: int,
    organisations: Mapping[str, int],
    fact: OpportunityFact,
    today: dt.date,
) -> None:
    opportunity = await pipeline.open_opportunity(
        session,
        SYSTEM,
        coalition_id=coalition_id,
        prospect_organisation_id=organisations[fact.prospect],
        draft=pipeline.OpportunityDraft(
            title=fact.title,
            donor_kind=fact.donor_kind,
            motivations=fact.motivations,
            estimated_value=Decimal(fact.estimated_usd),
            currency="USD",
            probability=fact.probability,
            next_step="Call with the partnerships lead",
            next_step_on=today + dt.timedelta(days=14),
        ),
    )
    await session.flush()
    assert opportunity.id is not None
    opportunity_id = opportunity.id
    if fact.decision is not None:
        cleared = fact.decision in pipeline.CLEARED
        await pipeline.record_due_diligence(
            session,
            SYSTEM,
            opportunity_id=opportunity_id,
            draft=pipeline.DueDiligenceDraft(
                decision=fact.decision,
                risk_rating=models.RiskRating.LOW if cleared else None,
                conditions=(
                    "No branding on devices given to learners."
                    if fact.decision is _D.CLEARED_WITH_CONDITIONS
                    else None
                ),
                valid_until=today + dt.timedelta(days=365) if cleared else None,
                decided_by="Due-diligence panel",
            ),
        )
    # On hold after its research; the others walk forward one stage at a time.
    target = _Stage.RESEARCH if fact.stage is _Stage.ON_HOLD else fact.stage
    for stage in pipeline.FORWARD[1 : pipeline.FORWARD.index(target) + 1]:
        await pipeline.move_stage(session, SYSTEM, opportunity_id=opportunity_id, stage=stage)
    if fact.stage is _Stage.ON_HOLD:
        await pipeline.move_stage(
            session, SYSTEM, opportunity_id=opportunity_id, stage=_Stage.ON_HOLD
        )
    if fact.stage is _Stage.AGREED:
        await pipeline.convert_to_commitment(
            session,
            SYSTEM,
            opportunity_id=opportunity_id,
            terms=_terms(fact, today),
        )


def _terms(fact: OpportunityFact, today: dt.date) -> dict[str, object]:
    """The agreed pledge: the opportunity's estimate, in cash over two years."""
    return {
        "title": fact.title,
        "resource_kind": models.ResourceKind.FINANCIAL,
        "amount": Decimal(fact.estimated_usd),
        "currency": "USD",
        "value_date": today,
        "countries": ["NP", "MZ"],
        "start_date": today,
        "end_date": today + dt.timedelta(days=730),
    }


async def _plans(
    session: AsyncSession,
    coalition_id: int,
    workstream_id: int,
    partner: Callable[[str], Actor],
    organisations: Mapping[str, int],
    today: dt.date,
) -> None:
    """The largest open public commitment's plan, approved by its donor, with one action
    published and one overdue; and the connectivity flagship's plan."""
    commitment = models.Commitment
    largest = await session.scalar(
        sa.select(commitment)
        .where(
            col(commitment.coalition_id) == coalition_id,
            col(commitment.stage).in_(
                [models.Stage.PLEDGED, models.Stage.COMMITTED, models.Stage.IN_DELIVERY]
            ),
            col(commitment.visibility) == models.Visibility.PUBLIC,
            col(commitment.embargo_until).is_(None),
            col(commitment.amount_usd).is_not(None),
        )
        .order_by(col(commitment.amount_usd).desc(), col(commitment.id))
        .limit(1)
    )
    assert largest is not None and largest.id is not None
    acronym = {number: key for key, number in organisations.items()}[largest.organisation_id]
    staff = partner(acronym)
    plan = await visibility_plans.set_for_commitment(
        session,
        staff,
        commitment_id=largest.id,
        draft=visibility_plans.PlanDraft(
            acknowledgement="With the support of the Learning Continuity Coalition.",
            logo_rules="The coalition's logo beside the partner's, never larger.",
            donor_approval_required=True,
        ),
    )
    await session.flush()
    assert plan.id is not None
    await visibility_plans.record_donor_approval(
        session, SYSTEM, plan_id=plan.id, approved_by="Head of communications"
    )
    published = await _action(
        session, staff, plan.id, models.CommunicationKind.PRESS_RELEASE,
        "Press release announcing the contribution", today - dt.timedelta(days=40),
    )  # fmt: skip
    await visibility_plans.publish_action(
        session,
        staff,
        action_id=published,
        published_on=today - dt.timedelta(days=38),
        link="https://example.org/news/contribution",
    )
    await _action(
        session, staff, plan.id, models.CommunicationKind.SOCIAL_POST,
        "Social posts from the first schools reached", today - dt.timedelta(days=10),
    )  # fmt: skip
    flagship = await visibility_plans.set_for_workstream(
        session,
        SYSTEM,
        workstream_id=workstream_id,
        draft=visibility_plans.PlanDraft(
            acknowledgement="Part of the coalition's Connectivity flagship."
        ),
    )
    await session.flush()
    assert flagship.id is not None
    await _action(
        session, SYSTEM, flagship.id, models.CommunicationKind.REPORT_MENTION,
        "Mention in the flagship's annual report", today + dt.timedelta(days=60),
    )  # fmt: skip


async def _action(
    session: AsyncSession,
    actor: Actor,
    plan_id: int,
    kind: models.CommunicationKind,
    title: str,
    planned_on: dt.date,
) -> int:
    action = await visibility_plans.add_action(
        session,
        actor,
        plan_id=plan_id,
        draft=visibility_plans.ActionDraft(kind=kind, title=title, planned_on=planned_on),
    )
    await session.flush()
    assert action.id is not None
    return action.id
