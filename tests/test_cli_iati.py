import asyncio

from click.testing import Result
from typer.testing import CliRunner

from backend.cli import app
from backend.config import Settings
from tests.factories import make_coalition, make_commitment, make_organisation
from tests.reports.iati_standard import checked, requires_standard

pytestmark = requires_standard


async def _invoke(settings: Settings, *args: str) -> Result:
    # The command runs its own event loop (asyncio.run), so it goes to a thread of its own.
    env = {"HUB_DATABASE_URL": settings.database_url}
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


async def _hosted(session):
    host = await make_organisation(
        session, name="Host Agency", organisation_type="40", iati_identifier="XM-DAC-99001"
    )
    return await make_coalition(session, slug="learning", host_organisation_id=host.id)


async def test_export_iati_writes_the_file_it_is_given(settings, session, tmp_path):
    coalition = await _hosted(session)
    commitment = await make_commitment(session, coalition, await make_organisation(session))
    path = tmp_path / "learning.xml"

    result = await _invoke(settings, "export", "iati", "learning", "--output", str(path))

    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {path}\n"
    assert checked(path.read_bytes()).xpath("//transaction/@ref") == [commitment.ref]


async def test_export_iati_prints_one_activity_per_workstream_when_asked(settings, session):
    await _hosted(session)

    result = await _invoke(settings, "export", "iati", "learning", "--by-workstream")

    assert result.exit_code == 0, result.output
    document = checked(result.stdout_bytes)
    assert document.xpath("//iati-identifier/text()") == ["XM-DAC-99001-learning-general"]


async def test_export_iati_refuses_an_unknown_coalition(settings):
    result = await _invoke(settings, "export", "iati", "nowhere")

    assert result.exit_code == 1
    assert result.stderr == "error: No coalition has the slug 'nowhere'.\n"


async def test_export_iati_refuses_a_coalition_without_a_reporting_organisation(settings, session):
    await make_coalition(session, slug="learning")

    result = await _invoke(settings, "export", "iati", "learning")

    assert result.exit_code == 1
    assert "no host organisation" in result.stderr
    assert not result.stdout
