import pytest
import sqlalchemy as sa

from backend import models
from tests.apps import app_with, client_of
from tests.conftest import Api
from tests.factories import gid, make_coalition, make_membership, make_organisation, make_token

PUBLISH_RATE = """
mutation Publish($input: PublishFxRateInput!) {
  publishFxRate(input: $input) {
    __typename
    ... on FxRate { currency rateDate usdPerUnit source }
    ... on Error { code message }
    ... on ValidationFailed { fields { field code } }
  }
}
"""
RATE = {"currency": "IRR", "rateDate": "2025-06-30", "usdPerUnit": "0.0000237560", "source": "UN"}


async def _rates(session):
    return await session.scalar(sa.select(sa.func.count()).select_from(models.FxRate))


async def test_a_secretariat_admin_publishes_a_rate_without_trailing_zeros(api, session):
    token = await make_token(session, models.Role.SECRETARIAT_ADMIN)

    data = await api(PUBLISH_RATE, {"input": RATE}, token=token)

    assert data == {"publishFxRate": {"__typename": "FxRate", **RATE, "usdPerUnit": "0.000023756"}}
    assert await _rates(session) == 1


@pytest.mark.parametrize("role", [models.Role.PARTNER_ADMIN, models.Role.SECRETARIAT_ANALYST])
async def test_nobody_else_publishes_rates(api, session, role):
    organisation = await make_organisation(session) if role is models.Role.PARTNER_ADMIN else None
    token = await make_token(session, role, organisation)

    data = await api(PUBLISH_RATE, {"input": RATE}, token=token)

    assert data == {
        "publishFxRate": {
            "__typename": "PermissionDenied",
            "code": "PERMISSION_DENIED",
            "message": "Only the secretariat's administrators may do this.",
        }
    }
    assert await _rates(session) == 0


async def test_a_bad_rate_is_refused_naming_the_fields(api, session):
    token = await make_token(session, models.Role.SECRETARIAT_ADMIN)
    rate = {**RATE, "currency": "XYZ", "usdPerUnit": "0", "source": ""}

    data = await api(PUBLISH_RATE, {"input": rate}, token=token)

    assert data == {
        "publishFxRate": {
            "__typename": "ValidationFailed",
            "code": "INVALID_INPUT",
            "message": "Invalid input: currency, usdPerUnit, source.",
            "fields": [
                {"field": "currency", "code": "UNKNOWN_CODE"},
                {"field": "usdPerUnit", "code": "NOT_POSITIVE"},
                {"field": "source", "code": "REQUIRED"},
            ],
        }
    }
    assert await _rates(session) == 0


@pytest.mark.parametrize(("window_days", "converted"), [(10, "110.00"), (9, None)])
async def test_the_rate_window_is_configured(session, settings, engine, window_days, converted):
    admin = await make_token(session, models.Role.SECRETARIAT_ADMIN)
    coalition = await make_coalition(session)
    partner = await make_organisation(session)
    await make_membership(session, coalition, partner)
    editor = await make_token(session, models.Role.PARTNER_EDITOR, partner)
    pledge = """
    mutation Pledge($input: PledgeCommitmentInput!) {
      pledgeCommitment(input: $input) { ... on Commitment { amountUsd usdRateDate } }
    }
    """

    async with (
        app_with(settings, engine, fx_rate_window_days=window_days) as app,
        client_of(app) as client,
    ):
        api = Api(client)
        rate = {**RATE, "currency": "EUR", "usdPerUnit": "1.1", "rateDate": "2025-06-20"}
        await api(PUBLISH_RATE, {"input": rate}, token=admin)
        data = await api(
            pledge,
            {
                "input": {
                    "coalitionId": gid(coalition),
                    "title": "Euros",
                    "resourceKind": "FINANCIAL",
                    "amount": "100",
                    "currency": "EUR",
                    "valueDate": "2025-06-30",
                }
            },
            token=editor,
        )

    assert data["pledgeCommitment"]["amountUsd"] == converted
