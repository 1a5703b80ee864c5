"""The commitment state machine, every (from, to) pair, and concurrent writers."""

import asyncio
import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from backend import models
from backend.actors import SYSTEM, Actor
from backend.errors import InvalidTransition, StaleVersion
from backend.services import commitments, deliveries
from tests.factories import make_coalition, make_commitment, make_membership, make_organisation

Stage = models.Stage
ADVANCES = [
    (Stage.PLEDGED, Stage.COMMITTED),
    (Stage.COMMITTED, Stage.IN_DELIVERY),
    (Stage.IN_DELIVERY, Stage.FULFILLED),
]
REFUSED_ADVANCES = [
    (start, target) for start in Stage for target in Stage if (start, target) not in ADVANCES
]
OPEN = [Stage.PLEDGED, Stage.COMMITTED, Stage.IN_DELIVERY]
CLOSED = [Stage.FULFILLED, Stage.WITHDRAWN, Stage.CANCELLED]


async def _given(session, stage):
    """A commitment at `stage` (its id and version), and an editor of the organisation that
    pledged it."""
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    await make_membership(session, coalition, organisation)
    commitment = await make_commitment(session, coalition, organisation, stage=stage)
    editor = Actor(
        name="Ann",
        role=models.Role.PARTNER_EDITOR,
        organisation_id=organisation.id,
        member_coalition_ids=frozenset({coalition.id}),
    )
    assert commitment.id is not None
    return commitment.id, commitment.version, editor


async def _state(session, commitment_id):
    row = await session.get(models.Commitment, commitment_id, populate_existing=True)
    return row.stage, row.version, row.closing_reason


def test_the_table_covers_every_pair():
    assert len(ADVANCES) + len(REFUSED_ADVANCES) == len(Stage) ** 2 == 36


@pytest.mark.parametrize(("start", "target"), ADVANCES)
async def test_a_commitment_advances_one_step(session, start, target):
    commitment_id, version, editor = await _given(session, start)

    await commitments.advance(
        session, editor, commitment_id=commitment_id, version=version, stage=target
    )
    await session.commit()

    assert await _state(session, commitment_id) == (target, version + 1, None)


@pytest.mark.parametrize(("start", "target"), REFUSED_ADVANCES)
async def test_every_other_advance_is_refused(session, start, target):
    commitment_id, version, editor = await _given(session, start)
    before = await _state(session, commitment_id)

    with pytest.raises(InvalidTransition) as refused:
        await commitments.advance(
            session, editor, commitment_id=commitment_id, version=version, stage=target
        )
    await session.rollback()

    assert refused.value.code == "INVALID_TRANSITION"
    assert await _state(session, commitment_id) == before
    assert before[:2] == (start, version)


@pytest.mark.parametrize("start", OPEN)
async def test_the_partner_withdraws_an_open_commitment(session, start):
    commitment_id, version, editor = await _given(session, start)

    await commitments.withdraw(
        session, editor, commitment_id=commitment_id, version=version, reason="Cut"
    )
    await session.commit()

    assert await _state(session, commitment_id) == (Stage.WITHDRAWN, version + 1, "Cut")


@pytest.mark.parametrize("start", OPEN)
async def test_the_secretariat_cancels_an_open_commitment(session, start):
    commitment_id, version, _ = await _given(session, start)

    await commitments.cancel(
        session, SYSTEM, commitment_id=commitment_id, version=version, reason="Void"
    )
    await session.commit()

    assert await _state(session, commitment_id) == (Stage.CANCELLED, version + 1, "Void")


@pytest.mark.parametrize("start", CLOSED)
@pytest.mark.parametrize("close", ["withdraw", "cancel"])
async def test_nothing_leaves_a_closed_stage(session, start, close):
    commitment_id, version, editor = await _given(session, start)
    actor = editor if close == "withdraw" else SYSTEM
    before = await _state(session, commitment_id)

    with pytest.raises(InvalidTransition):
        await getattr(commitments, close)(
            session, actor, commitment_id=commitment_id, version=version, reason="Late"
        )
    await session.rollback()

    assert await _state(session, commitment_id) == before


def _cash(**fields):
    return deliveries.DeliveryDraft(
        delivered_on=dt.date.today(), amount=Decimal("100"), currency="USD", **fields
    )


async def test_the_first_delivery_starts_delivery_and_bumps_the_version(session):
    commitment_id, _, editor = await _given(session, Stage.COMMITTED)

    await deliveries.report(session, editor, commitment_id=commitment_id, draft=_cash())
    await session.commit()
    after_first = await _state(session, commitment_id)
    await deliveries.report(session, editor, commitment_id=commitment_id, draft=_cash())
    await session.commit()

    assert after_first == (Stage.IN_DELIVERY, 3, None)
    assert await _state(session, commitment_id) == (Stage.IN_DELIVERY, 3, None)


@pytest.mark.parametrize("start", [Stage.PLEDGED, *CLOSED])
async def test_deliveries_are_refused_unless_the_commitment_is_firm(session, start):
    commitment_id, version, editor = await _given(session, start)

    with pytest.raises(InvalidTransition):
        await deliveries.report(session, editor, commitment_id=commitment_id, draft=_cash())
    await session.rollback()

    assert await session.scalar(sa.select(sa.func.count()).select_from(models.Delivery)) == 0
    assert (await _state(session, commitment_id))[:2] == (start, version)


async def test_of_two_concurrent_revisions_of_one_version_exactly_one_wins(
    session, session_factory
):
    commitment_id, _, editor = await _given(session, Stage.PLEDGED)

    async def revise(title):
        async with session_factory() as own, own.begin():
            return await commitments.revise(
                own, editor, commitment_id=commitment_id, version=1, changes={"title": title}
            )

    outcomes = await asyncio.wait_for(
        asyncio.gather(revise("First"), revise("Second"), return_exceptions=True), timeout=30
    )

    [winner] = [outcome for outcome in outcomes if isinstance(outcome, models.Commitment)]
    assert [type(outcome) for outcome in outcomes if outcome is not winner] == [StaleVersion]
    row = await session.get(models.Commitment, commitment_id, populate_existing=True)
    assert (row.title, row.version) == (winner.title, 2)
    revised = models.FeedEvent.type == "commitment.revised"
    events = sa.select(sa.func.count()).select_from(models.FeedEvent).where(revised)
    assert await session.scalar(events) == 1


async def test_a_writer_holding_an_older_row_than_the_version_it_names_is_stale(
    session, session_factory
):
    commitment_id, _, editor = await _given(session, Stage.PLEDGED)
    # The session keeps the row it loaded, at version 1, while another writer moves it on.
    held = await commitments.get(session, editor, commitment_id=commitment_id)
    async with session_factory() as other, other.begin():
        await commitments.revise(
            other, editor, commitment_id=commitment_id, version=1, changes={"title": "Meanwhile"}
        )
    assert held.version == 1

    with pytest.raises(StaleVersion):
        await commitments.revise(
            session, editor, commitment_id=commitment_id, version=2, changes={"countries": ["KE"]}
        )
    await session.rollback()

    row = await session.get(models.Commitment, commitment_id, populate_existing=True)
    assert (row.title, row.countries, row.version) == ("Meanwhile", [], 2)
