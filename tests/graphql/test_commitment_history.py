"""Every successful commitment or delivery write leaves one audit record and its feed event."""

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from backend import models
from backend.graphql.relay import from_global_id, to_global_id
from events import messages
from tests.factories import (
    gid,
    make_coalition,
    make_commitment,
    make_delivery,
    make_membership,
    make_organisation,
    make_token,
)

TRAIL = """
query Trail($id: ID!) {
  auditTrail(entityId: $id) { actorName actorRole action entityId before after }
}
"""
WRITE = """
mutation Write($input: {input_type}!) {{
  {mutation}(input: $input) {{ __typename ... on Node {{ id }} ... on Error {{ code }} }}
}}
"""
EventType = messages.EventType


async def _scene(session, **fields):
    coalition = await make_coalition(session)
    acme = await make_organisation(session, name="Acme Telecom", acronym="ACME")
    await make_membership(session, coalition, acme)
    commitment = await make_commitment(session, coalition, acme, title="Original", **fields)
    people = {
        "partner": await make_token(session, models.Role.PARTNER_EDITOR, acme, name="Ann"),
        "secretariat": await make_token(session, models.Role.SECRETARIAT_ADMIN, name="Sam"),
    }
    return commitment, acme, people


async def _write(api, mutation, input_type, variables, token):
    document = WRITE.format(mutation=mutation, input_type=input_type)
    data = await api(document, {"input": variables}, token=token)
    assert data[mutation]["__typename"] in ("Commitment", "Delivery"), data
    return data[mutation]


async def _trail(api, people, entity_id):
    return (await api(TRAIL, {"id": entity_id}, token=people["secretariat"]))["auditTrail"]


def _fields(snapshot, *names):
    return None if snapshot is None else {name: snapshot[name] for name in names}


async def _events(session, subject_type, subject_id):
    event = models.FeedEvent
    statement = (
        sa.select(event)
        .where(event.subject_type == subject_type, event.subject_id == subject_id)
        .order_by(event.id)
    )
    return list(await session.scalars(statement))


def _message(event):
    """The payload read back as its catalogue entry, so it is known to match it."""
    return messages.CATALOGUE[EventType(event.type)].model_validate(event.payload)


def _commitment_message(commitment, acme, **fields):
    return messages.CommitmentMessage(
        **{
            "id": commitment.id,
            "ref": commitment.ref,
            "title": "Original",
            "stage": "PLEDGED",
            "resource_kind": "FINANCIAL",
            "organisation": {"id": acme.id, "name": "Acme Telecom", "acronym": "ACME"},
            "amount": Decimal("10000"),
            "currency": "USD",
            "amount_usd": Decimal("10000"),
            **fields,
        }
    )


async def test_a_pledge_is_audited_and_announced(api, session):
    commitment, acme, people = await _scene(session)
    pledge = {
        "coalitionId": to_global_id("Coalition", commitment.coalition_id),
        "title": "Original",
        "resourceKind": "FINANCIAL",
        "amount": "10000",
        "currency": "USD",
        "countries": ["KE"],
    }

    result = await _write(
        api, "pledgeCommitment", "PledgeCommitmentInput", pledge, people["partner"]
    )

    _, pledged_id = from_global_id(result["id"])
    pledged = await session.get(models.Commitment, pledged_id)
    [record] = await _trail(api, people, result["id"])
    assert (record["actorName"], record["actorRole"], record["action"], record["before"]) == (
        "Ann",
        "PARTNER_EDITOR",
        "commitment.pledged",
        None,
    )
    assert _fields(record["after"], "title", "stage", "version", "amount", "countries") == {
        "title": "Original",
        "stage": "PLEDGED",
        "version": 1,
        "amount": "10000",
        "countries": ["KE"],
    }
    [event] = await _events(session, "Commitment", pledged.id)
    assert (event.type, event.coalition_id, event.organisation_id) == (
        "commitment.pledged",
        pledged.coalition_id,
        acme.id,
    )
    assert _message(event) == _commitment_message(pledged, acme, countries=["KE"])


@pytest.mark.parametrize(
    ("mutation", "input_type", "given", "caller", "action", "after", "event", "reason"),
    [
        (
            "reviseCommitment",
            "ReviseCommitmentInput",
            {"title": "Renamed"},
            "partner",
            "commitment.revised",
            {"title": "Renamed", "stage": "PLEDGED", "closing_reason": None},
            EventType.COMMITMENT_REVISED,
            None,
        ),
        (
            "advanceCommitment",
            "AdvanceCommitmentInput",
            {"stage": "COMMITTED"},
            "partner",
            "commitment.committed",
            {"title": "Original", "stage": "COMMITTED", "closing_reason": None},
            EventType.COMMITMENT_COMMITTED,
            None,
        ),
        (
            "withdrawCommitment",
            "CloseCommitmentInput",
            {"reason": "Budget cut"},
            "partner",
            "commitment.withdrawn",
            {"title": "Original", "stage": "WITHDRAWN", "closing_reason": "Budget cut"},
            EventType.COMMITMENT_WITHDRAWN,
            "Budget cut",
        ),
        (
            "cancelCommitment",
            "CloseCommitmentInput",
            {"reason": "Duplicate"},
            "secretariat",
            "commitment.cancelled",
            {"title": "Original", "stage": "CANCELLED", "closing_reason": "Duplicate"},
            EventType.COMMITMENT_CANCELLED,
            "Duplicate",
        ),
    ],
)
async def test_each_change_is_audited_once_with_before_and_after_and_announced(
    api, session, mutation, input_type, given, caller, action, after, event, reason
):
    commitment, acme, people = await _scene(session)
    trail_before = await _trail(api, people, gid(commitment))
    variables = {"id": gid(commitment), "version": 1, **given}

    await _write(api, mutation, input_type, variables, people[caller])

    trail = await _trail(api, people, gid(commitment))
    assert [record["action"] for record in trail] == [
        *(record["action"] for record in trail_before),
        action,
    ]
    record = trail[-1]
    names = ("title", "stage", "closing_reason", "version")
    assert _fields(record["before"], *names) == {
        "title": "Original",
        "stage": "PLEDGED",
        "closing_reason": None,
        "version": 1,
    }
    assert _fields(record["after"], *names) == {**after, "version": 2}
    assert record["after"]["updated_at"] > record["before"]["updated_at"]
    announced = await _events(session, "Commitment", commitment.id)
    assert [e.type for e in announced] == ["commitment.pledged", event.value]
    assert _message(announced[-1]) == _commitment_message(
        commitment, acme, title=after["title"], stage=after["stage"], reason=reason
    )


REPORT = {"deliveredOn": dt.date.today().isoformat(), "amount": "1000", "currency": "USD"}


async def test_the_first_report_is_audited_for_the_delivery_and_the_commitment(api, session):
    commitment, acme, people = await _scene(session, stage=models.Stage.COMMITTED)
    report = {"commitmentId": gid(commitment), **REPORT, "country": "KE", "beneficiaries": 30}

    result = await _write(api, "reportDelivery", "ReportDeliveryInput", report, people["partner"])

    delivery = await session.scalar(sa.select(models.Delivery))
    [record] = await _trail(api, people, result["id"])
    assert (record["action"], record["entityId"], record["before"]) == (
        "delivery.reported",
        gid(delivery),
        None,
    )
    assert _fields(record["after"], "status", "amount", "reported_by") == {
        "status": "REPORTED",
        "amount": "1000",
        "reported_by": "Ann",
    }
    moved = (await _trail(api, people, gid(commitment)))[-1]
    assert (
        moved["action"],
        _fields(moved["before"], "stage", "version"),
        _fields(moved["after"], "stage", "version"),
    ) == (
        "commitment.in_delivery",
        {"stage": "COMMITTED", "version": 2},
        {"stage": "IN_DELIVERY", "version": 3},
    )
    [event] = await _events(session, "Delivery", delivery.id)
    assert _message(event) == messages.DeliveryMessage(
        id=delivery.id,
        commitment_id=commitment.id,
        commitment_ref=commitment.ref,
        commitment_title="Original",
        organisation=messages.OrganisationRef(id=acme.id, name="Acme Telecom", acronym="ACME"),
        status="REPORTED",
        delivered_on=dt.date.today(),
        amount=Decimal("1000"),
        currency="USD",
        country="KE",
        beneficiaries=30,
    )
    assert [e.type for e in await _events(session, "Commitment", commitment.id)] == [
        "commitment.pledged",
        "commitment.committed",
        "commitment.in_delivery",
    ]


@pytest.mark.parametrize(
    ("mutation", "input_type", "given", "status", "event"),
    [
        ("confirmDelivery", "ConfirmDeliveryInput", {}, "CONFIRMED", EventType.DELIVERY_CONFIRMED),
        (
            "disputeDelivery",
            "DisputeDeliveryInput",
            {"reason": "Never arrived"},
            "DISPUTED",
            EventType.DELIVERY_DISPUTED,
        ),
    ],
)
async def test_a_review_is_audited_and_announced(
    api, session, mutation, input_type, given, status, event
):
    commitment, _, people = await _scene(session, stage=models.Stage.COMMITTED)
    delivery = await make_delivery(session, commitment)

    await _write(api, mutation, input_type, {"id": gid(delivery), **given}, people["secretariat"])

    trail = await _trail(api, people, gid(delivery))
    assert [record["action"] for record in trail] == ["delivery.reported", event.value]
    assert _fields(trail[-1]["before"], "status", "reviewed_by") == {
        "status": "REPORTED",
        "reviewed_by": None,
    }
    assert _fields(trail[-1]["after"], "status", "reviewed_by", "dispute_reason") == {
        "status": status,
        "reviewed_by": "Sam",
        "dispute_reason": given.get("reason"),
    }
    events = await _events(session, "Delivery", delivery.id)
    assert [(e.type, _message(e).status) for e in events] == [
        ("delivery.reported", "REPORTED"),
        (event.value, status),
    ]
