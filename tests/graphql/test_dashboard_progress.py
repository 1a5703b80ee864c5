"""Over-delivery flags and workstream progress on the dashboard."""

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.actors import SYSTEM
from backend.services import commitments, deliveries
from tests.backdating import ago, backdate
from tests.conftest import Api
from tests.factories import (
    in_kind_line,
    make_coalition,
    make_commitment,
    make_delivery,
    make_membership,
    make_organisation,
    make_token,
    make_workstream,
)

Stage = models.Stage
OVER_DELIVERED = """
query OverDelivered($slug: String!) {
  coalition(slug: $slug) {
    dashboard {
      overDelivered {
        totalCount
        items { commitment { title } part line { unit } unit promised delivered ratio }
      }
    }
  }
}
"""
PROGRESS = """
query Progress($slug: String!) {
  coalition(slug: $slug) {
    dashboard {
      workstreamProgress {
        workstream { name }
        targetMetric targetValue targetDate reach percentOfTarget
        committedUsd deliveredUsd withheldCount daysLeft onTrack
      }
    }
  }
}
"""


async def _line(session: AsyncSession, commitment: models.Commitment) -> models.InKindLine:
    assert commitment.id is not None
    [line] = await commitments.in_kind_lines(session, commitment_ids=[commitment.id])
    return line


async def _deliver_goods(
    session: AsyncSession, commitment: models.Commitment, *quantities: str, **fields: Any
) -> None:
    line = await _line(session, commitment)
    for quantity in quantities:
        await make_delivery(
            session,
            commitment,
            amount=None,
            currency=None,
            in_kind_line_id=line.id,
            quantity=Decimal(quantity),
            **fields,
        )


async def _dispute(session: AsyncSession, delivery: models.Delivery) -> None:
    assert delivery.id is not None
    await deliveries.dispute(session, SYSTEM, delivery_id=delivery.id, reason="Not received")
    await session.commit()


async def _cancel(session: AsyncSession, commitment: models.Commitment) -> None:
    assert commitment.id is not None
    await session.refresh(commitment)
    await commitments.cancel(
        session, SYSTEM, commitment_id=commitment.id, version=commitment.version, reason="Off"
    )
    await session.commit()


async def test_deliveries_beyond_the_promise_are_flagged_most_over_first(
    session: AsyncSession, api: Api
) -> None:
    coalition = await make_coalition(session)
    partner = await make_organisation(session)
    await make_membership(session, coalition, partner)

    async def firm(title: str, *amounts: str, **fields: Any) -> models.Commitment:
        commitment = await make_commitment(
            session, coalition, partner, stage=Stage.COMMITTED, title=title, **fields
        )
        for amount in amounts:
            await make_delivery(session, commitment, amount=Decimal(amount))
        return commitment

    await firm("Cash over", "6000", "5000")
    await firm("Way over", "15000")
    await firm("Exactly", "4000", "6000")
    pushed = await firm("Over only if disputed counted", "9000")
    await _dispute(session, await make_delivery(session, pushed, amount=Decimal("2000")))
    await _cancel(session, await firm("Cancelled", "12000"))
    goods = await firm(
        "Data over",
        resource_kind=models.ResourceKind.IN_KIND,
        amount=None,
        currency=None,
        in_kind=[in_kind_line(quantity=Decimal("5000"), unit="GB")],
    )
    await _deliver_goods(session, goods, "3000", "3000")
    mixed = await firm(
        "Devices over",
        "1000",
        resource_kind=models.ResourceKind.MIXED,
        amount=Decimal("20000"),
        in_kind=[in_kind_line(quantity=Decimal("100"), unit="device")],
    )
    await _deliver_goods(session, mixed, "125")
    token = await make_token(session, models.Role.SECRETARIAT_ANALYST)

    data = await api(OVER_DELIVERED, {"slug": coalition.slug}, token=token)

    assert data["coalition"]["dashboard"]["overDelivered"] == {
        "totalCount": 4,
        "items": [
            {
                "commitment": {"title": "Way over"},
                "part": "CASH",
                "line": None,
                "unit": "USD",
                "promised": "10000.00",
                "delivered": "15000.00",
                "ratio": "1.5000",
            },
            {
                "commitment": {"title": "Devices over"},
                "part": "IN_KIND",
                "line": {"unit": "device"},
                "unit": "device",
                "promised": "100",
                "delivered": "125",
                "ratio": "1.2500",
            },
            {
                "commitment": {"title": "Data over"},
                "part": "IN_KIND",
                "line": {"unit": "GB"},
                "unit": "GB",
                "promised": "5000",
                "delivered": "6000",
                "ratio": "1.2000",
            },
            {
                "commitment": {"title": "Cash over"},
                "part": "CASH",
                "line": None,
                "unit": "USD",
                "promised": "10000.00",
                "delivered": "11000.00",
                "ratio": "1.1000",
            },
        ],
    }


async def test_a_partner_is_not_told_how_anothers_confidential_cash_compares(
    session: AsyncSession, api: Api
) -> None:
    coalition = await make_coalition(session)
    reader, other = await make_organisation(session), await make_organisation(session)
    for organisation in (reader, other):
        await make_membership(session, coalition, organisation)
    token = await make_token(session, models.Role.PARTNER_EDITOR, reader)
    confidential = await make_commitment(
        session,
        coalition,
        other,
        stage=Stage.COMMITTED,
        title="Theirs",
        visibility=models.Visibility.CONFIDENTIAL,
        resource_kind=models.ResourceKind.MIXED,
        in_kind=[in_kind_line(quantity=Decimal("10"), unit="seat")],
    )
    await make_delivery(session, confidential, amount=Decimal("12000"))
    await _deliver_goods(session, confidential, "11")
    mine = await make_commitment(
        session,
        coalition,
        reader,
        stage=Stage.COMMITTED,
        title="Mine",
        visibility=models.Visibility.CONFIDENTIAL,
    )
    await make_delivery(session, mine, amount=Decimal("10001"))

    data = await api(OVER_DELIVERED, {"slug": coalition.slug}, token=token)

    # Quantities are never hidden; how their hidden cash compares is.
    assert [
        (item["commitment"]["title"], item["part"], item["promised"], item["delivered"])
        for item in data["coalition"]["dashboard"]["overDelivered"]["items"]
    ] == [("Theirs", "IN_KIND", "10", "11"), ("Mine", "CASH", "10000.00", "10001.00")]


async def test_workstream_progress_counts_reach_by_share_and_money_once(
    session: AsyncSession, api: Api
) -> None:
    coalition = await make_coalition(session)
    teachers = await make_workstream(
        session,
        coalition,
        name="Teachers",
        target_metric="teachers trained",
        target_value=Decimal("1000"),
        target_date=ago(-100),
    )
    await backdate(session, teachers, recorded=100)
    open_ended = await make_workstream(session, coalition, name="Open")
    channel_owner, partner = await make_organisation(session), await make_organisation(session)
    for organisation in (channel_owner, partner):
        await make_membership(session, coalition, organisation)

    async def firm(organisation: models.Organisation, **fields: Any) -> models.Commitment:
        return await make_commitment(
            session, coalition, organisation, stage=Stage.COMMITTED, **fields
        )

    channel = await firm(channel_owner, workstream_id=teachers.id)
    await make_delivery(session, channel, amount=Decimal("1000"), beneficiaries=400)
    await make_delivery(
        session, channel, amount=Decimal("500"), beneficiaries=300, beneficiary_share=Decimal(50)
    )
    await _dispute(
        session, await make_delivery(session, channel, amount=Decimal("999"), beneficiaries=999)
    )
    passed = await firm(
        partner, workstream_id=teachers.id, amount=Decimal("4000"), funded_through_id=channel.id
    )
    await make_delivery(session, passed, amount=Decimal("100"), beneficiaries=50)
    goods = await firm(
        partner,
        workstream_id=teachers.id,
        resource_kind=models.ResourceKind.IN_KIND,
        amount=None,
        currency=None,
        in_kind=[in_kind_line()],
    )
    # 3 learners at 50 %: 1.5, rounded half up.
    await _deliver_goods(session, goods, "10", beneficiaries=3, beneficiary_share=Decimal(50))
    await make_commitment(session, coalition, partner, workstream_id=teachers.id)
    dropped = await firm(partner, workstream_id=teachers.id)
    await make_delivery(session, dropped, amount=Decimal("700"), beneficiaries=700)
    await _cancel(session, dropped)
    done = await make_commitment(
        session, coalition, partner, stage=Stage.IN_DELIVERY, workstream_id=open_ended.id
    )
    await make_delivery(session, done, amount=Decimal("2000"), beneficiaries=10)

    data = await api(PROGRESS, {"slug": coalition.slug})

    assert data["coalition"]["dashboard"]["workstreamProgress"] == [
        {
            "workstream": {"name": "Open"},
            "targetMetric": None,
            "targetValue": None,
            "targetDate": None,
            "reach": 10,
            "percentOfTarget": None,
            "committedUsd": "10000.00",
            "deliveredUsd": "2000.00",
            "withheldCount": 0,
            "daysLeft": None,
            "onTrack": None,
        },
        {
            "workstream": {"name": "Teachers"},
            "targetMetric": "teachers trained",
            "targetValue": "1000",
            "targetDate": str(ago(-100)),
            "reach": 602,
            "percentOfTarget": "60.20",
            "committedUsd": "10000.00",
            "deliveredUsd": "1500.00",
            "withheldCount": 0,
            "daysLeft": 100,
            "onTrack": True,
        },
    ]


async def test_on_track_compares_the_share_reached_with_the_share_of_time_elapsed(
    session: AsyncSession, api: Api
) -> None:
    coalition = await make_coalition(session)
    partner = await make_organisation(session)
    await make_membership(session, coalition, partner)
    # (name, created days ago, target date days ahead, reach of a target of 1000)
    cases = [
        ("Behind", 90, 10, 899),
        ("Level", 90, 10, 900),
        ("Due, reached", 200, -10, 1000),
        ("Due, short", 200, -10, 999),
        ("Not begun", -5, 100, 0),
    ]
    for name, created, ahead, reach in cases:
        workstream = await make_workstream(
            session, coalition, name=name, target_value=Decimal("1000"), target_date=ago(-ahead)
        )
        await backdate(session, workstream, recorded=created)
        commitment = await make_commitment(
            session, coalition, partner, stage=Stage.COMMITTED, workstream_id=workstream.id
        )
        if reach:
            await make_delivery(session, commitment, beneficiaries=reach)

    data = await api(PROGRESS, {"slug": coalition.slug})

    assert {
        row["workstream"]["name"]: (row["onTrack"], row["daysLeft"], row["percentOfTarget"])
        for row in data["coalition"]["dashboard"]["workstreamProgress"]
    } == {
        "Behind": (False, 10, "89.90"),
        "Level": (True, 10, "90.00"),
        "Due, reached": (True, -10, "100.00"),
        "Due, short": (False, -10, "99.90"),
        "Not begun": (True, 100, "0.00"),
    }


async def test_a_partner_sees_progress_without_anothers_confidential_money(
    session: AsyncSession, api: Api
) -> None:
    coalition = await make_coalition(session)
    workstream = await make_workstream(session, coalition, name="Connectivity")
    reader, other = await make_organisation(session), await make_organisation(session)
    for organisation in (reader, other):
        await make_membership(session, coalition, organisation)
    token = await make_token(session, models.Role.PARTNER_EDITOR, reader)
    secretariat = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    hidden = await make_commitment(
        session,
        coalition,
        other,
        stage=Stage.COMMITTED,
        workstream_id=workstream.id,
        visibility=models.Visibility.CONFIDENTIAL,
    )
    await make_delivery(session, hidden, amount=Decimal("3000"), beneficiaries=30)
    shown = await make_commitment(
        session, coalition, reader, stage=Stage.COMMITTED, workstream_id=workstream.id
    )
    await make_delivery(session, shown, amount=Decimal("1000"), beneficiaries=10)

    def figures(data: dict[str, Any]) -> tuple[Any, ...]:
        [row] = data["coalition"]["dashboard"]["workstreamProgress"]
        return row["reach"], row["committedUsd"], row["deliveredUsd"], row["withheldCount"]

    as_partner = figures(await api(PROGRESS, {"slug": coalition.slug}, token=token))
    as_secretariat = figures(await api(PROGRESS, {"slug": coalition.slug}, token=secretariat))

    assert as_partner == (40, "10000.00", "1000.00", 1)
    assert as_secretariat == (40, "20000.00", "4000.00", 0)


async def test_the_portfolio_shows_every_coalitions_workstreams(
    session: AsyncSession, api: Api
) -> None:
    for name in ("Learning", "Arts"):
        coalition = await make_coalition(session, name=name)
        await make_workstream(session, coalition, name=f"{name} flagship")
    token = await make_token(session, models.Role.SECRETARIAT_ANALYST)

    data = await api("{ portfolio { workstreamProgress { workstream { name } } } }", token=token)

    assert [row["workstream"]["name"] for row in data["portfolio"]["workstreamProgress"]] == [
        "Learning flagship",
        "Arts flagship",
    ]
