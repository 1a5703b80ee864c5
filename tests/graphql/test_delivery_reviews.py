import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from backend import models
from backend.services import deliveries, tokens
from tests.factories import (
    gid,
    make_coalition,
    make_commitment,
    make_delivery,
    make_membership,
    make_organisation,
    make_token,
)

Role = models.Role
DELIVERY = """
  __typename
  ... on Delivery { status reviewedBy reviewedAt disputeReason }
  ... on Error { code message }
  ... on ValidationFailed { fields { field code } }
"""
CONFIRM = f"""
mutation Confirm($input: ConfirmDeliveryInput!) {{
  confirmDelivery(input: $input) {{ {DELIVERY} }}
}}
"""
DISPUTE = f"""
mutation Dispute($input: DisputeDeliveryInput!) {{
  disputeDelivery(input: $input) {{ {DELIVERY} }}
}}
"""
# Each review: its mutation, document, and the rest of a valid input.
REVIEWS = {
    "confirm": ("confirmDelivery", CONFIRM, {}),
    "dispute": ("disputeDelivery", DISPUTE, {"reason": "Never arrived"}),
}
WRITTEN = [models.Delivery, models.FeedEvent, models.AuditRecord]


async def _scene(session, *, receiver_is_the_giver=False):
    """Acme's editor Ann reports a delivery to the ministry; tokens of everyone around."""
    coalition = await make_coalition(session)
    acme = await make_organisation(session, name="Acme")
    globex = await make_organisation(session, name="Globex")
    ministry = await make_organisation(session, name="Ministry of Education")
    for organisation in (acme, globex):
        await make_membership(session, coalition, organisation)
    commitment = await make_commitment(session, coalition, acme, stage=models.Stage.COMMITTED)
    people = {
        "reporter": await make_token(session, Role.PARTNER_EDITOR, acme, name="Ann"),
        "reporter's colleague": await make_token(session, Role.PARTNER_ADMIN, acme, name="Al"),
        "receiver": await make_token(session, Role.PARTNER_EDITOR, ministry, name="Mia"),
        "receiver's viewer": await make_token(session, Role.PARTNER_VIEWER, ministry),
        "unrelated partner": await make_token(session, Role.PARTNER_ADMIN, globex),
        "secretariat": await make_token(session, Role.SECRETARIAT_ADMIN, name="Sam"),
        "analyst": await make_token(session, Role.SECRETARIAT_ANALYST),
    }
    reporter = await tokens.authenticate(session, people["reporter"])
    receiver = acme if receiver_is_the_giver else ministry
    delivery = await deliveries.report(
        session,
        reporter,
        commitment_id=commitment.id,
        draft=deliveries.DeliveryDraft(
            delivered_on=dt.date.today(),
            amount=Decimal("1000"),
            currency="USD",
            receiving_organisation_id=receiver.id,
        ),
    )
    await session.commit()
    return delivery, people


async def _counts(session):
    return [
        await session.scalar(sa.select(sa.func.count()).select_from(model)) for model in WRITTEN
    ]


async def _status(session, delivery):
    row = await session.get(models.Delivery, delivery.id, populate_existing=True)
    return row.status, row.reviewed_by, row.dispute_reason


def _reviewed(status, by, reason=None):
    return {"status": status, "reviewedBy": by, "disputeReason": reason}


def _without_time(result):
    """The result without `reviewedAt`, which must be set when `reviewedBy` is."""
    result = dict(result)
    reviewed_at = result.pop("reviewedAt")
    assert (reviewed_at is None) == (result["reviewedBy"] is None)
    return result


@pytest.mark.parametrize(("reviewer", "name"), [("receiver", "Mia"), ("secretariat", "Sam")])
async def test_the_receiver_or_the_secretariat_confirms(api, session, reviewer, name):
    delivery, people = await _scene(session)

    data = await api(CONFIRM, {"input": {"id": gid(delivery)}}, token=people[reviewer])

    assert _without_time(data["confirmDelivery"]) == {
        "__typename": "Delivery",
        **_reviewed("CONFIRMED", name),
    }
    assert await _status(session, delivery) == (models.DeliveryStatus.CONFIRMED, name, None)


@pytest.mark.parametrize(
    ("caller", "message"),
    [
        ("reporter", "Whoever reported a delivery cannot review it."),
        (
            "reporter's colleague",
            "Only the receiving organisation or the secretariat reviews this.",
        ),
        ("unrelated partner", "Only the receiving organisation or the secretariat reviews this."),
        ("receiver's viewer", "Only the receiving organisation or the secretariat reviews this."),
        ("analyst", "Only the receiving organisation or the secretariat reviews this."),
    ],
)
@pytest.mark.parametrize("review", ["confirm", "dispute"])
async def test_nobody_else_reviews_a_delivery(api, session, caller, message, review):
    delivery, people = await _scene(session)
    name, document, rest = REVIEWS[review]
    before = await _counts(session)

    data = await api(document, {"input": {"id": gid(delivery), **rest}}, token=people[caller])

    assert data == {
        name: {"__typename": "PermissionDenied", "code": "PERMISSION_DENIED", "message": message}
    }
    assert await _counts(session) == before
    assert await _status(session, delivery) == (models.DeliveryStatus.REPORTED, None, None)


async def test_an_organisation_cannot_confirm_what_it_reported_receiving(api, session):
    delivery, people = await _scene(session, receiver_is_the_giver=True)

    data = await api(
        CONFIRM, {"input": {"id": gid(delivery)}}, token=people["reporter's colleague"]
    )

    assert data == {
        "confirmDelivery": {
            "__typename": "PermissionDenied",
            "code": "PERMISSION_DENIED",
            "message": "An organisation cannot confirm its own delivery report.",
        }
    }


async def test_the_secretariat_cannot_confirm_with_the_token_it_reported_with(api, session):
    coalition = await make_coalition(session)
    commitment = await make_commitment(
        session, coalition, await make_organisation(session), stage=models.Stage.COMMITTED
    )
    secretariat = await make_token(session, Role.SECRETARIAT_ADMIN)
    reported = await api(
        """
        mutation ($input: ReportDeliveryInput!) {
          reportDelivery(input: $input) { ... on Delivery { id } }
        }
        """,
        {
            "input": {
                "commitmentId": gid(commitment),
                "deliveredOn": dt.date.today().isoformat(),
                "amount": "10",
                "currency": "USD",
            }
        },
        token=secretariat,
    )
    other_admin = await make_token(session, Role.SECRETARIAT_ADMIN, name="Sue")

    refused = await api(CONFIRM, {"input": reported["reportDelivery"]}, token=secretariat)
    confirmed = await api(CONFIRM, {"input": reported["reportDelivery"]}, token=other_admin)

    assert refused["confirmDelivery"] == {
        "__typename": "PermissionDenied",
        "code": "PERMISSION_DENIED",
        "message": "Whoever reported a delivery cannot review it.",
    }
    assert _without_time(confirmed["confirmDelivery"]) == {
        "__typename": "Delivery",
        **_reviewed("CONFIRMED", "Sue"),
    }


@pytest.mark.parametrize("review", list(REVIEWS))
async def test_anonymous_reviews_are_refused_whole(api, session, review):
    delivery, _ = await _scene(session)
    _, document, rest = REVIEWS[review]
    before = await _counts(session)

    response = await api.post(document, {"input": {"id": gid(delivery), **rest}})

    body = response.json()
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]
    assert await _counts(session) == before


async def test_the_receiver_disputes_with_a_reason(api, session):
    delivery, people = await _scene(session)

    data = await api(
        DISPUTE,
        {"input": {"id": gid(delivery), "reason": "Half never arrived"}},
        token=people["receiver"],
    )

    assert _without_time(data["disputeDelivery"]) == {
        "__typename": "Delivery",
        **_reviewed("DISPUTED", "Mia", "Half never arrived"),
    }


@pytest.mark.parametrize("reason", ["", "   "])
async def test_a_dispute_needs_a_reason(api, session, reason):
    delivery, people = await _scene(session)
    before = await _counts(session)

    data = await api(
        DISPUTE, {"input": {"id": gid(delivery), "reason": reason}}, token=people["receiver"]
    )

    assert data == {
        "disputeDelivery": {
            "__typename": "ValidationFailed",
            "code": "INVALID_INPUT",
            "message": "Invalid input: reason.",
            "fields": [{"field": "reason", "code": "REQUIRED"}],
        }
    }
    assert await _counts(session) == before


async def test_a_disputed_delivery_can_be_confirmed_after_all(api, session):
    delivery, people = await _scene(session)
    await api(DISPUTE, {"input": {"id": gid(delivery), "reason": "Late"}}, token=people["receiver"])

    data = await api(CONFIRM, {"input": {"id": gid(delivery)}}, token=people["secretariat"])

    assert _without_time(data["confirmDelivery"]) == {
        "__typename": "Delivery",
        **_reviewed("CONFIRMED", "Sam"),
    }


@pytest.mark.parametrize(
    ("first", "then", "message"),
    [
        ("confirm", "dispute", "A CONFIRMED delivery cannot become DISPUTED."),
        ("confirm", "confirm", "A CONFIRMED delivery cannot become CONFIRMED."),
        ("dispute", "dispute", "A DISPUTED delivery cannot become DISPUTED."),
    ],
)
async def test_a_review_cannot_be_taken_back(api, session, first, then, message):
    delivery, people = await _scene(session)
    _, document, rest = REVIEWS[first]
    await api(document, {"input": {"id": gid(delivery), **rest}}, token=people["receiver"])
    before = await _counts(session)
    status = await _status(session, delivery)
    name, document, rest = REVIEWS[then]

    data = await api(
        document, {"input": {"id": gid(delivery), **rest}}, token=people["secretariat"]
    )

    assert data == {
        name: {"__typename": "Conflict", "code": "INVALID_TRANSITION", "message": message}
    }
    assert await _counts(session) == before
    assert await _status(session, delivery) == status


async def test_an_unknown_or_hidden_delivery_is_not_found(api, session):
    coalition = await make_coalition(session)
    hidden = await make_commitment(
        session,
        coalition,
        await make_organisation(session),
        stage=models.Stage.COMMITTED,
        visibility=models.Visibility.MEMBERS,
    )
    delivery = await make_delivery(session, hidden)
    outsider = await make_token(session, Role.PARTNER_EDITOR, await make_organisation(session))

    data = await api(CONFIRM, {"input": {"id": gid(delivery)}}, token=outsider)

    assert data == {
        "confirmDelivery": {
            "__typename": "NotFound",
            "code": "NOT_FOUND",
            "message": "No delivery with this id.",
        }
    }
