import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from backend import models
from backend.actors import SYSTEM
from backend.services import fx
from tests.factories import (
    gid,
    in_kind_line,
    make_coalition,
    make_commitment,
    make_delivery,
    make_membership,
    make_organisation,
    make_token,
)

REVISE = """
mutation Revise($input: ReviseCommitmentInput!) {
  reviseCommitment(input: $input) {
    __typename
    ... on Commitment {
      title version amount currency valueDate amountUsd usdRate usdRateDate usdRateSource
      countries inKind { category description quantity unit }
    }
    ... on Error { code message }
  }
}
"""
VALUE_DATE = dt.date(2025, 6, 30)


async def _partner(session, coalition):
    organisation = await make_organisation(session, name="Acme Telecom")
    await make_membership(session, coalition, organisation)
    return organisation, await make_token(session, models.Role.PARTNER_EDITOR, organisation)


async def _publish(session, currency, usd_per_unit, *, on=VALUE_DATE):
    await fx.publish_rate(
        session,
        SYSTEM,
        currency=currency,
        rate_date=on,
        usd_per_unit=Decimal(usd_per_unit),
        source="ECB",
    )
    await session.commit()


async def _reload(session, commitment):
    return await session.get(models.Commitment, commitment.id, populate_existing=True)


async def _lines(session, commitment):
    line = models.InKindLine
    statement = (
        sa.select(line.description, line.quantity)
        .where(line.commitment_id == commitment.id)
        .order_by(line.position)
    )
    return [tuple(row) for row in await session.execute(statement)]


def _revised(**fields):
    return {
        "__typename": "Commitment",
        "title": "Commitment",
        "version": 2,
        "amount": "100.00",
        "currency": "EUR",
        "valueDate": "2025-06-30",
        "amountUsd": "108.50",
        "usdRate": "1.085",
        "usdRateDate": "2025-06-30",
        "usdRateSource": "ECB",
        "countries": [],
        "inKind": [],
        **fields,
    }


async def _euro_pledge(session):
    coalition = await make_coalition(session)
    organisation, token = await _partner(session, coalition)
    await _publish(session, "EUR", "1.085")
    commitment = await make_commitment(
        session,
        coalition,
        organisation,
        title="Commitment",
        amount=Decimal("100"),
        currency="EUR",
        value_date=VALUE_DATE,
    )
    return commitment, token


async def test_a_revision_of_the_current_version_changes_the_terms(api, session):
    commitment, token = await _euro_pledge(session)

    data = await api(
        REVISE,
        {
            "input": {
                "id": gid(commitment),
                "version": 1,
                "title": "Rural schools",
                "countries": ["KE"],
            }
        },
        token=token,
    )

    assert data == {"reviseCommitment": _revised(title="Rural schools", countries=["KE"])}
    row = await _reload(session, commitment)
    assert (row.title, row.countries, row.version) == ("Rural schools", ["KE"], 2)


async def test_a_revision_of_an_old_version_is_refused_and_changes_nothing(api, session):
    commitment, token = await _euro_pledge(session)
    await api(
        REVISE, {"input": {"id": gid(commitment), "version": 1, "title": "First"}}, token=token
    )

    data = await api(
        REVISE, {"input": {"id": gid(commitment), "version": 1, "title": "Second"}}, token=token
    )

    assert data == {
        "reviseCommitment": {
            "__typename": "Conflict",
            "code": "STALE_VERSION",
            "message": "The commitment was changed since version 1; reload it and try again.",
        }
    }
    row = await _reload(session, commitment)
    assert (row.title, row.version) == ("First", 2)


async def test_a_revision_that_leaves_the_amount_keeps_the_pinned_rate(api, session):
    commitment, token = await _euro_pledge(session)
    await _publish(session, "EUR", "1.2")

    data = await api(
        REVISE, {"input": {"id": gid(commitment), "version": 1, "title": "Renamed"}}, token=token
    )

    assert data == {"reviseCommitment": _revised(title="Renamed")}


async def test_changing_the_amount_pins_the_rate_again(api, session):
    commitment, token = await _euro_pledge(session)
    await _publish(session, "EUR", "1.2")

    data = await api(
        REVISE, {"input": {"id": gid(commitment), "version": 1, "amount": "200"}}, token=token
    )

    assert data == {
        "reviseCommitment": _revised(amount="200.00", amountUsd="240.00", usdRate="1.2")
    }


async def test_changing_the_currency_pins_that_currencys_rate(api, session):
    commitment, token = await _euro_pledge(session)
    await _publish(session, "GBP", "1.2712", on=VALUE_DATE - dt.timedelta(days=3))

    data = await api(
        REVISE, {"input": {"id": gid(commitment), "version": 1, "currency": "GBP"}}, token=token
    )

    assert data == {
        "reviseCommitment": _revised(
            currency="GBP", amountUsd="127.12", usdRate="1.2712", usdRateDate="2025-06-27"
        )
    }


async def test_changing_to_a_currency_without_a_rate_leaves_it_unconverted(api, session):
    commitment, token = await _euro_pledge(session)

    data = await api(
        REVISE, {"input": {"id": gid(commitment), "version": 1, "currency": "KES"}}, token=token
    )

    assert data == {
        "reviseCommitment": _revised(
            currency="KES", amountUsd=None, usdRate=None, usdRateDate=None, usdRateSource=None
        )
    }
    row = await _reload(session, commitment)
    assert (row.amount_usd, row.usd_rate, row.usd_rate_source) == (None, None, None)


async def _in_kind_commitment(session, stage=models.Stage.PLEDGED):
    coalition = await make_coalition(session)
    organisation, token = await _partner(session, coalition)
    commitment = await make_commitment(
        session,
        coalition,
        organisation,
        stage=stage,
        title="Commitment",
        resource_kind=models.ResourceKind.IN_KIND,
        amount=None,
        currency=None,
        in_kind=[in_kind_line(description="Mobile data", quantity=Decimal("5000"))],
    )
    return commitment, token


async def test_in_kind_lines_are_replaced_before_any_delivery(api, session):
    commitment, token = await _in_kind_commitment(session)
    lines = [
        {"category": "DEVICES", "description": "Tablets", "quantity": "300", "unit": "device"},
        {"category": "TRAINING", "description": "Teachers", "quantity": "40", "unit": "seat"},
    ]

    data = await api(
        REVISE, {"input": {"id": gid(commitment), "version": 1, "inKind": lines}}, token=token
    )

    assert data["reviseCommitment"]["inKind"] == lines
    assert await _lines(session, commitment) == [
        ("Tablets", Decimal("300")),
        ("Teachers", Decimal("40")),
    ]


async def test_in_kind_lines_cannot_be_replaced_once_delivered_against(api, session):
    commitment, token = await _in_kind_commitment(session, stage=models.Stage.COMMITTED)
    [line] = await session.scalars(
        sa.select(models.InKindLine).where(models.InKindLine.commitment_id == commitment.id)
    )
    await make_delivery(
        session,
        commitment,
        amount=None,
        currency=None,
        in_kind_line_id=line.id,
        quantity=Decimal("10"),
    )
    version = (await _reload(session, commitment)).version
    tablets = {"category": "DEVICES", "description": "Tablets", "quantity": "3", "unit": "device"}

    refused = await api(
        REVISE,
        {"input": {"id": gid(commitment), "version": version, "inKind": [tablets]}},
        token=token,
    )
    renamed = await api(
        REVISE,
        {"input": {"id": gid(commitment), "version": version, "title": "Renamed"}},
        token=token,
    )

    assert refused == {
        "reviseCommitment": {
            "__typename": "Conflict",
            "code": "HAS_DELIVERIES",
            "message": "In-kind lines cannot be replaced once deliveries are recorded "
            "against them.",
        }
    }
    assert await _lines(session, commitment) == [("Mobile data", Decimal("5000"))]
    assert renamed["reviseCommitment"]["title"] == "Renamed"
    assert renamed["reviseCommitment"]["version"] == version + 1
