"""A coalition's IATI 2.03 activity file: the coalition (or each of its workstreams) as an
`iati-activity` reported by its host organisation, public facts only.

The mapping lives in iati_activity.py, the rows in iati_source.py, the XML in iati_xml.py;
README.md ("IATI 2.03 export") has the table of what goes where and what is left out.
"""

import datetime as dt
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.errors import Conflict
from backend.reports import iati_activity, iati_source, iati_xml


class Grouping(StrEnum):
    """What one `iati-activity` stands for."""

    COALITION = "coalition"
    WORKSTREAM = "workstream"


class NoReportingOrganisation(Conflict):
    """IATI needs a reporting organisation with an IATI identifier: the coalition's host."""

    code = "IATI_NO_REPORTING_ORGANISATION"


async def activity_file(
    session: AsyncSession,
    *,
    slug: str,
    by: Grouping = Grouping.COALITION,
    generated_at: dt.datetime | None = None,
) -> bytes:
    """The IATI activities XML of coalition `slug` (UTF-8). NotFound for an unknown slug,
    NoReportingOrganisation when it has no host with an IATI organisation identifier."""
    source = await iati_source.read(session, slug)
    host = source.host
    if host is None:
        raise NoReportingOrganisation(
            f"Coalition '{slug}' has no host organisation to report it to IATI; "
            "give it one that has an IATI organisation identifier."
        )
    if not host.iati_identifier:
        raise NoReportingOrganisation(
            f"The host of coalition '{slug}', {host.name}, has no IATI organisation "
            "identifier; record it on the organisation before exporting to IATI."
        )
    generated_at = generated_at or models.utcnow()
    today = generated_at.astimezone(dt.UTC).date()
    if by is Grouping.WORKSTREAM:
        activities = iati_activity.workstream_activities(source, host, today=today)
    else:
        activities = [iati_activity.coalition_activity(source, host, today=today)]
    return iati_xml.document(activities, generated_at=generated_at)
