"""Delivery tracking on the dashboard: overdue commitments and staleness per commitment and
per member, judged on the as-of day, over what the reader may see."""

from decimal import Decimal
from typing import Any

from backend import models
from backend.actors import SYSTEM
from backend.services import deliveries
from tests.backdating import ago, backdate
from tests.conftest import Api
from tests.factories import (
    make_coalition,
    make_commitment,
    make_delivery,
    make_membership,
    make_organisation,
)

Stage = models.Stage
OVERDUE = """
query Overdue($slug: String!, $to: Date, $first: Int) {
  coalition(slug: $slug) {
    dashboard(to: $to) {
      asOf
      overdue(first: $first) {
        totalCount
        items { commitment { title amount } daysOverdue amountUsd deliveredUsd }
      }
    }
  }
}
"""
STALENESS = """
query Staleness($slug: String!, $to: Date, $colour: Staleness) {
  coalition(slug: $slug) {
    dashboard(to: $to) {
      staleness { green yellow red }
      staleCommitments(colour: $colour) {
        totalCount
        items { commitment { title } lastReportOn daysSinceReport colour }
      }
    }
  }
}
"""
MEMBERS = """
query Members($slug: String!, $colour: Staleness) {
  coalition(slug: $slug) {
    dashboard {
      memberStaleness { green yellow red }
      staleMembers(colour: $colour) {
        totalCount
        items {
          organisation { name } coalition { slug } membership { status }
          lastReportOn daysSinceReport colour
        }
      }
    }
  }
}
"""


def _dashboard(data: dict[str, Any]) -> dict[str, Any]:
    dashboard: dict[str, Any] = data["coalition"]["dashboard"]
    return dashboard


async def _world(session: Any) -> tuple[models.Coalition, models.Organisation]:
    coalition = await make_coalition(session)
    partner = await make_organisation(session, name="Acme")
    await make_membership(session, coalition, partner)
    return coalition, partner


async def test_open_commitments_past_their_end_date_are_overdue_most_overdue_first(
    session: Any, api: Api
) -> None:
    coalition, partner = await _world(session)
    for title, stage, end in [
        ("Pledge", Stage.PLEDGED, ago(10)),
        ("Delivering", Stage.IN_DELIVERY, ago(1)),
        ("Ends today", Stage.COMMITTED, ago(0)),
        ("Fulfilled", Stage.FULFILLED, ago(100)),
        ("Withdrawn", Stage.WITHDRAWN, ago(100)),
        ("Cancelled", Stage.CANCELLED, ago(100)),
        ("Open-ended", Stage.COMMITTED, None),
    ]:
        await make_commitment(session, coalition, partner, stage=stage, title=title, end_date=end)
    late = await make_commitment(
        session, coalition, partner, stage=Stage.COMMITTED, title="Late", end_date=ago(40)
    )
    await make_delivery(session, late, amount=Decimal("1000"), delivered_on=ago(50))
    await make_delivery(session, late, amount=Decimal("250.5"), delivered_on=ago(5))
    disputed = await make_delivery(session, late, amount=Decimal("900"))
    await _dispute(session, disputed)

    overdue = _dashboard(await api(OVERDUE, {"slug": coalition.slug}))["overdue"]

    assert overdue == {
        "totalCount": 3,
        "items": [
            {
                "commitment": {"title": "Late", "amount": "10000.00"},
                "daysOverdue": 40,
                "amountUsd": "10000.00",
                "deliveredUsd": "1250.50",
            },
            {
                "commitment": {"title": "Pledge", "amount": "10000.00"},
                "daysOverdue": 10,
                "amountUsd": "10000.00",
                "deliveredUsd": "0.00",
            },
            {
                "commitment": {"title": "Delivering", "amount": "10000.00"},
                "daysOverdue": 1,
                "amountUsd": "10000.00",
                "deliveredUsd": "0.00",
            },
        ],
    }


async def test_overdue_is_judged_on_the_periods_last_day(session: Any, api: Api) -> None:
    coalition, partner = await _world(session)
    await make_commitment(
        session, coalition, partner, title="Ended", value_date=ago(300), end_date=ago(200)
    )
    await make_commitment(
        session, coalition, partner, title="Ends later", value_date=ago(300), end_date=ago(20)
    )
    # Made after the period's end: not on the books then.
    await make_commitment(session, coalition, partner, title="New", end_date=ago(150))

    dashboard = _dashboard(await api(OVERDUE, {"slug": coalition.slug, "to": str(ago(100))}))
    first_only = _dashboard(await api(OVERDUE, {"slug": coalition.slug, "first": 0}))

    assert dashboard["asOf"] == str(ago(100))
    assert [item["daysOverdue"] for item in dashboard["overdue"]["items"]] == [100]
    assert first_only["overdue"] == {"totalCount": 3, "items": []}


async def test_staleness_turns_yellow_at_365_days_and_red_at_730(session: Any, api: Api) -> None:
    coalition, partner = await _world(session)
    for days in (364, 365, 729, 730):
        pledge = await make_commitment(session, coalition, partner, title=f"{days} days")
        await backdate(session, pledge, recorded=days)
    for stage in (Stage.FULFILLED, Stage.WITHDRAWN, Stage.CANCELLED):
        closed = await make_commitment(session, coalition, partner, stage=stage, title="Closed")
        await backdate(session, closed, recorded=1000, progress=1000)

    dashboard = _dashboard(await api(STALENESS, {"slug": coalition.slug}))
    red = _dashboard(await api(STALENESS, {"slug": coalition.slug, "colour": "RED"}))

    assert dashboard["staleness"] == {"green": 1, "yellow": 2, "red": 1}
    assert dashboard["staleCommitments"] == {
        "totalCount": 3,
        "items": [
            {
                "commitment": {"title": "730 days"},
                "lastReportOn": str(ago(730)),
                "daysSinceReport": 730,
                "colour": "RED",
            },
            {
                "commitment": {"title": "729 days"},
                "lastReportOn": str(ago(729)),
                "daysSinceReport": 729,
                "colour": "YELLOW",
            },
            {
                "commitment": {"title": "365 days"},
                "lastReportOn": str(ago(365)),
                "daysSinceReport": 365,
                "colour": "YELLOW",
            },
        ],
    }
    assert [item["commitment"]["title"] for item in red["staleCommitments"]["items"]] == [
        "730 days"
    ]


async def test_a_recent_delivery_keeps_a_commitment_green_whatever_its_stage_change(
    session: Any, api: Api
) -> None:
    coalition, partner = await _world(session)
    delivered = await make_commitment(
        session, coalition, partner, stage=Stage.COMMITTED, title="Delivered lately"
    )
    await make_delivery(session, delivered, delivered_on=ago(10))
    # The stage change was long ago; the delivery's day is what counts.
    await backdate(session, delivered, recorded=900, progress=800)
    earlier = await make_commitment(
        session, coalition, partner, stage=Stage.COMMITTED, title="Delivered a while ago"
    )
    await make_delivery(session, earlier, delivered_on=ago(400))
    await backdate(session, earlier, recorded=900, progress=500)
    advanced = await make_commitment(
        session, coalition, partner, stage=Stage.COMMITTED, title="Advanced lately"
    )
    await backdate(session, advanced, recorded=900, progress=30)

    green = _dashboard(await api(STALENESS, {"slug": coalition.slug, "colour": "GREEN"}))
    stale = _dashboard(await api(STALENESS, {"slug": coalition.slug}))

    assert green["staleness"] == {"green": 2, "yellow": 1, "red": 0}
    assert [
        (item["commitment"]["title"], item["lastReportOn"], item["colour"])
        for item in green["staleCommitments"]["items"]
    ] == [
        ("Advanced lately", str(ago(30)), "GREEN"),
        ("Delivered lately", str(ago(10)), "GREEN"),
    ]
    assert [
        (item["commitment"]["title"], item["lastReportOn"], item["daysSinceReport"])
        for item in stale["staleCommitments"]["items"]
    ] == [("Delivered a while ago", str(ago(400)), 400)]


async def test_reports_after_the_as_of_day_do_not_count(session: Any, api: Api) -> None:
    coalition, partner = await _world(session)
    commitment = await make_commitment(
        session, coalition, partner, stage=Stage.COMMITTED, title="Old", value_date=ago(500)
    )
    await make_delivery(session, commitment, delivered_on=ago(50))
    await backdate(session, commitment, recorded=500, progress=40)

    then = _dashboard(await api(STALENESS, {"slug": coalition.slug, "to": str(ago(100))}))
    now = _dashboard(await api(STALENESS, {"slug": coalition.slug}))

    assert then["staleness"] == {"green": 0, "yellow": 1, "red": 0}
    assert [
        (item["lastReportOn"], item["daysSinceReport"])
        for item in then["staleCommitments"]["items"]
    ] == [(str(ago(500)), 400)]
    assert now["staleness"] == {"green": 1, "yellow": 0, "red": 0}


async def test_members_are_as_stale_as_their_latest_report_in_the_coalition(
    session: Any, api: Api
) -> None:
    coalition = await make_coalition(session)
    other = await make_coalition(session)
    members = {
        name: await make_organisation(session, name=name)
        for name in ("Withdrew", "Delivers", "Quiet", "Silent", "Newcomer", "Elsewhere")
    }
    joined = {"Silent": ago(400), "Newcomer": ago(20), "Elsewhere": ago(800)}
    for name, organisation in members.items():
        await make_membership(
            session, coalition, organisation, joined_on=joined.get(name, ago(900))
        )
    suspended = await make_organisation(session, name="Suspended")
    await make_membership(
        session, coalition, suspended, status=models.MembershipStatus.SUSPENDED, joined_on=ago(900)
    )
    # Any stage counts: withdrawing is a report.
    withdrawn = await make_commitment(
        session, coalition, members["Withdrew"], stage=Stage.WITHDRAWN
    )
    await backdate(session, withdrawn, recorded=800, progress=100)
    delivering = await make_commitment(
        session, coalition, members["Delivers"], stage=Stage.COMMITTED
    )
    await make_delivery(session, delivering, delivered_on=ago(30))
    await backdate(session, delivering, recorded=800, progress=800)
    for days in (900, 731):
        quiet = await make_commitment(session, coalition, members["Quiet"])
        await backdate(session, quiet, recorded=days)
    await make_commitment(session, other, members["Elsewhere"])

    dashboard = _dashboard(await api(MEMBERS, {"slug": coalition.slug}))
    green = _dashboard(await api(MEMBERS, {"slug": coalition.slug, "colour": "GREEN"}))

    assert dashboard["memberStaleness"] == {"green": 3, "yellow": 1, "red": 2}
    assert [
        (
            item["organisation"]["name"],
            item["lastReportOn"],
            item["daysSinceReport"],
            item["colour"],
        )
        for item in dashboard["staleMembers"]["items"]
    ] == [
        ("Elsewhere", str(ago(800)), 800, "RED"),
        ("Quiet", str(ago(731)), 731, "RED"),
        ("Silent", str(ago(400)), 400, "YELLOW"),
    ]
    assert dashboard["staleMembers"]["items"][0]["coalition"] == {"slug": coalition.slug}
    assert [
        (item["organisation"]["name"], item["lastReportOn"])
        for item in green["staleMembers"]["items"]
    ] == [("Withdrew", str(ago(100))), ("Delivers", str(ago(30))), ("Newcomer", str(ago(20)))]


async def _dispute(session: Any, delivery: models.Delivery) -> None:
    assert delivery.id is not None
    await deliveries.dispute(session, SYSTEM, delivery_id=delivery.id, reason="Not received")
    await session.commit()
