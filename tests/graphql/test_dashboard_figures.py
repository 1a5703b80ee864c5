"""The dashboard's money rules, one small example each (tests/reports/ reconciles them on
generated data): pledged vs committed vs delivered, pass-through counted once, even splits,
reach by share, unconverted money, and a bounded number of SQL statements."""

import datetime as dt
from decimal import Decimal
from typing import Any

from backend import models
from backend.actors import SYSTEM
from backend.services import deliveries
from tests.conftest import Api
from tests.factories import (
    make_coalition,
    make_commitment,
    make_delivery,
    make_organisation,
    make_token,
)
from tests.reports import world
from tests.reports.dashboards import read

Stage = models.Stage
FIGURES = """
query Figures($slug: String!, $from: Date, $to: Date) {
  coalition(slug: $slug) {
    dashboard(from: $from, to: $to) {
      totals { pledgedUsd committedUsd deliveredUsd confirmedUsd disputedUsd deliveryRate reach }
      passThrough { count amountUsd }
      byCountry { key label figures { committedUsd } }
      bySdgGoal { key figures { committedUsd } }
      unconverted { kind commitmentRef amount currency }
      unconvertedByCurrency { kind currency amount rows }
    }
  }
}
"""


async def dashboard(api: Api, token: str, slug: str, **period: str) -> dict[str, Any]:
    data = await api(FIGURES, {"slug": slug, **period}, token=token)
    result: dict[str, Any] = data["coalition"]["dashboard"]
    return result


async def secretariat(session: Any) -> str:
    return await make_token(session, models.Role.SECRETARIAT_ANALYST)


async def test_pledges_are_never_counted_as_funded(session: Any, api: Api) -> None:
    coalition, partner = await make_coalition(session), await make_organisation(session)
    await make_commitment(session, coalition, partner, amount=Decimal("100"))
    firm = await make_commitment(
        session, coalition, partner, stage=Stage.COMMITTED, amount=Decimal("250")
    )
    await make_delivery(session, firm, amount=Decimal("50"))
    disputed = await make_delivery(session, firm, amount=Decimal("20"))
    await _dispute(session, disputed)

    totals = (await dashboard(api, await secretariat(session), coalition.slug))["totals"]

    assert totals == {
        "pledgedUsd": "100.00",
        "committedUsd": "250.00",
        "deliveredUsd": "50.00",
        "confirmedUsd": "0.00",
        "disputedUsd": "20.00",
        "deliveryRate": "0.2",
        "reach": 0,
    }


async def test_pass_through_cash_counts_once_at_its_channel(session: Any, api: Api) -> None:
    coalition = await make_coalition(session)
    fund, donor = await make_organisation(session), await make_organisation(session)
    channel = await make_commitment(
        session,
        coalition,
        fund,
        stage=Stage.COMMITTED,
        amount=Decimal("1000"),
        value_date=dt.date(2026, 1, 10),
    )
    passing = await make_commitment(
        session,
        coalition,
        donor,
        stage=Stage.COMMITTED,
        amount=Decimal("300"),
        value_date=dt.date(2026, 2, 10),
        funded_through_id=channel.id,
    )
    await make_delivery(session, passing, amount=Decimal("100"))
    token = await secretariat(session)

    both = await dashboard(api, token, coalition.slug)
    # Outside the period, the channel is not counted: the money counts where it is.
    alone = await dashboard(api, token, coalition.slug, **{"from": "2026-02-01"})

    assert both["totals"]["committedUsd"] == "1000.00"
    assert both["totals"]["deliveredUsd"] == "0.00"
    assert both["passThrough"] == {"count": 1, "amountUsd": "300.00"}
    assert alone["totals"]["committedUsd"] == "300.00"
    assert alone["totals"]["deliveredUsd"] == "100.00"
    assert alone["passThrough"] == {"count": 0, "amountUsd": "0.00"}


async def test_a_commitment_is_split_evenly_over_its_entries_rounded_down(
    session: Any, api: Api
) -> None:
    coalition, partner = await make_coalition(session), await make_organisation(session)
    await make_commitment(
        session,
        coalition,
        partner,
        stage=Stage.COMMITTED,
        amount=Decimal("100.0001"),
        countries=["KE", "NG", "IN"],
        sdg_targets=["4.1", "4.2", "5.1"],
    )
    await make_commitment(session, coalition, partner, stage=Stage.COMMITTED, amount=Decimal("5"))

    shown = await dashboard(api, await secretariat(session), coalition.slug)

    assert shown["byCountry"] == [
        {"key": "IN", "label": "India", "figures": {"committedUsd": "33.3333"}},
        {"key": "KE", "label": "Kenya", "figures": {"committedUsd": "33.3333"}},
        {"key": "NG", "label": "Nigeria", "figures": {"committedUsd": "33.3333"}},
        {"key": None, "label": "No target country", "figures": {"committedUsd": "5.00"}},
    ]
    # Goals carry their targets' shares.
    assert shown["bySdgGoal"] == [
        {"key": "4", "figures": {"committedUsd": "66.6666"}},
        {"key": "5", "figures": {"committedUsd": "33.3333"}},
        {"key": None, "figures": {"committedUsd": "5.00"}},
    ]


async def test_co_reported_reach_counts_by_share_rounded_half_up(session: Any, api: Api) -> None:
    coalition, partner = await make_coalition(session), await make_organisation(session)
    firm = await make_commitment(session, coalition, partner, stage=Stage.COMMITTED)
    await make_delivery(session, firm, beneficiaries=1000)
    await make_delivery(session, firm, beneficiaries=999, beneficiary_share=Decimal("50"))
    disputed = await make_delivery(session, firm, beneficiaries=5000)
    await _dispute(session, disputed)

    totals = (await dashboard(api, await secretariat(session), coalition.slug))["totals"]

    # 1000 + 499.5, half up.
    assert totals["reach"] == 1500


async def test_money_without_a_rate_is_listed_and_never_counted(session: Any, api: Api) -> None:
    coalition, partner = await make_coalition(session), await make_organisation(session)
    unconverted = await make_commitment(
        session, coalition, partner, stage=Stage.COMMITTED, amount=Decimal("5000"), currency="NGN"
    )
    await make_commitment(session, coalition, partner, stage=Stage.COMMITTED, amount=Decimal("10"))

    shown = await dashboard(api, await secretariat(session), coalition.slug)

    assert shown["totals"]["committedUsd"] == "10.00"
    assert shown["unconverted"] == [
        {
            "kind": "COMMITMENT",
            "commitmentRef": unconverted.ref,
            "amount": "5000.00",
            "currency": "NGN",
        },
    ]
    assert shown["unconvertedByCurrency"] == [
        {"kind": "COMMITMENT", "currency": "NGN", "amount": "5000.00", "rows": 1}
    ]


async def test_rows_asked_for_are_at_most_a_hundred(session: Any, api: Api) -> None:
    coalition = await make_coalition(session)
    query = """
    query($slug: String!) {
      coalition(slug: $slug) { dashboard { topPartners(first: 101) { rank } } }
    }
    """

    response = await api.post(query, {"slug": coalition.slug}, token=await secretariat(session))

    error = response.json()["errors"][0]
    assert error["extensions"]["fields"] == [{"field": "first", "code": "BAD_RANGE"}]


async def test_the_whole_dashboard_costs_the_same_statements_however_much_data(
    session: Any, api: Api, statement_counter: Any
) -> None:
    await world.publish_rates(session)
    plan = world.plan(seed=3, size=3)
    organisations = await world.organisations_of(session, plan)
    small, large = await make_coalition(session), await make_coalition(session)
    await world.record(session, plan, small, organisations)
    await world.record(session, world.plan(seed=4, size=60), large, organisations)
    token = await secretariat(session)

    counted = []
    for coalition in (small, large):
        statement_counter.reset()
        await read(api, token, slug=coalition.slug)
        counted.append(statement_counter.count)

    # The token, the coalition, counts by stage, every figure set, unconverted rows and
    # their sums, in-kind categories, the months, the top partners' organisations.
    assert counted == [9, 9]


async def _dispute(session: Any, delivery: models.Delivery) -> None:
    assert delivery.id is not None
    await deliveries.dispute(session, SYSTEM, delivery_id=delivery.id, reason="Not received")
    await session.commit()
