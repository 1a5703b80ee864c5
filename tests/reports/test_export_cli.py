"""`coalition-hub export commitments|deliveries|organisations`: the same files, written by
the command line acting as the secretariat, to a file or to standard output."""

import asyncio
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from backend.cli import app
from backend.config import Settings
from tests.reports.exported import exported, rows_of
from tests.reports.exports_world import build


async def _invoke(settings: Settings, *args: str) -> Result:
    # The command runs its own event loop (asyncio.run), so it goes to a thread of its own.
    env = {"HUB_DATABASE_URL": settings.database_url}
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


def _files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.parametrize("name", ["organisations", "commitments", "deliveries"])
async def test_an_export_is_written_to_the_file_given(
    settings, session, session_factory, tmp_path: Path, name
):
    await build(session)
    output = tmp_path / f"{name}.csv"

    result = await _invoke(
        settings, "export", name, "--coalition", "learning-continuity", "--output", str(output)
    )

    assert result.exit_code == 0, result.output
    assert rows_of(output.read_bytes()) == await exported(
        session_factory, name, coalition="learning-continuity"
    )
    assert result.stdout == ""
    assert result.stderr == f"wrote {output} ({output.stat().st_size} bytes)\n"
    assert _files(tmp_path) == [output.name]


async def test_without_a_file_the_export_goes_to_standard_output_filtered(
    settings, session, session_factory
):
    world = await build(session)

    result = await _invoke(
        settings,
        "export",
        "commitments",
        "--coalition",
        "learning-continuity",
        "--stage",
        "WITHDRAWN",
        "--stage",
        "PLEDGED",
        "--from",
        "2025-06-13",
        "--to",
        "2025-07-31",
        "--organisation-type",
        "21",
    )

    assert result.exit_code == 0, result.output
    assert [values[0] for values in rows_of(result.stdout_bytes)[1:]] == [
        world.unconverted.ref,
        world.withdrawn.ref,
    ]


async def test_a_filter_that_names_nothing_writes_no_file(settings, session, tmp_path: Path):
    await build(session)
    output = tmp_path / "deliveries.csv"

    result = await _invoke(
        settings,
        "export",
        "deliveries",
        "--coalition",
        "nowhere",
        "--to",
        "soon",
        "--output",
        str(output),
    )

    assert result.exit_code == 1
    assert result.stderr == (
        "error: --coalition: No coalition has the slug 'nowhere'.; "
        "--to: 'soon' is not a date (YYYY-MM-DD).\n"
    )
    assert _files(tmp_path) == []
