"""An export's filters: the commitments query's filters, as text from a URL or a command line,
checked and resolved to ids once, then applied in SQL to any commitments table or alias."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from backend import codes, models
from backend.errors import BAD_FORMAT, BAD_RANGE, UNKNOWN_CODE, FieldIssue, InvalidInput


@dataclass(frozen=True)
class Filters:
    """What the caller asked for, as given; every field is optional (None or empty: any).

    `organisation` is an IATI identifier or a name (the CSV's `organisation` column),
    `workstream` a workstream's name (in `coalition`, when one is given)."""

    coalition: str | None = None
    workstream: str | None = None
    organisation: str | None = None
    organisation_type: str | None = None
    stages: Sequence[str] = ()
    resource_kind: str | None = None
    country: str | None = None
    sdg_target: str | None = None
    period_from: str | None = None
    period_to: str | None = None


@dataclass(frozen=True)
class Selection:
    """Filters checked and resolved. `coalition_ids` and the period go into a Scope; the
    rest narrows the commitments (`matching`)."""

    coalition_ids: list[int] | None = None
    workstream_ids: list[int] | None = None
    organisation_ids: list[int] | None = None
    organisation_type: str | None = None
    stages: list[models.Stage] = field(default_factory=list)
    resource_kind: models.ResourceKind | None = None
    country: str | None = None
    sdg_target: str | None = None
    period_from: dt.date | None = None
    period_to: dt.date | None = None


async def resolve(connection: AsyncConnection, filters: Filters) -> Selection:
    """The filters resolved; InvalidInput naming every parameter that is malformed, not a
    known code, or names nothing (the field is the parameter's name: `stage`, `from`...)."""
    issues: list[FieldIssue] = []

    def fail(parameter: str, code: str, message: str) -> None:
        issues.append(FieldIssue(field=parameter, code=code, message=message))

    coalition_ids = None
    if given(filters.coalition):
        coalition = models.table_of(models.Coalition)
        found = await connection.scalar(
            sa.select(coalition.c.id).where(coalition.c.slug == filters.coalition)
        )
        if found is None:
            fail("coalition", UNKNOWN_CODE, f"No coalition has the slug '{filters.coalition}'.")
        coalition_ids = [found] if found is not None else []

    workstream_ids = None
    if given(filters.workstream):
        workstream = models.table_of(models.Workstream)
        named = sa.select(workstream.c.id).where(workstream.c.name == filters.workstream)
        if coalition_ids:
            named = named.where(workstream.c.coalition_id.in_(coalition_ids))
        workstream_ids = list(await connection.scalars(named))
        if not workstream_ids and coalition_ids != []:
            fail("workstream", UNKNOWN_CODE, f"No workstream is named '{filters.workstream}'.")

    organisation_ids = None
    if given(filters.organisation):
        organisation = models.table_of(models.Organisation)
        wanted = str(filters.organisation).strip().lower()
        # Its IATI identifier, or else its name: several organisations may share a name
        # (in different countries), and all of them are exported.
        organisation_ids = list(
            await connection.scalars(
                sa.select(organisation.c.id).where(
                    sa.or_(
                        sa.func.lower(organisation.c.iati_identifier) == wanted,
                        sa.func.lower(organisation.c.name) == wanted,
                    )
                )
            )
        )
        if not organisation_ids:
            fail(
                "organisation",
                UNKNOWN_CODE,
                f"No organisation has '{filters.organisation}' as its IATI identifier or name.",
            )

    organisation_type = _code(
        fail, "organisation_type", filters.organisation_type, codes.is_organisation_type
    )
    country = _code(fail, "country", filters.country, codes.is_country)
    sdg_target = _code(fail, "sdg_target", filters.sdg_target, codes.is_sdg_target)

    stages = []
    for value in filters.stages:
        try:
            stages.append(models.Stage(value))
        except ValueError:
            known = ", ".join(models.Stage)
            fail("stage", UNKNOWN_CODE, f"'{value}' is not a stage ({known}).")

    resource_kind = None
    if filters.resource_kind is not None and given(filters.resource_kind):
        try:
            resource_kind = models.ResourceKind(filters.resource_kind)
        except ValueError:
            known = ", ".join(models.ResourceKind)
            fail(
                "resource_kind",
                UNKNOWN_CODE,
                f"'{filters.resource_kind}' is not a resource kind ({known}).",
            )

    period_from = _date(fail, "from", filters.period_from)
    period_to = _date(fail, "to", filters.period_to)
    if period_from is not None and period_to is not None and period_to < period_from:
        fail("to", BAD_RANGE, "The period ends before it starts.")

    if issues:
        raise InvalidInput(issues)
    return Selection(
        coalition_ids=coalition_ids,
        workstream_ids=workstream_ids,
        organisation_ids=organisation_ids,
        organisation_type=organisation_type,
        stages=stages,
        resource_kind=resource_kind,
        country=country,
        sdg_target=sdg_target,
        period_from=period_from,
        period_to=period_to,
    )


def matching(selection: Selection, commitment: Any) -> sa.ColumnElement[bool]:
    """The selection's commitment filters (coalition and period aside: the Scope holds
    them) for a commitments table or alias, as the commitments query applies them."""
    conditions: list[sa.ColumnElement[bool]] = []
    if selection.workstream_ids is not None:
        conditions.append(commitment.c.workstream_id.in_(selection.workstream_ids))
    if selection.organisation_ids is not None:
        conditions.append(commitment.c.organisation_id.in_(selection.organisation_ids))
    if selection.organisation_type is not None:
        organisation = models.table_of(models.Organisation)
        of_type = sa.select(organisation.c.id).where(
            organisation.c.organisation_type == selection.organisation_type
        )
        conditions.append(commitment.c.organisation_id.in_(of_type))
    if selection.stages:
        conditions.append(commitment.c.stage.in_(selection.stages))
    if selection.resource_kind is not None:
        conditions.append(commitment.c.resource_kind == selection.resource_kind)
    if selection.country is not None:
        conditions.append(models.JsonListContains(commitment.c.countries, selection.country))
    if selection.sdg_target is not None:
        conditions.append(models.JsonListContains(commitment.c.sdg_targets, selection.sdg_target))
    return sa.and_(sa.true(), *conditions)


def given(value: str | None) -> bool:
    return value is not None and value.strip() != ""


def _code(fail: Any, parameter: str, value: str | None, known: Any) -> str | None:
    if not given(value):
        return None
    assert value is not None
    if not known(value):
        fail(parameter, UNKNOWN_CODE, f"'{value}' is not a known {parameter.replace('_', ' ')}.")
    return value


def _date(fail: Any, parameter: str, value: str | None) -> dt.date | None:
    if not given(value):
        return None
    assert value is not None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        fail(parameter, BAD_FORMAT, f"'{value}' is not a date (YYYY-MM-DD).")
        return None
