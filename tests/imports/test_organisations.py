"""`coalition-hub import organisations`: the registry from a spreadsheet."""

import sqlalchemy as sa

from backend import models
from tests.factories import make_organisation
from tests.imports.cli import count, invoke, stderr_lines, write_csv

UNESCO = {
    "iati_identifier": "XM-DAC-41304",
    "name": "UNESCO",
    "acronym": "UNESCO",
    "organisation_type": "40",
    "hub_category": "",
    "country": "FR",
    "website": "https://www.unesco.org",
    "description": "UN agency for education, science and culture",
}
BRIGHTWAVE = {
    "iati_identifier": "",
    "name": "Brightwave Telecom",
    "acronym": "BWT",
    "organisation_type": "70",
    "hub_category": "",
    "country": "KE",
    "website": "",
    "description": "",
}
DAYBREAK = {**BRIGHTWAVE, "name": "Daybreak Radio", "acronym": "", "hub_category": "MEDIA"}


async def _registered(session) -> list[tuple]:
    organisation = models.Organisation
    rows = await session.execute(
        sa.select(
            organisation.name,
            organisation.iati_identifier,
            organisation.organisation_type,
            organisation.hub_category,
            organisation.country,
        ).order_by(organisation.name)
    )
    return [tuple(row) for row in rows]


async def test_the_import_registers_every_row_and_a_second_run_creates_nothing(
    settings, session, tmp_path
):
    path = write_csv(tmp_path / "organisations.csv", [UNESCO, BRIGHTWAVE, DAYBREAK])

    first = await invoke(settings, "import", "organisations", path)
    again = await invoke(settings, "import", "organisations", path)

    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == [
        "Imported organisations.csv: 3 rows; created 3, unchanged 0."
    ]
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [
        "Imported organisations.csv: 3 rows; created 0, unchanged 3.",
        "Nothing new: every row matches a record the hub already has.",
    ]
    assert await _registered(session) == [
        ("Brightwave Telecom", None, "70", None, "KE"),
        ("Daybreak Radio", None, "70", models.HubCategory.MEDIA, "KE"),
        ("UNESCO", "XM-DAC-41304", "40", None, "FR"),
    ]
    assert await count(session, models.AuditRecord) == 3


async def test_every_bad_row_is_reported_by_line_and_nothing_is_registered(
    settings, session, tmp_path
):
    rows = [
        UNESCO,
        {**BRIGHTWAVE, "country": "XX"},
        {**DAYBREAK, "organisation_type": "99", "website": "ftp://daybreak", "hub_category": "TV"},
        {**BRIGHTWAVE, "name": "Lumen Foundation", "organisation_type": "60"},
        {**UNESCO, "name": "UNESCO again"},
        {**BRIGHTWAVE, "name": ""},
    ]
    path = write_csv(tmp_path / "organisations.csv", rows)

    result = await invoke(settings, "import", "organisations", path)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert stderr_lines(result) == [
        "line 3: country: UNKNOWN_CODE: 'XX' is not an ISO 3166-1 alpha-2 country.",
        "line 4: hub_category: BAD_FORMAT: 'TV' is not one of MEDIA, NETWORK.",
        "line 4: organisation_type: UNKNOWN_CODE: '99' is not an IATI organisation type.",
        "line 4: website: BAD_FORMAT: Must be an http(s) address.",
        "line 6: iati_identifier: DUPLICATE: Line 2 has the same IATI identifier.",
        "line 7: name: REQUIRED: This field is required.",
        "error: 4 of 6 rows of organisations.csv are invalid; nothing was written.",
    ]
    assert await count(session, models.Organisation) == 0
    assert await count(session, models.AuditRecord) == 0


async def test_a_dry_run_lists_what_it_would_register_and_writes_nothing(
    settings, session, tmp_path
):
    await make_organisation(session, **{k: v or None for k, v in UNESCO.items()})
    path = write_csv(tmp_path / "organisations.csv", [UNESCO, BRIGHTWAVE])

    result = await invoke(settings, "import", "organisations", path, "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "would create organisation 'Brightwave Telecom' (KE), line 3",
        "Dry run of organisations.csv: 2 rows, all valid; created 1, unchanged 1. "
        "Nothing was written.",
    ]
    assert await count(session, models.Organisation) == 1


async def test_a_row_naming_a_registered_organisation_with_other_values_is_refused(
    settings, session, tmp_path
):
    await make_organisation(session, **{k: v or None for k, v in UNESCO.items()})
    await make_organisation(session, **{k: v or None for k, v in BRIGHTWAVE.items()})
    rows = [
        {**UNESCO, "name": "UNESCO HQ", "website": ""},
        {**BRIGHTWAVE, "acronym": "BW"},
        DAYBREAK,
    ]
    path = write_csv(tmp_path / "organisations.csv", rows)

    result = await invoke(settings, "import", "organisations", path)

    assert result.exit_code == 1
    assert stderr_lines(result) == [
        "line 2: name: DIFFERS: Differs from the existing record: the file says 'UNESCO HQ', "
        "the hub has 'UNESCO'.",
        "line 2: website: DIFFERS: Differs from the existing record: the file says nothing, "
        "the hub has 'https://www.unesco.org'.",
        "line 3: acronym: DIFFERS: Differs from the existing record: the file says 'BW', "
        "the hub has 'BWT'.",
        "error: 2 of 3 rows of organisations.csv are invalid; nothing was written.",
    ]
    assert await count(session, models.Organisation) == 2


async def test_a_header_with_unknown_or_missing_columns_is_refused_whole(
    settings, session, tmp_path
):
    path = write_csv(
        tmp_path / "organisations.csv",
        [{"name": "Lumen", "type": "60", "country": "KE"}],
    )

    result = await invoke(settings, "import", "organisations", path)

    assert result.exit_code == 1
    assert stderr_lines(result) == [
        "line 1: type: NOT_ALLOWED: Not a column of organisations.csv; its columns are "
        "iati_identifier, name, acronym, organisation_type, hub_category, country, website, "
        "description.",
        "line 1: organisation_type: REQUIRED: The header needs this column.",
        "error: organisations.csv cannot be read as an import; nothing was written.",
    ]
    assert await count(session, models.Organisation) == 0


async def test_only_the_columns_a_file_has_are_compared_and_cells_are_trimmed(
    settings, session, tmp_path
):
    await make_organisation(session, **{k: v or None for k, v in UNESCO.items()})
    path = tmp_path / "organisations.csv"
    # A spreadsheet's own: a byte order mark, CRLF line ends, spaces, an empty row.
    path.write_bytes(
        "\ufeffname,organisation_type,country,iati_identifier\r\n"
        " UNESCO ,40,FR,XM-DAC-41304\r\n"
        ",,,\r\n"
        "Lumen Foundation,60, KE,\r\n".encode()
    )

    result = await invoke(settings, "import", "organisations", path)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Imported organisations.csv: 2 rows; created 1, unchanged 1."
    ]
    assert ("Lumen Foundation", None, "60", None, "KE") in await _registered(session)


async def test_a_file_that_is_not_utf8_is_refused_at_the_line_it_breaks(
    settings, session, tmp_path
):
    path = tmp_path / "organisations.csv"
    path.write_bytes(b"name,organisation_type,country\nLumen,60,KE\nEscola S\xe3o Paulo,22,BR\n")

    result = await invoke(settings, "import", "organisations", path)

    assert result.exit_code == 1
    assert stderr_lines(result) == [
        "line 3: BAD_FORMAT: Not UTF-8 text; save the file as CSV UTF-8.",
        "error: organisations.csv cannot be read as an import; nothing was written.",
    ]
    assert await count(session, models.Organisation) == 0


async def test_a_row_with_too_few_cells_is_a_bad_row_and_quoted_cells_may_span_lines(
    settings, session, tmp_path
):
    path = tmp_path / "organisations.csv"
    path.write_text(
        "name,organisation_type,country,description\n"
        'Lumen,60,KE,"Reading, writing\nand counting"\n'
        "Escola Aberta,22\n"
        "Kalinga,21,KE,\n",
        encoding="utf-8",
    )

    result = await invoke(settings, "import", "organisations", path)

    assert stderr_lines(result) == [
        "line 4: BAD_FORMAT: 2 cells where the header has 4 columns.",
        "error: 1 of 3 rows of organisations.csv are invalid; nothing was written.",
    ]
    assert await count(session, models.Organisation) == 0


async def test_the_import_shows_its_progress_on_standard_error(settings, session, tmp_path):
    path = write_csv(tmp_path / "organisations.csv", [UNESCO, BRIGHTWAVE, DAYBREAK])

    result = await invoke(settings, "import", "organisations", path)

    assert result.exit_code == 0, result.output
    assert "Organisations" in result.stderr
    assert "3/3 100%" in result.stderr


async def test_an_identifier_for_an_organisation_registered_without_one_differs(
    settings, session, tmp_path
):
    await make_organisation(session, name="UNESCO", organisation_type="40", country="FR")
    path = write_csv(tmp_path / "organisations.csv", [UNESCO])

    result = await invoke(settings, "import", "organisations", path)

    assert stderr_lines(result)[0] == (
        "line 2: iati_identifier: DIFFERS: Differs from the existing record: the file says "
        "'XM-DAC-41304', the hub has nothing."
    )
    assert await count(session, models.Organisation) == 1
