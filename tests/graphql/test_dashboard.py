"""The dashboard's frame: who may read it, its period, and commitments counted by stage."""

import datetime as dt
from typing import Any

import pytest

from backend import models
from tests.conftest import Api
from tests.factories import (
    in_kind_line,
    make_coalition,
    make_commitment,
    make_member_editor,
    make_membership,
    make_organisation,
    make_token,
)

Stage = models.Stage
COUNTS = """
query Counts($slug: String!, $from: Date, $to: Date) {
  coalition(slug: $slug) {
    dashboard(from: $from, to: $to) { periodFrom periodTo asOf countsByStage { stage count } }
  }
}
"""
PORTFOLIO = "{ portfolio { countsByStage { stage count } } }"


def _counts(data: dict[str, Any]) -> dict[str, int]:
    dashboard = data["coalition"]["dashboard"]
    return {row["stage"]: row["count"] for row in dashboard["countsByStage"]}


async def test_every_stage_is_counted_withdrawn_ones_too(session: Any, api: Api) -> None:
    coalition = await make_coalition(session)
    partner = await make_organisation(session)
    await make_membership(session, coalition, partner)
    for stage in (Stage.PLEDGED, Stage.PLEDGED, Stage.COMMITTED, Stage.WITHDRAWN):
        await make_commitment(session, coalition, partner, stage=stage)
    other = await make_coalition(session)
    await make_commitment(session, other, partner)

    counts = _counts(await api(COUNTS, {"slug": coalition.slug}))

    assert counts == {
        "PLEDGED": 2,
        "COMMITTED": 1,
        "IN_DELIVERY": 0,
        "FULFILLED": 0,
        "WITHDRAWN": 1,
        "CANCELLED": 0,
    }


async def test_the_period_holds_commitments_by_their_value_date(session: Any, api: Api) -> None:
    coalition = await make_coalition(session)
    partner = await make_organisation(session)
    for day in ("2025-12-31", "2026-01-01", "2026-06-30", "2026-07-01"):
        await make_commitment(session, coalition, partner, value_date=dt.date.fromisoformat(day))
    # An in-kind pledge has no value date: it is dated by the day it was recorded.
    await make_commitment(
        session,
        coalition,
        partner,
        resource_kind=models.ResourceKind.IN_KIND,
        amount=None,
        currency=None,
        in_kind=[in_kind_line()],
    )

    data = await api(COUNTS, {"slug": coalition.slug, "from": "2026-01-01", "to": "2026-06-30"})
    today = await api(COUNTS, {"slug": coalition.slug, "from": dt.date.today().isoformat()})

    assert _counts(data)["PLEDGED"] == 2
    assert data["coalition"]["dashboard"]["periodFrom"] == "2026-01-01"
    assert data["coalition"]["dashboard"]["asOf"] == "2026-06-30"
    assert _counts(today)["PLEDGED"] == 1


async def test_a_period_that_ends_before_it_starts_is_refused(session: Any, api: Api) -> None:
    coalition = await make_coalition(session)

    response = await api.post(
        COUNTS, {"slug": coalition.slug, "from": "2026-02-01", "to": "2026-01-31"}
    )

    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["extensions"]["fields"] == [{"field": "to", "code": "BAD_RANGE"}]


async def test_a_partner_counts_only_what_it_may_list(session: Any, api: Api) -> None:
    coalition, token = await make_member_editor(session)
    outsider = await make_organisation(session)
    embargoed = models.utcnow() + dt.timedelta(days=3)
    await make_commitment(session, coalition, outsider)
    await make_commitment(session, coalition, outsider, embargo_until=embargoed)
    secretariat = await make_token(session, models.Role.SECRETARIAT_ANALYST)

    as_partner = _counts(await api(COUNTS, {"slug": coalition.slug}, token=token))
    as_secretariat = _counts(await api(COUNTS, {"slug": coalition.slug}, token=secretariat))

    assert as_partner["PLEDGED"] == 1
    assert as_secretariat["PLEDGED"] == 2


@pytest.mark.parametrize("role", [None, models.Role.PARTNER_ADMIN])
async def test_the_portfolio_is_the_secretariats(
    session: Any, api: Api, role: models.Role | None
) -> None:
    organisation = await make_organisation(session)
    token = await make_token(session, role, organisation) if role else None

    response = await api.post(PORTFOLIO, token=token)

    expected = "UNAUTHENTICATED" if role is None else "PERMISSION_DENIED"
    assert response.json()["errors"][0]["extensions"]["code"] == expected


async def test_the_portfolio_counts_every_coalition(session: Any, api: Api) -> None:
    partner = await make_organisation(session)
    for _ in range(2):
        await make_commitment(session, await make_coalition(session), partner)
    token = await make_token(session, models.Role.SECRETARIAT_ANALYST)

    data = await api(PORTFOLIO, token=token)

    counts = {row["stage"]: row["count"] for row in data["portfolio"]["countsByStage"]}
    assert counts["PLEDGED"] == 2
