import pytest
import sqlalchemy as sa

from backend import models
from tests.factories import make_organisation, make_token

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
