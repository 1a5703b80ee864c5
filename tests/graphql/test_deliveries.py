import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from backend import models
from backend.actors import SYSTEM
from backend.graphql.relay import to_global_id
from backend.services import fx
from tests.factories import (
    gid,
    in_kind_line,
    make_coalition,
    make_commitment,
    make_membership,
    make_organisation,
    make_token,
)

REPORT = """
mutation Report($input: ReportDeliveryInput!) {
  reportDelivery(input: $input) {
    __typename
    ... on Delivery {
      id deliveredOn amount currency amountUsd quantity unit country beneficiaries evidenceUrl
      note status reportedBy reviewedBy reviewedAt disputeReason
      commitment { stage version } inKindLine { description } receivingOrganisation { name }
    }
    ... on Error { code message }
    ... on ValidationFailed { fields { field code } }
  }
}
"""
YESTERDAY = dt.date.today() - dt.timedelta(days=1)
WRITTEN = [models.Delivery, models.FeedEvent, models.AuditRecord]


async def _scene(session, *, stage=models.Stage.COMMITTED, **fields):
    """A commitment by Acme, an editor of Acme called Ann, and a ministry that receives."""
    coalition = await make_coalition(session)
    acme = await make_organisation(session, name="Acme")
    await make_membership(session, coalition, acme)
    ministry = await make_organisation(session, name="Ministry of Education")
    commitment = await make_commitment(session, coalition, acme, stage=stage, **fields)
    token = await make_token(session, models.Role.PARTNER_EDITOR, acme, name="Ann")
    return commitment, ministry, token


async def _in_kind_scene(session, kind=models.ResourceKind.IN_KIND):
    cash = {"amount": None, "currency": None} if kind is models.ResourceKind.IN_KIND else {}
    commitment, _, token = await _scene(
        session,
        resource_kind=kind,
        **cash,
        in_kind=[in_kind_line(description="Mobile data", quantity=Decimal("5000"), unit="GB")],
    )
    line = await session.scalar(
        sa.select(models.InKindLine).where(models.InKindLine.commitment_id == commitment.id)
    )
    return commitment, line, token


async def _counts(session):
    return [
        await session.scalar(sa.select(sa.func.count()).select_from(model)) for model in WRITTEN
    ]


async def _version(session, commitment):
    row = await session.get(models.Commitment, commitment.id, populate_existing=True)
    return row.stage, row.version


def _cash(commitment, **fields):
    return {
        "input": {
            "commitmentId": gid(commitment),
            "deliveredOn": YESTERDAY.isoformat(),
            "amount": "1000",
            "currency": "USD",
            **fields,
        }
    }


def _delivered(row, **fields):
    return {
        "__typename": "Delivery",
        "id": gid(row),
        "deliveredOn": YESTERDAY.isoformat(),
        "amount": "1000.00",
        "currency": "USD",
        "amountUsd": "1000.00",
        "quantity": None,
        "unit": None,
        "country": None,
        "beneficiaries": None,
        "evidenceUrl": None,
        "note": None,
        "status": "REPORTED",
        "reportedBy": "Ann",
        "reviewedBy": None,
        "reviewedAt": None,
        "disputeReason": None,
        "commitment": {"stage": "IN_DELIVERY", "version": 3},
        "inKindLine": None,
        "receivingOrganisation": None,
        **fields,
    }


async def test_a_partner_reports_cash_paid(api, session):
    commitment, ministry, token = await _scene(session)
    report = _cash(
        commitment,
        country="KE",
        receivingOrganisationId=gid(ministry),
        beneficiaries=1200,
        evidenceUrl="https://example.org/receipt.pdf",
        note="First tranche",
    )

    data = await api(REPORT, report, token=token)

    row = await session.scalar(sa.select(models.Delivery))
    assert data == {
        "reportDelivery": _delivered(
            row,
            country="KE",
            beneficiaries=1200,
            evidenceUrl="https://example.org/receipt.pdf",
            note="First tranche",
            receivingOrganisation={"name": "Ministry of Education"},
        )
    }


async def test_cash_is_converted_at_the_rate_of_the_delivery_day(api, session):
    commitment, _, token = await _scene(session, currency="EUR")
    await fx.publish_rate(
        session,
        SYSTEM,
        currency="EUR",
        rate_date=YESTERDAY,
        usd_per_unit=Decimal("1.1"),
        source="ECB",
    )
    await session.commit()

    data = await api(REPORT, _cash(commitment, amount="200", currency="EUR"), token=token)

    row = await session.scalar(sa.select(models.Delivery))
    assert data == {
        "reportDelivery": _delivered(row, amount="200.00", currency="EUR", amountUsd="220.00")
    }
    assert (row.amount_usd, row.usd_rate) == (Decimal("220"), Decimal("1.1"))


async def test_cash_in_a_currency_without_a_rate_stays_unconverted(api, session):
    commitment, _, token = await _scene(session, currency="KES")

    data = await api(REPORT, _cash(commitment, currency="KES"), token=token)

    row = await session.scalar(sa.select(models.Delivery))
    assert data == {"reportDelivery": _delivered(row, currency="KES", amountUsd=None)}
    assert row.amount_usd is None


async def test_an_in_kind_delivery_takes_its_unit_from_the_line(api, session):
    commitment, line, token = await _in_kind_scene(session)
    report = {
        "input": {
            "commitmentId": gid(commitment),
            "deliveredOn": YESTERDAY.isoformat(),
            "inKindLineId": gid(line),
            "quantity": "5000",
        }
    }

    data = await api(REPORT, report, token=token)

    row = await session.scalar(sa.select(models.Delivery))
    assert data == {
        "reportDelivery": _delivered(
            row,
            amount=None,
            currency=None,
            amountUsd=None,
            quantity="5000",
            unit="GB",
            inKindLine={"description": "Mobile data"},
        )
    }


async def test_only_the_first_delivery_moves_the_commitment_on(api, session):
    commitment, _, token = await _scene(session)

    first = await api(REPORT, _cash(commitment), token=token)
    second = await api(REPORT, _cash(commitment, amount="5"), token=token)

    assert first["reportDelivery"]["commitment"] == {"stage": "IN_DELIVERY", "version": 3}
    assert second["reportDelivery"]["commitment"] == {"stage": "IN_DELIVERY", "version": 3}


def _refused(*fields):
    return {
        "reportDelivery": {
            "__typename": "ValidationFailed",
            "code": "INVALID_INPUT",
            "message": f"Invalid input: {', '.join(name for name, _ in fields)}.",
            "fields": [{"field": name, "code": code} for name, code in fields],
        }
    }


TOMORROW = (dt.date.today() + dt.timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("fields", "refused"),
    [
        ({"deliveredOn": TOMORROW}, [("deliveredOn", "BAD_RANGE")]),
        ({"amount": None, "currency": None}, [("amount", "REQUIRED")]),
        ({"amount": "0"}, [("amount", "NOT_POSITIVE")]),
        ({"amount": "1.00001"}, [("amount", "TOO_PRECISE")]),
        ({"currency": None}, [("currency", "REQUIRED")]),
        ({"currency": "XYZ"}, [("currency", "UNKNOWN_CODE")]),
        ({"country": "XX"}, [("country", "UNKNOWN_CODE")]),
        ({"beneficiaries": -1}, [("beneficiaries", "BAD_RANGE")]),
        ({"evidenceUrl": "ftp://example.org/receipt"}, [("evidenceUrl", "BAD_FORMAT")]),
        ({"note": "x" * 2001}, [("note", "TOO_LONG")]),
    ],
)
async def test_a_bad_report_is_refused_and_writes_nothing(api, session, fields, refused):
    commitment, _, token = await _scene(session)
    before = await _counts(session)

    data = await api(REPORT, _cash(commitment, **fields), token=token)

    assert data == _refused(*refused)
    assert await _counts(session) == before
    assert await _version(session, commitment) == (models.Stage.COMMITTED, 2)


async def test_an_in_kind_report_is_checked_too(api, session):
    commitment, line, token = await _in_kind_scene(session, models.ResourceKind.MIXED)
    report = {
        "commitmentId": gid(commitment),
        "deliveredOn": YESTERDAY.isoformat(),
        "inKindLineId": gid(line),
        "quantity": "10",
    }
    cases = [
        ({"amount": "5", "currency": "USD"}, [("amount", "NOT_ALLOWED")]),
        ({"quantity": "0"}, [("quantity", "NOT_POSITIVE")]),
        ({"quantity": None}, [("quantity", "REQUIRED")]),
        ({"inKindLineId": gid(commitment)}, [("inKindLineId", "BAD_ID")]),
    ]
    before = await _counts(session)

    answers = [
        await api(REPORT, {"input": {**report, **change}}, token=token) for change, _ in cases
    ]

    assert answers == [_refused(*refused) for _, refused in cases]
    assert await _counts(session) == before


async def test_cash_against_an_in_kind_only_commitment_is_refused(api, session):
    commitment, _, token = await _in_kind_scene(session)

    data = await api(REPORT, _cash(commitment), token=token)

    assert data == _refused(("amount", "NOT_ALLOWED"))


async def test_a_line_of_another_commitment_is_not_found(api, session):
    commitment, _, token = await _in_kind_scene(session)
    _, foreign_line, _ = await _in_kind_scene(session)
    before = await _counts(session)

    data = await api(
        REPORT,
        {
            "input": {
                "commitmentId": gid(commitment),
                "deliveredOn": YESTERDAY.isoformat(),
                "inKindLineId": gid(foreign_line),
                "quantity": "10",
            }
        },
        token=token,
    )

    assert data == {
        "reportDelivery": {
            "__typename": "NotFound",
            "code": "NOT_FOUND",
            "message": "No in-kind line with this id in the commitment.",
        }
    }
    assert await _counts(session) == before


async def test_an_unknown_receiver_is_not_found(api, session):
    commitment, _, token = await _scene(session)

    data = await api(
        REPORT,
        _cash(commitment, receivingOrganisationId=to_global_id("Organisation", 999)),
        token=token,
    )

    assert data == {
        "reportDelivery": {
            "__typename": "NotFound",
            "code": "NOT_FOUND",
            "message": "No organisation with the receiving organisation's id.",
        }
    }


async def test_a_pledge_cannot_be_delivered_against_yet(api, session):
    commitment, _, token = await _scene(session, stage=models.Stage.PLEDGED)
    before = await _counts(session)

    data = await api(REPORT, _cash(commitment), token=token)

    assert data == {
        "reportDelivery": {
            "__typename": "Conflict",
            "code": "INVALID_TRANSITION",
            "message": "Deliveries are recorded against COMMITTED or IN_DELIVERY commitments, "
            "not PLEDGED.",
        }
    }
    assert await _counts(session) == before
    assert await _version(session, commitment) == (models.Stage.PLEDGED, 1)


async def test_another_organisation_cannot_report_against_a_commitment(api, session):
    commitment, _, _ = await _scene(session)
    globex = await make_organisation(session, name="Globex")
    await make_membership(session, await make_coalition(session), globex)
    token = await make_token(session, models.Role.PARTNER_EDITOR, globex)
    before = await _counts(session)

    data = await api(REPORT, _cash(commitment), token=token)

    assert data == {
        "reportDelivery": {
            "__typename": "PermissionDenied",
            "code": "PERMISSION_DENIED",
            "message": "You may only write for your own organisation.",
        }
    }
    assert await _counts(session) == before


async def _reported(session):
    statement = sa.select(sa.func.count()).select_from(models.FeedEvent)
    return (
        await session.scalar(sa.select(sa.func.count()).select_from(models.Delivery)),
        await session.scalar(statement.where(models.FeedEvent.type == "delivery.reported")),
    )


async def test_a_retried_report_returns_the_first_delivery(api, session):
    commitment, _, token = await _scene(session)

    first = await api(REPORT, _cash(commitment, idempotencyKey="tranche-1"), token=token)
    again = await api(
        REPORT, _cash(commitment, idempotencyKey="tranche-1", amount="999"), token=token
    )

    assert again == first
    assert await _reported(session) == (1, 1)


async def test_reports_with_different_keys_are_two_deliveries(api, session):
    commitment, _, token = await _scene(session)

    first = await api(REPORT, _cash(commitment, idempotencyKey="tranche-1"), token=token)
    second = await api(REPORT, _cash(commitment, idempotencyKey="tranche-2"), token=token)

    assert first["reportDelivery"]["id"] != second["reportDelivery"]["id"]
    assert await _reported(session) == (2, 2)


async def test_the_same_key_from_another_organisation_is_its_own_report(api, session):
    acme_commitment, _, acme = await _scene(session)
    globex_commitment, _, globex = await _scene(session)

    first = await api(REPORT, _cash(acme_commitment, idempotencyKey="tranche-1"), token=acme)
    second = await api(REPORT, _cash(globex_commitment, idempotencyKey="tranche-1"), token=globex)

    assert first["reportDelivery"]["id"] != second["reportDelivery"]["id"]
    assert await _reported(session) == (2, 2)
