import datetime as dt
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from backend import models
from backend.actors import SYSTEM
from backend.services import fx
from tests.factories import (
    gid,
    make_coalition,
    make_membership,
    make_organisation,
    make_token,
)

COMMITMENT = """
  id ref title description stage version resourceKind amount currency valueDate earmarking
  amountUsd usdRate usdRateDate usdRateSource countries sdgTargets startDate endDate
  visibility closingReason organisation { name }
  inKind {
    category description quantity unit fairValue fairValueCurrency valuationMethod
    freeOfCharge freeUntil
  }
"""
PLEDGE = f"""
mutation Pledge($input: PledgeCommitmentInput!) {{
  pledgeCommitment(input: $input) {{
    __typename
    ... on Commitment {{ {COMMITMENT} }}
    ... on Error {{ code message }}
  }}
}}
"""
FIGURES = """
query Figures($id: ID!) {
  node(id: $id) { ... on Commitment { amount amountUsd usdRate inKind { quantity } } }
}
"""
PUBLISH_RATE = """
mutation Publish($input: PublishFxRateInput!) {
  publishFxRate(input: $input) {
    __typename
    ... on FxRate { currency rateDate usdPerUnit source }
    ... on Error { code message }
  }
}
"""
VALUE_DATE = dt.date(2025, 6, 30)
LINE = {"category": "CONNECTIVITY", "description": "Mobile data", "quantity": "5000", "unit": "GB"}


async def _partner(session, coalition, *, name="Acme Telecom"):
    organisation = await make_organisation(session, name=name)
    await make_membership(session, coalition, organisation)
    return organisation, await make_token(session, models.Role.PARTNER_EDITOR, organisation)


async def _publish(session, currency, usd_per_unit, *, on=VALUE_DATE, source="ECB"):
    await fx.publish_rate(
        session,
        SYSTEM,
        currency=currency,
        rate_date=on,
        usd_per_unit=Decimal(usd_per_unit),
        source=source,
    )
    await session.commit()


async def _rows(session):
    statement = sa.select(models.Commitment).order_by(models.Commitment.id)
    return list(await session.scalars(statement.execution_options(populate_existing=True)))


async def _count(session, model, *where):
    return await session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _pledge(coalition, **fields):
    return {
        "coalitionId": gid(coalition),
        "title": "School connectivity fund",
        "resourceKind": "FINANCIAL",
        "amount": "1000",
        "currency": "USD",
        "valueDate": VALUE_DATE.isoformat(),
        **fields,
    }


def _expected(row, **fields):
    """A freshly pledged commitment as the API shows it, with `fields` changed."""
    return {
        "__typename": "Commitment",
        "id": gid(row),
        "ref": row.ref,
        "title": "School connectivity fund",
        "description": None,
        "stage": "PLEDGED",
        "version": 1,
        "resourceKind": "FINANCIAL",
        "amount": "1000.00",
        "currency": "USD",
        "valueDate": "2025-06-30",
        "earmarking": None,
        "amountUsd": "1000.00",
        "usdRate": "1",
        "usdRateDate": "2025-06-30",
        "usdRateSource": "identity",
        "countries": [],
        "sdgTargets": [],
        "startDate": None,
        "endDate": None,
        "visibility": "PUBLIC",
        "closingReason": None,
        "organisation": {"name": "Acme Telecom"},
        "inKind": [],
        **fields,
    }


async def test_a_partner_pledges_money_for_its_own_organisation(api, session):
    coalition = await make_coalition(session)
    organisation, token = await _partner(session, coalition)
    await _publish(session, "EUR", "1.085")
    pledge = _pledge(
        coalition,
        description="For rural schools",
        amount="1000.50",
        currency="EUR",
        earmarking="2",
        countries=["KE", "UG"],
        sdgTargets=["4.1", "4.a"],
        startDate="2025-07-01",
        endDate="2026-06-30",
    )

    data = await api(PLEDGE, {"input": pledge}, token=token)

    [row] = await _rows(session)
    assert re.fullmatch(r"CMT-[0-9A-F]{10}", row.ref)
    assert data["pledgeCommitment"] == _expected(
        row,
        description="For rural schools",
        amount="1000.50",
        currency="EUR",
        earmarking="2",
        amountUsd="1085.5425",
        usdRate="1.085",
        usdRateSource="ECB",
        countries=["KE", "UG"],
        sdgTargets=["4.1", "4.a"],
        startDate="2025-07-01",
        endDate="2026-06-30",
    )
    assert (row.organisation_id, row.amount, row.amount_usd) == (
        organisation.id,
        Decimal("1000.50"),
        Decimal("1085.5425"),
    )


async def test_an_in_kind_pledge_has_lines_and_no_cash_figures(api, session):
    coalition = await make_coalition(session)
    _, token = await _partner(session, coalition)
    valued = {
        **LINE,
        "fairValue": "2500",
        "fairValueCurrency": "USD",
        "valuationMethod": "Retail price",
        "freeUntil": "2026-12-31",
    }
    devices = {"category": "DEVICES", "description": "Tablets", "quantity": "2.5", "unit": "pallet"}
    pledge = _pledge(coalition, resourceKind="IN_KIND", amount=None, currency=None, valueDate=None)

    data = await api(PLEDGE, {"input": {**pledge, "inKind": [valued, devices]}}, token=token)

    [row] = await _rows(session)
    assert data["pledgeCommitment"] == _expected(
        row,
        resourceKind="IN_KIND",
        amount=None,
        currency=None,
        valueDate=None,
        amountUsd=None,
        usdRate=None,
        usdRateDate=None,
        usdRateSource=None,
        inKind=[
            {**valued, "fairValue": "2500.00", "freeOfCharge": True},
            {
                **devices,
                "fairValue": None,
                "fairValueCurrency": None,
                "valuationMethod": None,
                "freeOfCharge": True,
                "freeUntil": None,
            },
        ],
    )


async def test_a_mixed_pledge_has_cash_and_lines(api, session):
    coalition = await make_coalition(session)
    _, token = await _partner(session, coalition)

    data = await api(
        PLEDGE,
        {"input": _pledge(coalition, resourceKind="MIXED", amount="250000", inKind=[LINE])},
        token=token,
    )

    [row] = await _rows(session)
    line = {**LINE, "fairValue": None, "fairValueCurrency": None, "valuationMethod": None}
    assert data["pledgeCommitment"] == _expected(
        row,
        resourceKind="MIXED",
        amount="250000.00",
        amountUsd="250000.00",
        inKind=[{**line, "freeOfCharge": True, "freeUntil": None}],
    )


async def test_the_secretariat_pledges_for_the_organisation_it_names(api, session):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session, name="Acme Telecom")
    token = await make_token(session, models.Role.SECRETARIAT_ADMIN)

    data = await api(
        PLEDGE,
        {"input": _pledge(coalition, organisationId=gid(organisation))},
        token=token,
    )

    [row] = await _rows(session)
    assert data["pledgeCommitment"] == _expected(row)
    assert row.organisation_id == organisation.id


async def test_a_rate_published_by_the_secretariat_is_pinned_on_the_pledge(api, session):
    coalition = await make_coalition(session)
    _, partner = await _partner(session, coalition)
    secretariat = await make_token(session, models.Role.SECRETARIAT_ADMIN)
    rate = {"currency": "GBP", "rateDate": "2025-06-01", "usdPerUnit": "1.2712", "source": "IMF"}
    await _publish(session, "GBP", "1.30", on=dt.date(2025, 7, 1))

    published = await api(PUBLISH_RATE, {"input": rate}, token=secretariat)
    data = await api(
        PLEDGE, {"input": _pledge(coalition, amount="100", currency="GBP")}, token=partner
    )

    assert published == {"publishFxRate": {"__typename": "FxRate", **rate}}
    [row] = await _rows(session)
    assert data["pledgeCommitment"] == _expected(
        row,
        amount="100.00",
        currency="GBP",
        amountUsd="127.12",
        usdRate="1.2712",
        usdRateDate="2025-06-01",
        usdRateSource="IMF",
    )


async def test_a_currency_without_a_rate_stays_unconverted_not_zero(api, session):
    coalition = await make_coalition(session)
    _, token = await _partner(session, coalition)
    await _publish(session, "KES", "0.0077", on=VALUE_DATE + dt.timedelta(days=1))

    data = await api(PLEDGE, {"input": _pledge(coalition, currency="KES")}, token=token)

    [row] = await _rows(session)
    assert data["pledgeCommitment"] == _expected(
        row,
        currency="KES",
        amountUsd=None,
        usdRate=None,
        usdRateDate=None,
        usdRateSource=None,
    )
    assert (row.amount_usd, row.usd_rate) == (None, None)


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("1000", "1000.00"),
        ("1000.5", "1000.50"),
        ("0.0015", "0.0015"),
        ("1234567890.1234", "1234567890.1234"),
        ("99999999999999.9999", "99999999999999.9999"),
    ],
)
async def test_amounts_round_trip_exactly(api, session, given, shown):
    coalition = await make_coalition(session)
    _, token = await _partner(session, coalition)

    pledged = await api(PLEDGE, {"input": _pledge(coalition, amount=given)}, token=token)
    read = await api(FIGURES, {"id": pledged["pledgeCommitment"]["id"]}, token=token)

    assert (pledged["pledgeCommitment"]["amount"], pledged["pledgeCommitment"]["amountUsd"]) == (
        shown,
        shown,
    )
    assert read == {"node": {"amount": shown, "amountUsd": shown, "usdRate": "1", "inKind": []}}
    [row] = await _rows(session)
    assert row.amount == Decimal(given)


async def test_conversion_is_decimal_arithmetic_not_float(api, session):
    coalition = await make_coalition(session)
    _, token = await _partner(session, coalition)
    await _publish(session, "EUR", "3")

    data = await api(
        PLEDGE, {"input": _pledge(coalition, amount="0.1", currency="EUR")}, token=token
    )

    # 0.1 * 3 in binary floating point is 0.30000000000000004.
    assert data["pledgeCommitment"]["amountUsd"] == "0.30"
    [row] = await _rows(session)
    assert row.amount_usd == Decimal("0.3")


@pytest.mark.parametrize(
    ("given", "shown"),
    [("5000", "5000"), ("5000.0000", "5000"), ("2.5", "2.5"), ("0.0001", "0.0001")],
)
async def test_quantities_are_shown_without_trailing_zeros(api, session, given, shown):
    coalition = await make_coalition(session)
    _, token = await _partner(session, coalition)
    pledge = _pledge(
        coalition,
        resourceKind="IN_KIND",
        amount=None,
        currency=None,
        valueDate=None,
        inKind=[{**LINE, "quantity": given}],
    )

    pledged = await api(PLEDGE, {"input": pledge}, token=token)
    read = await api(FIGURES, {"id": pledged["pledgeCommitment"]["id"]}, token=token)

    assert pledged["pledgeCommitment"]["inKind"][0]["quantity"] == shown
    assert read["node"]["inKind"] == [{"quantity": shown}]


async def test_a_retried_pledge_returns_the_first_one(api, session):
    coalition = await make_coalition(session)
    _, token = await _partner(session, coalition)
    pledge = _pledge(coalition, idempotencyKey="pledge-2025-06-30")

    first = await api(PLEDGE, {"input": pledge}, token=token)
    again = await api(PLEDGE, {"input": {**pledge, "title": "Retried"}}, token=token)

    assert again == first
    assert await _count(session, models.Commitment) == 1
    pledged = models.FeedEvent.type == "commitment.pledged"
    assert await _count(session, models.FeedEvent, pledged) == 1


async def test_pledges_with_different_keys_are_two_pledges(api, session):
    coalition = await make_coalition(session)
    _, token = await _partner(session, coalition)

    first = await api(PLEDGE, {"input": _pledge(coalition, idempotencyKey="a")}, token=token)
    second = await api(PLEDGE, {"input": _pledge(coalition, idempotencyKey="b")}, token=token)

    assert first["pledgeCommitment"]["id"] != second["pledgeCommitment"]["id"]
    assert await _count(session, models.Commitment) == 2


async def test_the_same_key_from_another_organisation_is_its_own_pledge(api, session):
    coalition = await make_coalition(session)
    _, acme = await _partner(session, coalition, name="Acme Telecom")
    _, globex = await _partner(session, coalition, name="Globex")
    pledge = _pledge(coalition, idempotencyKey="pledge-1")

    first = await api(PLEDGE, {"input": pledge}, token=acme)
    second = await api(PLEDGE, {"input": pledge}, token=globex)

    assert [
        first["pledgeCommitment"]["organisation"],
        second["pledgeCommitment"]["organisation"],
    ] == [
        {"name": "Acme Telecom"},
        {"name": "Globex"},
    ]
    assert first["pledgeCommitment"]["id"] != second["pledgeCommitment"]["id"]
    assert await _count(session, models.Commitment) == 2
