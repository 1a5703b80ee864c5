"""Visibility plans: who writes and reads them, the action state machine, donor approval,
and the audit trail."""

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa

from backend import models
from backend.actors import SYSTEM, Actor
from backend.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from backend.services import visibility_plans
from tests.factories import (
    make_coalition,
    make_commitment,
    make_membership,
    make_organisation,
    make_workstream,
)

Status = models.ActionStatus
PLAN = visibility_plans.PlanDraft(acknowledgement="With the support of Acme.")
ACTION = visibility_plans.ActionDraft(
    kind=models.CommunicationKind.PRESS_RELEASE, title="Launch", planned_on=dt.date(2026, 12, 1)
)


def _actor(organisation, coalition, role=models.Role.PARTNER_EDITOR):
    return Actor(
        name="Ann",
        role=role,
        organisation_id=organisation.id,
        member_coalition_ids=frozenset({coalition.id}),
    )


async def _given(session, **commitment_fields):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    await make_membership(session, coalition, organisation)
    commitment = await make_commitment(session, coalition, organisation, **commitment_fields)
    return coalition, organisation, commitment


async def test_the_owner_writes_its_commitments_plan_and_every_write_is_audited(session):
    coalition, organisation, commitment = await _given(session)
    editor = _actor(organisation, coalition)

    plan = await visibility_plans.set_for_commitment(
        session, editor, commitment_id=commitment.id, draft=PLAN
    )
    action = await visibility_plans.add_action(session, editor, plan_id=plan.id, draft=ACTION)
    await visibility_plans.publish_action(
        session, editor, action_id=action.id, link="https://example.org/news"
    )
    await session.commit()

    again = await visibility_plans.set_for_commitment(
        session, editor, commitment_id=commitment.id, draft=PLAN
    )
    await session.commit()
    assert again.id == plan.id  # one plan per commitment
    audit = models.AuditRecord
    actions = list(await session.scalars(sa.select(audit.action).order_by(audit.id)))
    assert actions[-4:] == [
        "visibility_plan.created",
        "communication_action.added",
        "communication_action.published",
        "visibility_plan.updated",
    ]


async def test_other_partners_may_neither_write_nor_read_a_plan(session):
    coalition, organisation, commitment = await _given(session)
    other = await make_organisation(session)
    await make_membership(session, coalition, other)
    stranger = _actor(other, coalition)
    plan = await visibility_plans.set_for_commitment(
        session, SYSTEM, commitment_id=commitment.id, draft=PLAN
    )
    await session.commit()

    with pytest.raises(PermissionDenied):
        await visibility_plans.set_for_commitment(
            session, stranger, commitment_id=commitment.id, draft=PLAN
        )
    with pytest.raises(PermissionDenied):
        await visibility_plans.add_action(session, stranger, plan_id=plan.id, draft=ACTION)
    viewer = _actor(organisation, coalition, models.Role.PARTNER_VIEWER)
    with pytest.raises(PermissionDenied):
        await visibility_plans.add_action(session, viewer, plan_id=plan.id, draft=ACTION)
    assert await visibility_plans.for_commitment(session, stranger, commitment) is None
    assert (await visibility_plans.for_commitment(session, viewer, commitment)).id == plan.id
    assert (await visibility_plans.for_commitment(session, SYSTEM, commitment)).id == plan.id


async def test_workstream_plans_are_the_secretariats(session):
    coalition, organisation, _ = await _given(session)
    workstream = await make_workstream(session, coalition)
    partner_admin = _actor(organisation, coalition, models.Role.PARTNER_ADMIN)

    with pytest.raises(PermissionDenied):
        await visibility_plans.set_for_workstream(
            session, partner_admin, workstream_id=workstream.id, draft=PLAN
        )
    plan = await visibility_plans.set_for_workstream(
        session, SYSTEM, workstream_id=workstream.id, draft=PLAN
    )
    await session.commit()
    assert plan.workstream_id == workstream.id and plan.commitment_id is None
    found = await visibility_plans.for_workstream(session, SYSTEM, workstream_id=workstream.id)
    assert found.id == plan.id
    missing = await visibility_plans.for_workstream(
        session, partner_admin, workstream_id=workstream.id
    )
    assert missing is None
    with pytest.raises(NotFound):
        await visibility_plans.set_for_workstream(session, SYSTEM, workstream_id=0, draft=PLAN)


async def test_validation_names_the_field_and_a_stable_code(session):
    _, _, commitment = await _given(session)
    with pytest.raises(InvalidInput) as refused:
        await visibility_plans.set_for_commitment(
            session,
            SYSTEM,
            commitment_id=commitment.id,
            draft=visibility_plans.PlanDraft(acknowledgement="  "),
        )
    assert [(i.field, i.code) for i in refused.value.issues] == [("acknowledgement", "REQUIRED")]


MOVES = [(Status.PLANNED, Status.PUBLISHED), (Status.PLANNED, Status.CANCELLED)]
REFUSED = [
    (a, b) for a in Status for b in (Status.PUBLISHED, Status.CANCELLED) if (a, b) not in MOVES
]


async def _action_at(session, status):
    _, _, commitment = await _given(session)
    plan = await visibility_plans.set_for_commitment(
        session, SYSTEM, commitment_id=commitment.id, draft=PLAN
    )
    action = await visibility_plans.add_action(session, SYSTEM, plan_id=plan.id, draft=ACTION)
    if status is Status.PUBLISHED:
        await visibility_plans.publish_action(session, SYSTEM, action_id=action.id)
    elif status is Status.CANCELLED:
        await visibility_plans.cancel_action(session, SYSTEM, action_id=action.id)
    await session.commit()
    return action.id


async def _move(session, action_id, target):
    if target is Status.PUBLISHED:
        await visibility_plans.publish_action(session, SYSTEM, action_id=action_id)
    else:
        await visibility_plans.cancel_action(session, SYSTEM, action_id=action_id)


@pytest.mark.parametrize(("start", "target"), MOVES)
async def test_a_planned_action_is_published_or_cancelled(session, start, target):
    action_id = await _action_at(session, start)
    await _move(session, action_id, target)
    await session.commit()
    row = await session.get(models.CommunicationAction, action_id, populate_existing=True)
    assert row.status is target


@pytest.mark.parametrize(("start", "target"), REFUSED)
async def test_every_other_move_is_refused(session, start, target):
    action_id = await _action_at(session, start)
    with pytest.raises(InvalidTransition) as refused:
        await _move(session, action_id, target)
    await session.rollback()
    assert refused.value.code == "INVALID_TRANSITION"
    row = await session.get(models.CommunicationAction, action_id, populate_existing=True)
    assert row.status is start
    if start is not Status.PLANNED:
        with pytest.raises(InvalidTransition):
            await visibility_plans.update_action(session, SYSTEM, action_id=action_id, draft=ACTION)


async def test_publishing_waits_for_the_donors_approval(session):
    _, _, commitment = await _given(session)
    plan = await visibility_plans.set_for_commitment(
        session,
        SYSTEM,
        commitment_id=commitment.id,
        draft=visibility_plans.PlanDraft(acknowledgement="Thanks", donor_approval_required=True),
    )
    action = await visibility_plans.add_action(session, SYSTEM, plan_id=plan.id, draft=ACTION)
    await session.commit()

    with pytest.raises(InvalidTransition) as refused:
        await visibility_plans.publish_action(session, SYSTEM, action_id=action.id)
    await session.rollback()
    assert refused.value.code == "DONOR_APPROVAL_REQUIRED"

    approved = await visibility_plans.record_donor_approval(
        session, SYSTEM, plan_id=plan.id, approved_by="Jane Doe, Acme Foundation"
    )
    published = await visibility_plans.publish_action(session, SYSTEM, action_id=action.id)
    await session.commit()
    assert approved.donor_approved_by == "Jane Doe, Acme Foundation"
    assert approved.donor_approved_at is not None
    assert published.status is Status.PUBLISHED


async def test_two_writers_setting_a_first_plan_at_once_leave_one_plan(session, session_factory):
    _, _, commitment = await _given(session)
    commitment_id = commitment.id

    async def set_plan(text):
        async with session_factory() as own, own.begin():
            draft = visibility_plans.PlanDraft(acknowledgement=text)
            plan = await visibility_plans.set_for_commitment(
                own, SYSTEM, commitment_id=commitment_id, draft=draft
            )
            return plan.id

    ids = await asyncio.wait_for(asyncio.gather(set_plan("First"), set_plan("Second")), timeout=30)

    assert ids[0] == ids[1]
    [plan] = await session.scalars(
        sa.select(models.VisibilityPlan).where(models.VisibilityPlan.commitment_id == commitment_id)
    )
    assert plan.acknowledgement in ("First", "Second")
    audited = await session.scalars(
        sa.select(models.AuditRecord.action).where(
            models.AuditRecord.entity_type == "VisibilityPlan",
            models.AuditRecord.entity_id == plan.id,
        )
    )
    assert sorted(audited) == ["visibility_plan.created", "visibility_plan.updated"]
