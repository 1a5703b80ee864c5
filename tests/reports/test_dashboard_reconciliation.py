"""Every dashboard figure equals an independent computation from the raw rows
(tests/reports/expected.py), for generated data, each kind of reader and several periods,
on SQLite and on PostgreSQL alike."""

import datetime as dt
from typing import Any

from backend import models
from tests.factories import make_coalition, make_token
from tests.reports import world
from tests.reports.dashboards import (
    BREAKDOWNS,
    expected_breakdowns,
    figures,
    read,
    shown_breakdowns,
)
from tests.reports.expected import Dashboard, Raw, Reader
from tests.reports.expected_details import label

FIRST, TODAY = world.FIRST_DAY, world.TODAY
PERIODS = [
    (None, None),
    (FIRST + dt.timedelta(days=150), TODAY - dt.timedelta(days=120)),
    (FIRST + dt.timedelta(days=400), None),
    (None, TODAY - dt.timedelta(days=300)),
]


def assert_reconciles(shown: dict[str, Any], expected: Dashboard) -> None:
    assert shown["totals"] == figures(expected.totals())
    totals = expected.totals()
    assert shown["passThrough"] == {"count": totals.passing, "amountUsd": totals.passing_usd}
    assert shown["privateSectorShare"] == expected.private_sector_share()
    assert shown_breakdowns(shown) == expected_breakdowns(expected)
    for name in BREAKDOWNS:
        assert [row["label"] for row in shown[name]] == [
            label(expected.raw, name, row["key"]) for row in shown[name]
        ]
    assert {row["month"]: row for row in shown["monthly"]} == {
        month: {
            "month": month,
            "pledgedUsd": row["pledged"],
            "committedUsd": row["committed"],
            "deliveredUsd": row["delivered"],
            "inKindDeliveredUsd": row["in_kind_delivered"],
        }
        for month, row in expected.monthly().items()
    }
    assert [row["month"] for row in shown["monthly"]] == list(expected.monthly())
    names = expected.raw.organisations
    assert [
        (row["rank"], row["organisation"]["name"], row["figures"]) for row in shown["topPartners"]
    ] == [
        (rank, names[organisation].name, figures(sums))
        for rank, organisation, sums in expected.top_partners(10)
    ]
    unconverted = expected.unconverted()
    assert [
        (
            row["kind"],
            row["commitmentRef"],
            row["organisationName"],
            row["amount"],
            row["currency"],
            row["day"],
            row["deliveryStatus"],
        )
        for row in shown["unconverted"]
    ] == [
        (
            row["kind"],
            row["commitmentRef"],
            row["organisationName"],
            row["amount"],
            row["currency"],
            row["day"].isoformat(),
            row["deliveryStatus"],
        )
        for row in unconverted[:50]
    ]
    assert {
        (row["kind"], row["currency"]): (row["amount"], row["rows"])
        for row in shown["unconvertedByCurrency"]
    } == expected.unconverted_by_currency()
    assert {row["category"]: row for row in shown["byInKindCategory"]} == {
        category: {
            "category": category,
            "lines": row["lines"],
            "commitments": row["commitments"],
            "withheldCount": row["withheld"],
            "value": {
                "pledgedUsd": row["value"]["pledged"],
                "committedUsd": row["value"]["committed"],
                "deliveredUsd": row["value"]["delivered"],
            },
            "quantities": [
                {"unit": unit, **quantities}
                for unit, quantities in sorted(row["quantities"].items())
            ],
        }
        for category, row in expected.in_kind().items()
    }


async def test_every_figure_reconciles_with_the_raw_rows(session: Any, api: Any) -> None:
    await world.publish_rates(session)
    plan = world.plan(seed=6, size=200)
    organisations = await world.organisations_of(session, plan)
    coalition, elsewhere = await make_coalition(session), await make_coalition(session)
    await world.record(session, plan, coalition, organisations)
    await world.record(session, world.plan(seed=7, size=15), elsewhere, organisations)
    partner = organisations[0]
    assert coalition.id is not None and elsewhere.id is not None and partner.id is not None
    readers = {
        "secretariat": (
            await make_token(session, models.Role.SECRETARIAT_ANALYST),
            Reader(secretariat=True),
        ),
        "partner": (
            await make_token(session, models.Role.PARTNER_EDITOR, partner),
            Reader(organisation_id=partner.id, member_of=frozenset({coalition.id, elsewhere.id})),
        ),
        "anonymous": (None, Reader()),
    }
    raw = await Raw.load(session)
    # The data holds every case the rules speak of.
    whole = Dashboard(raw, Reader(secretariat=True), coalition_ids={coalition.id})
    kinds = {row["kind"] for row in whole.unconverted()}
    statuses = {delivery.status for delivery in raw.deliveries}
    assert whole.totals().passing > 0 and kinds == {"COMMITMENT", "IN_KIND_LINE", "DELIVERY"}
    assert statuses == set(models.DeliveryStatus) and len(raw.commitments) > 200
    as_partner = Dashboard(raw, readers["partner"][1], coalition_ids={coalition.id})
    assert as_partner.totals().withheld > 0 and len(as_partner.counted) < len(whole.counted)

    for token, reader in readers.values():
        for start, end in PERIODS:
            shown = await read(api, token, slug=coalition.slug, start=start, end=end)
            expected = Dashboard(raw, reader, coalition_ids={coalition.id}, start=start, end=end)
            assert_reconciles(shown, expected)
    secretariat_token, secretariat = readers["secretariat"]
    portfolio = await read(api, secretariat_token, start=PERIODS[1][0], end=PERIODS[1][1])
    everywhere = Dashboard(
        raw, secretariat, coalition_ids=None, start=PERIODS[1][0], end=PERIODS[1][1]
    )
    assert_reconciles(portfolio, everywhere)
