"""Finds the records a row names: coalitions by slug, workstreams by name, organisations by
IATI identifier or else name, commitments by ref. A name that finds nothing, or more than
one record, is an issue of its column."""

import sqlalchemy as sa
from sqlmodel import col

from backend import models
from backend.errors import AMBIGUOUS, DIFFERS, NotFound
from backend.imports.compare import Ref
from backend.imports.runner import Row, Run
from backend.services import coalitions, commitments

NOT_FOUND = NotFound.code


async def coalition(run: Run, row: Row, column: str, slug: str) -> models.Coalition | None:
    found = await coalitions.find(run.session, run.actor, slug=slug)
    if found is None:
        row.fail(column, NOT_FOUND, f"No coalition has the slug '{slug}'; create it first.")
    return found


async def workstream(
    run: Run, row: Row, column: str, coalition: models.Coalition, name: str
) -> models.Workstream | None:
    workstream = models.Workstream
    found = await run.session.scalar(
        sa.select(workstream).where(
            col(workstream.coalition_id) == coalition.id, col(workstream.name) == name
        )
    )
    if found is None:
        message = f"The coalition '{coalition.slug}' has no workstream named '{name}'."
        row.fail(column, NOT_FOUND, message)
    return found


async def organisation(
    run: Run,
    row: Row,
    column: str,
    key: str,
    *,
    country: str | None = None,
    country_column: str | None = None,
) -> models.Organisation | None:
    """The organisation whose IATI identifier is `key`, else the one named `key` (in
    `country`, when given)."""
    organisation = models.Organisation
    found = await run.session.scalar(
        sa.select(organisation).where(col(organisation.iati_identifier) == key)
    )
    if found is not None:
        if country is not None and found.country != country and country_column:
            row.fail(country_column, DIFFERS, f"'{key}' is registered in {found.country}.")
        return found
    named = sa.select(organisation).where(col(organisation.name) == key)
    if country is not None:
        named = named.where(col(organisation.country) == country)
    candidates = list(await run.session.scalars(named.order_by(col(organisation.id)).limit(2)))
    where = f" in {country}" if country is not None else ""
    if not candidates:
        message = f"No organisation has '{key}' as its IATI identifier, or as its name{where}."
        row.fail(column, NOT_FOUND, message)
        return None
    if len(candidates) > 1:
        hint = "" if country is not None or not country_column else f"; give {country_column}"
        message = f"Several organisations are named '{key}'{where}{hint}."
        row.fail(column, AMBIGUOUS, message)
        return None
    return candidates[0]


async def commitment(run: Run, row: Row, column: str, ref: str) -> models.Commitment | None:
    found = await commitments.find(run.session, run.actor, ref=ref)
    if found is None:
        row.fail(column, NOT_FOUND, f"No commitment has the ref '{ref}'.")
    return found


def organisation_ref(organisation: models.Organisation | None) -> Ref | None:
    if organisation is None:
        return None
    return Ref(organisation.id, organisation.iati_identifier or organisation.name)
