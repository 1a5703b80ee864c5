from backend import models
from tests.factories import gid, make_organisation, make_token

VIEWER = "{ viewer { name role organisation { name } memberCoalitionIds } }"


async def test_anonymous_viewer_has_no_role(api):
    data = await api(VIEWER)

    assert data == {
        "viewer": {
            "name": "anonymous",
            "role": None,
            "organisation": None,
            "memberCoalitionIds": [],
        }
    }


async def test_partner_viewer_sees_its_organisation(api, session):
    organisation = await make_organisation(session, name="Acme Telecom")
    token = await make_token(session, models.Role.PARTNER_EDITOR, organisation, name="Ann")

    data = await api(VIEWER, token=token)

    assert data == {
        "viewer": {
            "name": "Ann",
            "role": "PARTNER_EDITOR",
            "organisation": {"name": "Acme Telecom"},
            "memberCoalitionIds": [],
        }
    }
    assert gid(organisation)


async def test_unknown_token_is_refused_with_unauthenticated(api):
    response = await api.post(VIEWER, token="hub_not-a-real-token")

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
