"""Matching a need to a listed offer: who proposes and accepts, the commitment made on
acceptance, capacity reserved under concurrent accepts, and the need's derived status."""

import asyncio
import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import col

from backend import models
from backend.actors import SYSTEM
from backend.errors import Conflict, InvalidInput, InvalidTransition, PermissionDenied
from backend.services import deliveries, matches, memberships, needs
from tests.coordination import given_coordination, make_need, make_offer
from tests.factories import make_organisation

Status = models.MatchStatus


async def test_a_side_that_proposes_has_accepted_and_the_other_side_makes_the_commitment(
    session,
):
    world = await given_coordination(session)
    need = await make_need(session, world)
    offer = await make_offer(session, world)

    match = await matches.propose(
        session, world.ministry_editor, need_id=need.id, offer_id=offer.id
    )
    assert (match.status, match.quantity) == (Status.PROPOSED, Decimal("30000"))
    assert match.need_accepted_at is not None and match.offer_accepted_at is None
    assert match.score == 90 and match.reasons[0] == "connectivity offered in learner"
    await session.commit()

    accepted = await matches.accept(session, world.company_editor, match_id=match.id)
    await session.commit()

    assert accepted.status is Status.ACCEPTED
    commitment = await session.get(models.Commitment, accepted.commitment_id)
    assert commitment is not None
    assert (commitment.organisation_id, commitment.coalition_id) == (
        world.company_id,
        world.coalition_id,
    )
    assert (commitment.stage, commitment.resource_kind) == (
        models.Stage.COMMITTED,
        models.ResourceKind.IN_KIND,
    )
    assert commitment.countries == ["MZ"]
    assert need.ref in commitment.description and offer.ref in commitment.description
    [line] = await session.scalars(
        sa.select(models.InKindLine).where(col(models.InKindLine.commitment_id) == commitment.id)
    )
    assert (line.category, line.quantity, line.unit) == (
        models.InKindCategory.CONNECTIVITY,
        Decimal("30000"),
        "learner",
    )
    assert line.free_until == offer.free_until
    await session.refresh(offer)
    await session.refresh(need)
    assert (offer.reserved, offer.capacity - offer.reserved) == (Decimal("30000"), 0)
    assert need.status is models.NeedStatus.PARTIALLY_MATCHED


async def test_of_two_concurrent_accepts_beyond_the_offers_capacity_exactly_one_succeeds(
    session, session_factory
):
    world = await given_coordination(session)
    offer = await make_offer(session, world, capacity=Decimal("30000"))
    first_need = await make_need(session, world, quantity=Decimal("20000"))
    second_need = await make_need(session, world, quantity=Decimal("20000"), title="Teachers")
    proposals = [
        await matches.propose(session, world.company_editor, need_id=need.id, offer_id=offer.id)
        for need in (first_need, second_need)
    ]
    await session.commit()
    assert [match.quantity for match in proposals] == [Decimal("20000")] * 2

    async def accept(match_id):
        async with session_factory() as own, own.begin():
            return await matches.accept(own, world.ministry_editor, match_id=match_id)

    outcomes = await asyncio.wait_for(
        asyncio.gather(*(accept(match.id) for match in proposals), return_exceptions=True),
        timeout=30,
    )

    [winner] = [outcome for outcome in outcomes if isinstance(outcome, models.Match)]
    [loser] = [outcome for outcome in outcomes if outcome is not winner]
    assert isinstance(loser, Conflict) and loser.code == matches.CAPACITY_EXCEEDED
    row = await session.get(models.Offer, offer.id, populate_existing=True)
    assert row.reserved == Decimal("20000")
    made = await session.scalar(
        sa.select(sa.func.count())
        .select_from(models.Commitment)
        .where(col(models.Commitment.organisation_id) == world.company_id)
    )
    assert made == 1
    statuses = await session.scalars(
        sa.select(models.Match.status).where(col(models.Match.offer_id) == offer.id)
    )
    assert sorted(statuses) == [Status.ACCEPTED, Status.PROPOSED]


async def test_both_sides_accepting_at_once_make_exactly_one_commitment(session, session_factory):
    world = await given_coordination(session)
    need = await make_need(session, world, quantity=Decimal("1000"))
    offer = await make_offer(session, world, capacity=Decimal("5000"))
    match = await matches.propose(session, SYSTEM, need_id=need.id, offer_id=offer.id)
    await session.commit()
    match_id = match.id

    async def accept(side):
        async with session_factory() as own, own.begin():
            return await matches.accept(own, side, match_id=match_id)

    await asyncio.wait_for(
        asyncio.gather(accept(world.ministry_editor), accept(world.company_editor)), timeout=30
    )

    row = await session.get(models.Match, match_id, populate_existing=True)
    assert row.status is Status.ACCEPTED and row.commitment_id is not None
    assert (row.need_accepted_at is not None, row.offer_accepted_at is not None) == (True, True)
    made = await session.scalar(
        sa.select(sa.func.count())
        .select_from(models.Commitment)
        .where(col(models.Commitment.organisation_id) == world.company_id)
    )
    assert made == 1


async def test_an_offering_member_suspended_after_its_yes_makes_no_commitment(session):
    world = await given_coordination(session)
    need = await make_need(session, world)
    offer = await make_offer(session, world)
    match = await matches.propose(session, world.company_editor, need_id=need.id, offer_id=offer.id)
    match_id = match.id
    membership = await session.scalar(
        sa.select(models.Membership).where(
            col(models.Membership.organisation_id) == world.company_id
        )
    )
    await memberships.update(
        session,
        SYSTEM,
        membership_id=membership.id,
        changes={"status": models.MembershipStatus.SUSPENDED},
    )
    await session.commit()

    with pytest.raises(Conflict) as refused:
        await matches.accept(session, world.ministry_editor, match_id=match_id)
    assert refused.value.code == matches.OFFER_SIDE_NOT_MEMBER
    await session.rollback()
    row = await session.get(models.Match, match_id, populate_existing=True)
    assert (row.status, row.commitment_id) == (Status.PROPOSED, None)


async def test_accepted_matches_never_cover_more_than_the_need(session):
    world = await given_coordination(session)
    need = await make_need(session, world, quantity=Decimal("1000"))
    first = await make_offer(session, world, capacity=Decimal("800"))
    second = await make_offer(session, world, capacity=Decimal("800"), title="Other")
    proposed = [
        await matches.propose(session, world.company_editor, need_id=need.id, offer_id=offer.id)
        for offer in (first, second)
    ]
    await session.commit()
    await matches.accept(session, world.ministry_editor, match_id=proposed[0].id)
    await session.commit()

    with pytest.raises(Conflict) as refused:
        await matches.accept(session, world.ministry_editor, match_id=proposed[1].id)
    assert refused.value.code == matches.NEED_COVERED
    await session.rollback()


async def test_deliveries_against_the_commitment_move_the_need_to_fulfilled(session):
    world = await given_coordination(session)
    need = await make_need(session, world, quantity=Decimal("1000"))
    offer = await make_offer(session, world, capacity=Decimal("5000"))
    match = await matches.propose(session, SYSTEM, need_id=need.id, offer_id=offer.id)
    await matches.accept(session, world.ministry_editor, match_id=match.id)
    await matches.accept(session, world.company_editor, match_id=match.id)
    await session.commit()
    await session.refresh(need)
    assert (match.quantity, need.status) == (Decimal("1000"), models.NeedStatus.MATCHED)
    [line] = await session.scalars(
        sa.select(models.InKindLine).where(
            col(models.InKindLine.commitment_id) == match.commitment_id
        )
    )
    commitment = await session.get(models.Commitment, match.commitment_id)

    async def deliver(quantity):
        await deliveries.report(
            session,
            world.company_editor,
            commitment_id=commitment.id,
            draft=deliveries.DeliveryDraft(
                delivered_on=dt.date.today(),
                in_kind_line_id=line.id,
                quantity=Decimal(quantity),
                country="MZ",
            ),
        )
        await session.commit()
        await session.refresh(need)
        return need.status

    assert await deliver("600") is models.NeedStatus.MATCHED
    assert await deliver("400") is models.NeedStatus.FULFILLED
    with pytest.raises(InvalidTransition):
        await needs.cancel(session, world.ministry_editor, need_id=need.id)
    await session.rollback()


async def test_who_may_propose_accept_decline_and_withdraw(session):
    world = await given_coordination(session)
    outsider = await make_organisation(session, name="Outsider")
    need = await make_need(session, world)
    offer = await make_offer(session, world)
    viewer = world.actor_of(world.company_id, models.Role.PARTNER_VIEWER)

    for refused in (world.actor_of(outsider.id, member=False), viewer):
        with pytest.raises((PermissionDenied, Exception)):
            await matches.propose(session, refused, need_id=need.id, offer_id=offer.id)
        await session.rollback()

    match = await matches.propose(session, SYSTEM, need_id=need.id, offer_id=offer.id)
    assert (match.need_accepted_at, match.offer_accepted_at) == (None, None)
    await session.commit()
    # The secretariat proposes but accepts only for needs it posted itself.
    with pytest.raises(PermissionDenied):
        await matches.accept(session, SYSTEM, match_id=match.id)
    await session.rollback()
    with pytest.raises(PermissionDenied):
        await matches.withdraw(session, world.company_editor, match_id=match.id)
    await session.rollback()

    declined = await matches.decline(
        session, world.company_editor, match_id=match.id, reason="Not in our network"
    )
    assert (declined.status, declined.closing_reason) == (Status.DECLINED, "Not in our network")
    await session.commit()


async def test_the_match_state_machine_refuses_moves_from_its_ends(session):
    world = await given_coordination(session)
    need = await make_need(session, world)
    offer = await make_offer(session, world)
    match = await matches.propose(session, world.company_editor, need_id=need.id, offer_id=offer.id)
    await matches.withdraw(session, world.company_editor, match_id=match.id)
    await session.commit()

    for move in (matches.accept, matches.decline, matches.withdraw):
        with pytest.raises(InvalidTransition):
            await move(
                session,
                world.ministry_editor if move is not matches.withdraw else SYSTEM,
                match_id=match.id,
            )
        await session.rollback()


async def test_an_offer_that_cannot_answer_the_need_is_refused_naming_why(session):
    world = await given_coordination(session)
    need = await make_need(session, world, offline_required=True)
    offer = await make_offer(session, world, offline_capable=False)
    draft = await make_offer(session, world, status=models.OfferStatus.DRAFT)
    need_id, offer_id, draft_id = need.id, offer.id, draft.id

    with pytest.raises(InvalidInput) as refused:
        await matches.propose(session, SYSTEM, need_id=need_id, offer_id=offer_id)
    [issue] = refused.value.issues
    assert (issue.field, issue.code) == ("offer_id", matches.OFFER_DOES_NOT_FIT)
    assert "offline" in issue.message
    await session.rollback()
    with pytest.raises(InvalidTransition):
        await matches.propose(session, SYSTEM, need_id=need_id, offer_id=draft_id)
    await session.rollback()
    with pytest.raises(InvalidInput) as too_much:
        await matches.propose(
            session, SYSTEM, need_id=need_id, offer_id=offer_id, quantity=Decimal("1")
        )
    assert [i.code for i in too_much.value.issues] == [matches.OFFER_DOES_NOT_FIT]
    await session.rollback()


async def test_suggested_offers_come_ranked_from_the_listed_catalogue_only(session):
    world = await given_coordination(session)
    need = await make_need(session, world, low_bandwidth=True)
    await make_offer(session, world, title="Best", countries=["MZ"])
    await make_offer(session, world, title="Worldwide", countries=[], worldwide=True)
    await make_offer(session, world, title="Not in MZ", countries=["KE"])
    await make_offer(session, world, title="Draft", status=models.OfferStatus.DRAFT)
    await make_offer(session, world, title="Devices", category=models.InKindCategory.DEVICES)

    ranked = await matches.suggested_offers(session, world.ministry_editor, need, first=5)

    assert [(offer.title, suggestion.score) for offer, suggestion in ranked] == [
        ("Best", 75),
        ("Worldwide", 65),
    ]
    assert ranked[0][1].reasons[-2] == "low bandwidth needed, the offer is not made for it"
