"""organisations.csv: registers the organisations a spreadsheet lists.

Natural key: the IATI identifier, else the name and country (an organisation registered
under that name and country without an identifier is the same one, and differs). A row
whose organisation is registered already is unchanged when every column it gives agrees,
and a problem when one does not (the import never overwrites a record)."""

from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col

from backend import models
from backend.csv_columns import ORGANISATION_COLUMNS
from backend.db import SessionFactory
from backend.errors import AMBIGUOUS, DUPLICATE
from backend.imports import compare, csvfile
from backend.imports.compare import View
from backend.imports.outcome import Outcome
from backend.imports.runner import Progress, Row, Run, each_line, run
from backend.services import organisations

COLUMNS = csvfile.Columns(
    name="organisations.csv",
    known=ORGANISATION_COLUMNS,
    required=frozenset({"name", "organisation_type", "country"}),
)
Key = tuple[str, ...]


async def import_file(
    session_factory: SessionFactory,
    path: Path,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    rate_window_days: int,
) -> Outcome:
    keys: dict[Key, int] = {}

    return await run(
        session_factory,
        path,
        COLUMNS,
        each_line("Organisations", lambda importing, row: _import(importing, row, keys)),
        fields={},
        dry_run=dry_run,
        progress=progress,
        rate_window_days=rate_window_days,
    )


async def _import(run: Run, row: Row, keys: dict[Key, int]) -> None:
    cells = row.cells
    draft = organisations.OrganisationDraft(
        name=cells.text("name") or "",
        organisation_type=cells.text("organisation_type") or "",
        country=cells.text("country") or "",
        acronym=cells.text("acronym"),
        iati_identifier=cells.text("iati_identifier"),
        hub_category=cells.member("hub_category", models.HubCategory),
        website=cells.text("website"),
        description=cells.text("description"),
    )
    key: Key = (
        ("iati_identifier", draft.iati_identifier)
        if draft.iati_identifier
        else ("name", draft.name, draft.country)
    )
    if key in keys:
        named = "IATI identifier" if draft.iati_identifier else "name and country"
        row.fail(key[0], DUPLICATE, f"Line {keys[key]} has the same {named}.")
        return
    keys[key] = row.line.number
    existing = await _existing(run, row, draft)
    if existing is not None:
        row.add(compare.differences(_given(row, draft), view(existing), existing=True))
        if row.ok:
            run.unchanged()
        return
    if any(issue.code == AMBIGUOUS for issue in row.issues):
        return
    organisation = await organisations.register(run.session, run.actor, draft=draft)
    if row.ok:
        where = organisation.iati_identifier or organisation.country
        run.created(f"organisation '{organisation.name}' ({where}), line {row.line.number}")


async def _existing(
    run: Run, row: Row, draft: organisations.OrganisationDraft
) -> models.Organisation | None:
    organisation = models.Organisation
    if draft.iati_identifier:
        statement = sa.select(organisation).where(
            col(organisation.iati_identifier) == draft.iati_identifier
        )
        identified = await run.session.scalar(statement)
        if identified is not None:
            return identified
    statement = sa.select(organisation).where(
        col(organisation.name) == draft.name, col(organisation.country) == draft.country
    )
    if draft.iati_identifier:
        # Registered earlier without its identifier: the same organisation, whose record
        # differs, rather than a second one of the same name.
        statement = statement.where(col(organisation.iati_identifier).is_(None))
    found = list(await run.session.scalars(statement.limit(2)))
    if len(found) > 1:
        message = f"Several organisations in {draft.country} are named '{draft.name}'."
        row.fail("name", AMBIGUOUS, message)
        return None
    return found[0] if found else None


def _given(row: Row, draft: organisations.OrganisationDraft) -> View:
    """The columns the file gives, as the record would hold them."""
    values = {column: getattr(draft, column) for column in COLUMNS.known}
    return {column: value for column, value in values.items() if column in row.line.cells}


def view(organisation: models.Organisation) -> View:
    return {column: getattr(organisation, column) for column in COLUMNS.known}
