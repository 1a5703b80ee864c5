"""The services' paths for records the secretariat imports: a pledge keeping its ref and
day, a stage reached through the state machine, deliveries recorded after the fact. None of
them is open to partners, so the API's rules stay as they are."""

import datetime as dt
from decimal import Decimal

import pytest

from backend import models
from backend.actors import SYSTEM, Actor
from backend.errors import InvalidInput, InvalidTransition, PermissionDenied
from backend.services import commitments, deliveries
from tests.factories import make_coalition, make_commitment, make_organisation

Stage = models.Stage


@pytest.fixture
async def given(session):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    partner = Actor(
        name="Ann",
        role=models.Role.PARTNER_EDITOR,
        organisation_id=organisation.id,
        member_coalition_ids=frozenset({coalition.id}),
    )
    draft = commitments.CommitmentDraft(
        coalition_id=coalition.id,
        organisation_id=organisation.id,
        title="Tablets",
        resource_kind=models.ResourceKind.FINANCIAL,
        amount=Decimal("100"),
        currency="USD",
    )
    return coalition, organisation, partner, draft


async def test_a_partner_cannot_choose_a_ref_or_a_recording_day(session, given):
    _, _, partner, draft = given

    with pytest.raises(PermissionDenied):
        await commitments.pledge(
            session, partner, draft=draft, imported=commitments.ImportedRecord(ref="GEC-1")
        )


@pytest.mark.parametrize(
    ("record", "refused"),
    [
        ({"ref": "GEC 1"}, [("ref", "BAD_FORMAT")]),
        ({"ref": "-GEC"}, [("ref", "BAD_FORMAT")]),
        ({"ref": "G" * 41}, [("ref", "TOO_LONG"), ("ref", "BAD_FORMAT")]),
        ({"ref": ""}, [("ref", "REQUIRED")]),
        (
            {"ref": "GEC-1", "recorded_at": models.utcnow() + dt.timedelta(days=1)},
            [("recorded_at", "BAD_RANGE")],
        ),
        (
            {
                "ref": "GEC-1",
                "recorded_at": dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
                "last_progress_at": dt.datetime(2024, 2, 1, tzinfo=dt.UTC),
            },
            [("last_progress_at", "BAD_RANGE")],
        ),
    ],
)
async def test_an_imported_record_is_checked_with_the_draft(session, given, record, refused):
    _, _, _, draft = given

    with pytest.raises(InvalidInput) as raised:
        await commitments.pledge(
            session, SYSTEM, draft=draft, imported=commitments.ImportedRecord(**record)
        )
    await session.rollback()

    assert [(issue.field, issue.code) for issue in raised.value.issues] == refused


async def test_an_imported_ref_already_taken_is_a_duplicate(session, given):
    coalition, organisation, _, draft = given
    taken = await make_commitment(session, coalition, organisation)

    with pytest.raises(InvalidInput) as raised:
        await commitments.pledge(
            session, SYSTEM, draft=draft, imported=commitments.ImportedRecord(ref=taken.ref)
        )
    await session.rollback()

    assert [(issue.field, issue.code) for issue in raised.value.issues] == [("ref", "DUPLICATE")]


async def test_reach_stage_is_for_the_secretariat_and_starts_from_a_pledge(session, given):
    coalition, organisation, partner, _ = given
    pledge = await make_commitment(session, coalition, organisation)
    committed = await make_commitment(session, coalition, organisation, stage=Stage.COMMITTED)

    with pytest.raises(PermissionDenied):
        await commitments.reach_stage(
            session,
            partner,
            commitment_id=pledge.id,
            version=pledge.version,
            stage=Stage.WITHDRAWN,
            reason="Budget cut",
        )
    with pytest.raises(InvalidTransition):
        await commitments.reach_stage(
            session,
            SYSTEM,
            commitment_id=committed.id,
            version=committed.version,
            stage=Stage.FULFILLED,
        )
    await session.rollback()


@pytest.mark.parametrize(
    ("stage", "reason", "refused"),
    [
        (Stage.WITHDRAWN, None, [("reason", "REQUIRED")]),
        (Stage.CANCELLED, " ", [("reason", "REQUIRED")]),
        (Stage.COMMITTED, "Why", [("reason", "NOT_ALLOWED")]),
    ],
)
async def test_only_a_closing_stage_takes_a_reason(session, given, stage, reason, refused):
    coalition, organisation, _, _ = given
    pledge = await make_commitment(session, coalition, organisation)

    with pytest.raises(InvalidInput) as raised:
        await commitments.reach_stage(
            session,
            SYSTEM,
            commitment_id=pledge.id,
            version=pledge.version,
            stage=stage,
            reason=reason,
        )
    await session.rollback()

    assert [(issue.field, issue.code) for issue in raised.value.issues] == refused


async def test_reach_stage_walks_the_firm_path_and_stamps_the_last_progress_report(session, given):
    coalition, organisation, _, _ = given
    pledge = await make_commitment(session, coalition, organisation)
    version = pledge.version
    reported = dt.datetime(2023, 5, 1, 10, tzinfo=dt.UTC)

    fulfilled = await commitments.reach_stage(
        session,
        SYSTEM,
        commitment_id=pledge.id,
        version=version,
        stage=Stage.FULFILLED,
        last_progress_at=reported,
    )
    await session.commit()

    assert (fulfilled.stage, fulfilled.version, fulfilled.last_progress_at) == (
        Stage.FULFILLED,
        version + 3,
        reported,
    )


async def test_imported_deliveries_are_for_the_secretariat_and_firm_commitments(session, given):
    coalition, organisation, partner, _ = given
    pledge = await make_commitment(session, coalition, organisation)
    fulfilled = await make_commitment(session, coalition, organisation, stage=Stage.FULFILLED)
    draft = deliveries.DeliveryDraft(
        delivered_on=dt.date(2024, 3, 1), amount=Decimal("10"), currency="USD"
    )

    with pytest.raises(PermissionDenied):
        await deliveries.record_imported(
            session, partner, commitment_id=fulfilled.id, draft=draft, idempotency_key="d-1"
        )
    with pytest.raises(InvalidTransition):
        await deliveries.record_imported(
            session, SYSTEM, commitment_id=pledge.id, draft=draft, idempotency_key="d-1"
        )
    recorded = await deliveries.record_imported(
        session, SYSTEM, commitment_id=fulfilled.id, draft=draft, idempotency_key="d-1"
    )
    await session.commit()
    recorded_as = (recorded.status, recorded.amount_usd)
    # The API's own path still refuses a closed commitment.
    with pytest.raises(InvalidTransition):
        await deliveries.report(session, SYSTEM, commitment_id=fulfilled.id, draft=draft)
    await session.rollback()

    assert recorded_as == (models.DeliveryStatus.REPORTED, Decimal("10"))
