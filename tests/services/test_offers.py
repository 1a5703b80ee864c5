"""Offers: the review state machine, the attestations a coalition requires, who sees drafts."""

from decimal import Decimal

import pytest

from backend import models
from backend.actors import SYSTEM
from backend.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from backend.services import coalitions, offers
from tests.coordination import given_coordination, make_offer
from tests.factories import make_organisation

Status = models.OfferStatus


async def test_the_offer_state_machine_allows_its_moves_and_refuses_the_rest(session):
    world = await given_coordination(session)
    allowed = {(start, end) for start, ends in offers.MOVES.items() for end in ends}
    for start in Status:
        for end in Status:
            offer = await make_offer(session, world, status=start)
            try:
                await offers.move(session, SYSTEM, offer_id=offer.id, to=end)
            except InvalidTransition:
                assert (start, end) not in allowed, (start, end)
            else:
                assert (start, end) in allowed, (start, end)
            await session.rollback()


async def test_only_the_secretariat_reviews_and_the_owner_submits(session):
    world = await given_coordination(session)
    offer = await make_offer(session, world, status=Status.DRAFT)
    submitted = await offers.move(
        session, world.company_editor, offer_id=offer.id, to=Status.UNDER_REVIEW
    )
    await session.commit()
    assert submitted.status is Status.UNDER_REVIEW

    with pytest.raises(PermissionDenied):
        await offers.move(session, world.company_editor, offer_id=offer.id, to=Status.LISTED)
    await session.rollback()
    with pytest.raises(NotFound):
        # Another member does not even see it while it is under review.
        await offers.move(session, world.ministry_editor, offer_id=offer.id, to=Status.WITHDRAWN)
    await session.rollback()
    listed = await offers.move(session, SYSTEM, offer_id=offer.id, to=Status.LISTED)
    assert listed.status is Status.LISTED


async def test_listing_needs_every_attestation_the_coalition_requires(session):
    world = await given_coordination(session)
    await coalitions.update(
        session,
        SYSTEM,
        coalition_id=world.coalition_id,
        changes={"offer_attestations_required": [models.Attestation.LEARNER_DATA_PROTECTION]},
    )
    await session.commit()
    offer = await make_offer(session, world, status=Status.UNDER_REVIEW, attestations=[])

    with pytest.raises(InvalidTransition) as refused:
        await offers.move(session, SYSTEM, offer_id=offer.id, to=Status.LISTED)
    assert refused.value.code == offers.ATTESTATION_REQUIRED
    assert "LEARNER_DATA_PROTECTION" in refused.value.message
    await session.rollback()

    attested = await make_offer(
        session,
        world,
        status=Status.UNDER_REVIEW,
        attestations=[models.Attestation.LEARNER_DATA_PROTECTION],
    )
    listed = await offers.move(session, SYSTEM, offer_id=attested.id, to=Status.LISTED)
    assert listed.status is Status.LISTED


async def test_a_coalition_requiring_nothing_lists_an_offer_without_attestations(session):
    world = await given_coordination(session)
    offer = await make_offer(session, world, attestations=[])
    assert offer.status is Status.LISTED


async def test_drafts_are_seen_by_their_owner_and_the_secretariat_only(session):
    world = await given_coordination(session)
    outsider = await make_organisation(session, name="Outsider")
    draft = await make_offer(session, world, status=Status.DRAFT)
    listed = await make_offer(session, world)
    member = world.ministry_editor

    assert offers.sees(SYSTEM, draft) and offers.sees(world.company_editor, draft)
    assert not offers.sees(member, draft)
    assert offers.sees(member, listed)
    assert not offers.sees(world.actor_of(outsider.id, member=False), listed)
    shown = await session.scalars(
        offers.listing(member, coalition_id=world.coalition_id, status=None)
    )
    assert [offer.id for offer in shown] == [listed.id]


async def test_terms_change_only_in_draft_or_paused_and_capacity_not_below_reserved(session):
    world = await given_coordination(session)
    listed = await make_offer(session, world)
    with pytest.raises(InvalidTransition):
        await offers.update(session, SYSTEM, offer_id=listed.id, changes={"title": "New"})
    await session.rollback()

    paused = await make_offer(session, world, status=Status.PAUSED)
    paused.reserved = Decimal("100")
    session.add(paused)
    await session.commit()
    with pytest.raises(InvalidInput) as refused:
        await offers.update(
            session, SYSTEM, offer_id=paused.id, changes={"capacity": Decimal("99")}
        )
    assert [(i.field, i.code) for i in refused.value.issues] == [("capacity", "BAD_RANGE")]
    await session.rollback()


async def test_bad_offer_terms_are_refused_naming_each_field(session):
    world = await given_coordination(session)
    draft = offers.OfferDraft(
        coalition_id=world.coalition_id,
        organisation_id=world.company_id,
        category=models.InKindCategory.CONTENT,
        title="",
        capacity=Decimal("-1"),
        unit="learner",
        countries=["XX"],
        languages=["portuguese"],
    )
    with pytest.raises(InvalidInput) as refused:
        await offers.create(session, SYSTEM, draft=draft)
    assert {(i.field, i.code) for i in refused.value.issues} == {
        ("title", "REQUIRED"),
        ("capacity", "NOT_POSITIVE"),
        ("countries.0", "UNKNOWN_CODE"),
        ("languages.0", "BAD_FORMAT"),
    }
