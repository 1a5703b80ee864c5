"""Needs: who posts them, bad input refused by field, cancelling, and the derived status."""

from decimal import Decimal

import pytest

from backend import models
from backend.actors import SYSTEM
from backend.errors import InvalidInput, InvalidTransition, PermissionDenied
from backend.services import matches, needs
from tests.coordination import given_coordination, make_need, make_offer


def draft_for(world, organisation, **fields):
    return needs.NeedDraft(
        **{
            "coalition_id": world.coalition_id,
            "organisation_id": organisation,
            "country": "mz",
            "category": models.InKindCategory.TRAINING,
            "title": "Teacher training in Portuguese",
            "quantity": Decimal("2000"),
            "unit": "teacher",
            "languages": ["PT"],
            "target_groups": [models.TargetGroup.TEACHERS],
            **fields,
        }
    )


async def test_a_member_ministry_posts_its_own_need_and_a_company_may_not(session):
    world = await given_coordination(session)

    need = await needs.post(
        session, world.ministry_editor, draft=draft_for(world, world.ministry_id)
    )
    assert (need.status, need.country, need.languages) == (models.NeedStatus.OPEN, "MZ", ["pt"])
    await session.commit()

    with pytest.raises(InvalidInput) as refused:
        await needs.post(session, world.company_editor, draft=draft_for(world, world.company_id))
    assert [(i.field, i.code) for i in refused.value.issues] == [("organisation_id", "NOT_ALLOWED")]
    await session.rollback()
    with pytest.raises(PermissionDenied):
        # Only the secretariat posts a need for a country without a ministry behind it.
        await needs.post(session, world.ministry_editor, draft=draft_for(world, None))
    await session.rollback()
    posted = await needs.post(session, SYSTEM, draft=draft_for(world, None))
    assert posted.organisation_id is None


async def test_bad_need_terms_are_refused_naming_each_field(session):
    world = await given_coordination(session)
    with pytest.raises(InvalidInput) as refused:
        await needs.post(
            session,
            SYSTEM,
            draft=draft_for(world, None, country="ZZ", quantity=Decimal(0), unit="", title=" "),
        )
    assert {(i.field, i.code) for i in refused.value.issues} == {
        ("country", "UNKNOWN_CODE"),
        ("quantity", "NOT_POSITIVE"),
        ("unit", "REQUIRED"),
        ("title", "REQUIRED"),
    }


async def test_status_follows_accepted_matches_and_cancelling_is_final(session):
    world = await given_coordination(session)
    need = await make_need(session, world, quantity=Decimal("1000"))
    need_id = need.id
    offer = await make_offer(session, world, capacity=Decimal("400"))
    other = await make_offer(session, world, capacity=Decimal("400"), title="Other")
    other_id = other.id
    first = await matches.propose(
        session, world.ministry_editor, need_id=need_id, offer_id=offer.id
    )
    pending = await matches.propose(
        session, world.ministry_editor, need_id=need_id, offer_id=other.id
    )
    await session.commit()
    await session.refresh(need)
    assert need.status is models.NeedStatus.OPEN  # proposals alone match nothing

    await matches.accept(session, world.company_editor, match_id=first.id)
    await session.commit()
    await session.refresh(need)
    assert need.status is models.NeedStatus.PARTIALLY_MATCHED

    await needs.cancel(session, world.ministry_editor, need_id=need_id)
    await session.commit()
    await session.refresh(pending)
    await session.refresh(need)
    assert (need.status, pending.status) == (
        models.NeedStatus.CANCELLED,
        models.MatchStatus.WITHDRAWN,
    )
    with pytest.raises(InvalidTransition):
        await needs.cancel(session, world.ministry_editor, need_id=need_id)
    await session.rollback()
    with pytest.raises(InvalidTransition):
        await needs.update(session, SYSTEM, need_id=need_id, changes={"title": "Again"})
    await session.rollback()
    with pytest.raises(InvalidTransition):
        await matches.propose(session, SYSTEM, need_id=need_id, offer_id=other_id)
    await session.rollback()


async def test_a_need_never_shrinks_below_what_accepted_matches_cover(session):
    world = await given_coordination(session)
    need = await make_need(session, world, quantity=Decimal("1000"))
    need_id = need.id
    offer = await make_offer(session, world, capacity=Decimal("400"))
    match = await matches.propose(
        session, world.ministry_editor, need_id=need_id, offer_id=offer.id
    )
    await matches.accept(session, world.company_editor, match_id=match.id)
    await session.commit()

    with pytest.raises(InvalidInput) as refused:
        await needs.update(session, SYSTEM, need_id=need_id, changes={"quantity": Decimal(300)})
    assert [(i.field, i.code) for i in refused.value.issues] == [("quantity", "BAD_RANGE")]
    await session.rollback()
    shrunk = await needs.update(
        session, SYSTEM, need_id=need_id, changes={"quantity": Decimal(400)}
    )
    assert shrunk.status is models.NeedStatus.MATCHED
