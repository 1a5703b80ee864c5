"""Reading the dashboard over GraphQL, and what the independent computation says it must
show, in the same shape (exact Decimals, so 10.00 equals 10.0000)."""

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.conftest import Api
from tests.reports.expected import Dashboard, Sums, ratio

OPERATIONS = Path(__file__).resolve().parents[2] / "schema" / "operations"
# The trusted operations' fragments, all asked for at once.
DOCUMENT = (
    (OPERATIONS / "dashboard.graphql").read_text("utf-8")
    + """
query WholeCoalition($slug: String!, $from: Date, $to: Date) {
  coalition(slug: $slug) {
    dashboard(from: $from, to: $to) { ...DashboardOverview ...DashboardBreakdowns }
  }
}
query WholePortfolio($from: Date, $to: Date) {
  portfolio(from: $from, to: $to) { ...DashboardOverview ...DashboardBreakdowns }
}
"""
)
# Fields holding decimals (as strings in the response).
DECIMALS = {
    "amount",
    "amountUsd",
    "deliveryRate",
    "privateSectorShare",
    "pledged",
    "committed",
    "delivered",
    "pledgedUsd",
    "committedUsd",
    "deliveredUsd",
    "confirmedUsd",
    "disputedUsd",
    "inKindDeliveredUsd",
}


def decimals(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {name: decimals(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [decimals(item, key) for item in value]
    if key in DECIMALS and value is not None:
        return Decimal(value)
    return value


async def read(
    api: Api,
    token: str | None,
    *,
    slug: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> dict[str, Any]:
    """A coalition's dashboard (or the portfolio without a slug), decimals parsed."""
    variables: dict[str, Any] = {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
    }
    operation = "WholePortfolio"
    if slug is not None:
        variables["slug"] = slug
        operation = "WholeCoalition"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await api.client.post(
        "/graphql",
        json={"query": DOCUMENT, "variables": variables, "operationName": operation},
        headers=headers,
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    data = body["data"]
    dashboard: dict[str, Any] = (
        data["portfolio"] if slug is None else data["coalition"]["dashboard"]
    )
    return decimals(dashboard)


def figures(sums: Sums) -> dict[str, Any]:
    """A Figures object as the API shows it."""
    figure = sums.figures
    return {
        "commitments": sums.commitments,
        "withheldCount": sums.withheld,
        "pledgedUsd": figure["pledged"],
        "committedUsd": figure["committed"],
        "deliveredUsd": figure["delivered"],
        "confirmedUsd": figure["confirmed"],
        "disputedUsd": figure["disputed"],
        "deliveryRate": ratio(figure["delivered"], figure["committed"]),
        "inKind": {
            "pledgedUsd": figure["in_kind_pledged"],
            "committedUsd": figure["in_kind_committed"],
            "deliveredUsd": figure["in_kind_delivered"],
        },
        "reach": sums.reach,
    }


BREAKDOWNS = (
    "byWorkstream",
    "byOrganisationType",
    "byEarmarking",
    "byDuration",
    "byCountry",
    "bySdgTarget",
    "bySdgGoal",
)


def breakdown(rows: list[dict[str, Any]]) -> dict[Any, Any]:
    """A breakdown's figures by key; a key shown twice fails here."""
    keyed = {row["key"]: row["figures"] for row in rows}
    assert len(keyed) == len(rows)
    return keyed


def expected_breakdowns(expected: Dashboard) -> dict[str, dict[Any, Any]]:
    return {
        name: {key: figures(sums) for key, sums in rows.items()}
        for name, rows in expected.breakdowns().items()
    }


def shown_breakdowns(dashboard: dict[str, Any]) -> dict[str, dict[Any, Any]]:
    return {name: breakdown(dashboard[name]) for name in BREAKDOWNS}
