from decimal import Decimal

from backend import models
from tests.factories import make_coalition, make_commitment, make_organisation, make_workstream
from tests.reports.iati_standard import checked, requires_standard

pytestmark = requires_standard


async def _hosted(session) -> models.Coalition:
    host = await make_organisation(
        session, name="Host Agency", organisation_type="40", iati_identifier="XM-DAC-99001"
    )
    return await make_coalition(session, slug="learning", host_organisation_id=host.id)


async def test_anyone_downloads_a_coalitions_iati_file_without_credentials(api, session):
    coalition = await _hosted(session)
    partner = await make_organisation(session)
    commitment = await make_commitment(session, coalition, partner, amount=Decimal("1500"))

    response = await api.client.get("/exports/iati/learning.xml")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xml"
    document = checked(response.content)
    assert document.xpath("//transaction/@ref") == [commitment.ref]
    assert document.xpath("//iati-identifier/text()") == ["XM-DAC-99001-learning"]


async def test_by_workstream_gives_an_activity_per_workstream(api, session):
    coalition = await _hosted(session)
    workstream = await make_workstream(session, coalition)

    response = await api.client.get("/exports/iati/learning.xml", params={"by": "workstream"})

    assert response.status_code == 200
    assert checked(response.content).xpath("//iati-identifier/text()") == [
        f"XM-DAC-99001-learning-{workstream.id}"
    ]


async def test_an_unknown_coalition_is_a_json_404(api):
    response = await api.client.get("/exports/iati/nowhere.xml")

    assert response.status_code == 404
    assert response.json() == {
        "errors": [
            {
                "message": "No coalition has the slug 'nowhere'.",
                "extensions": {"code": "NOT_FOUND"},
            }
        ]
    }


async def test_a_coalition_without_a_reporting_organisation_is_refused(api, session):
    await make_coalition(session, slug="learning")

    response = await api.client.get("/exports/iati/learning.xml")

    assert response.status_code == 409
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "IATI_NO_REPORTING_ORGANISATION"}


async def test_an_unknown_grouping_is_a_bad_request(api, session):
    await _hosted(session)

    response = await api.client.get("/exports/iati/learning.xml", params={"by": "country"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
