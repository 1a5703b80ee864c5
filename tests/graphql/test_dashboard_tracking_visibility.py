"""Delivery tracking as partners and the public see it: what they may list, without
others' confidential amounts; and across the portfolio, as the secretariat sees it."""

import datetime as dt
from decimal import Decimal
from typing import Any

from backend import models
from tests.backdating import ago, backdate
from tests.conftest import Api
from tests.factories import (
    make_coalition,
    make_commitment,
    make_delivery,
    make_member_editor,
    make_membership,
    make_organisation,
    make_token,
)
from tests.graphql.test_dashboard_tracking import OVERDUE

Stage = models.Stage


def _dashboard(data: dict[str, Any]) -> dict[str, Any]:
    dashboard: dict[str, Any] = data["coalition"]["dashboard"]
    return dashboard


async def test_a_partner_sees_others_overdue_commitments_without_their_confidential_amounts(
    session: Any, api: Api
) -> None:
    coalition = await make_coalition(session)
    reader = await make_organisation(session, name="Reader")
    await make_membership(session, coalition, reader)
    token = await make_token(session, models.Role.PARTNER_EDITOR, reader)
    outsider = await make_organisation(session, name="Outsider")
    await make_membership(session, coalition, outsider)
    secret = await make_commitment(
        session,
        coalition,
        outsider,
        stage=Stage.COMMITTED,
        title="Theirs, confidential",
        visibility=models.Visibility.CONFIDENTIAL,
        end_date=ago(30),
    )
    await make_delivery(session, secret, amount=Decimal("700"))
    await make_commitment(
        session,
        coalition,
        reader,
        title="Mine, confidential",
        visibility=models.Visibility.CONFIDENTIAL,
        end_date=ago(20),
    )
    await make_commitment(
        session,
        coalition,
        outsider,
        title="Members only",
        visibility=models.Visibility.MEMBERS,
        end_date=ago(10),
    )
    await make_commitment(
        session,
        coalition,
        outsider,
        title="Embargoed",
        embargo_until=models.utcnow() + dt.timedelta(days=5),
        end_date=ago(5),
    )
    secretariat = await make_token(session, models.Role.SECRETARIAT_ANALYST)

    def seen(data: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [
            (
                item["commitment"]["title"],
                item["commitment"]["amount"],
                item["amountUsd"],
                item["deliveredUsd"],
            )
            for item in _dashboard(data)["overdue"]["items"]
        ]

    as_partner = seen(await api(OVERDUE, {"slug": coalition.slug}, token=token))
    anonymously = seen(await api(OVERDUE, {"slug": coalition.slug}))
    as_secretariat = seen(await api(OVERDUE, {"slug": coalition.slug}, token=secretariat))

    assert as_partner == [
        ("Theirs, confidential", None, None, None),
        ("Mine, confidential", "10000.00", "10000.00", "0.00"),
        ("Members only", "10000.00", "10000.00", "0.00"),
    ]
    assert anonymously == [
        ("Theirs, confidential", None, None, None),
        ("Mine, confidential", None, None, None),
    ]
    assert as_secretariat == [
        ("Theirs, confidential", "10000.00", "10000.00", "700.00"),
        ("Mine, confidential", "10000.00", "10000.00", "0.00"),
        ("Members only", "10000.00", "10000.00", "0.00"),
        ("Embargoed", "10000.00", "10000.00", "0.00"),
    ]


async def test_commitments_a_partner_may_not_list_leave_its_staleness_counts(
    session: Any, api: Api
) -> None:
    coalition, token = await make_member_editor(session)
    outsider = await make_organisation(session, name="Outsider")
    await make_membership(session, coalition, outsider, joined_on=ago(1000))
    embargoed = await make_commitment(
        session, coalition, outsider, embargo_until=models.utcnow() + dt.timedelta(days=5)
    )
    await backdate(session, embargoed, recorded=10)
    old = await make_commitment(session, coalition, outsider)
    await backdate(session, old, recorded=900)
    secretariat = await make_token(session, models.Role.SECRETARIAT_ANALYST)

    def counts(data: dict[str, Any]) -> tuple[Any, Any]:
        dashboard = _dashboard(data)
        return dashboard["staleness"], dashboard["memberStaleness"]

    query = """
    query Counts($slug: String!) {
      coalition(slug: $slug) {
        dashboard { staleness { green yellow red } memberStaleness { green yellow red } }
      }
    }
    """
    as_partner = counts(await api(query, {"slug": coalition.slug}, token=token))
    as_secretariat = counts(await api(query, {"slug": coalition.slug}, token=secretariat))

    # The embargoed pledge would make the outsider green: to the partner it is red.
    assert as_partner == ({"green": 0, "yellow": 0, "red": 1}, {"green": 1, "yellow": 0, "red": 1})
    assert as_secretariat == (
        {"green": 1, "yellow": 0, "red": 1},
        {"green": 2, "yellow": 0, "red": 0},
    )


async def test_a_page_larger_than_the_limit_is_refused(session: Any, api: Api) -> None:
    coalition = await make_coalition(session)

    response = await api.post(OVERDUE, {"slug": coalition.slug, "first": 101})

    error = response.json()["errors"][0]
    assert error["extensions"] == {
        "code": "INVALID_INPUT",
        "fields": [{"field": "first", "code": "BAD_RANGE"}],
    }


async def test_the_portfolio_tracks_every_coalition(session: Any, api: Api) -> None:
    partner = await make_organisation(session)
    names = {}
    for days in (100, 500, 800):
        coalition = await make_coalition(session)
        names[days] = coalition.name
        await make_membership(session, coalition, partner, joined_on=ago(900))
        commitment = await make_commitment(session, coalition, partner, end_date=ago(days))
        await backdate(session, commitment, recorded=days)
    token = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    query = """
    {
      portfolio {
        overdue { totalCount }
        staleness { green yellow red }
        memberStaleness { green yellow red }
        staleMembers { items { coalition { name } daysSinceReport } }
      }
    }
    """

    data = await api(query, token=token)

    assert data["portfolio"] == {
        "overdue": {"totalCount": 3},
        "staleness": {"green": 1, "yellow": 1, "red": 1},
        "memberStaleness": {"green": 1, "yellow": 1, "red": 1},
        "staleMembers": {
            "items": [
                {"coalition": {"name": names[800]}, "daysSinceReport": 800},
                {"coalition": {"name": names[500]}, "daysSinceReport": 500},
            ]
        },
    }
