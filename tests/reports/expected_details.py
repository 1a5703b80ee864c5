"""The expected money outside the figure sets — unconverted rows, in-kind categories,
months — and breakdown labels, for the reconciliation tests (see expected.py)."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from backend import codes, models
from backend.graphql.relay import to_global_id

if TYPE_CHECKING:
    from tests.reports.expected import Contribution, Raw

Stage = models.Stage
Status = models.DeliveryStatus
ZERO = Decimal(0)


def valued_on(commitment: models.Commitment) -> dt.date:
    return commitment.value_date or commitment.created_at.astimezone(dt.UTC).date()


class Details:
    """What Dashboard (expected.py) computes besides figure sets."""

    raw: "Raw"
    start: dt.date | None
    end: dt.date | None
    contributions: "list[Contribution]"
    lines_of: dict[int, list[models.InKindLine]]
    line_by_id: dict[int, models.InKindLine]
    deliveries_of: dict[int, list[models.Delivery]]

    # -- money that is not figures --------------------------------------------------------

    def unconverted(self) -> list[dict[str, Any]]:
        rows = []
        for contribution in self.contributions:
            c = contribution.commitment
            cash = contribution.shown and not contribution.passing
            base = {
                "commitmentRef": c.ref,
                "organisationName": self.raw.organisations[c.organisation_id].name,
            }
            if cash and c.amount is not None and c.amount_usd is None:
                rows.append(
                    {
                        **base,
                        "kind": "COMMITMENT",
                        "id": c.id,
                        "amount": c.amount,
                        "currency": c.currency,
                        "day": valued_on(c),
                        "deliveryStatus": None,
                    }
                )
            for line in self.lines_of[c.id] if contribution.shown else []:
                if line.fair_value is not None and line.fair_value_usd is None:
                    rows.append(
                        {
                            **base,
                            "kind": "IN_KIND_LINE",
                            "id": line.id,
                            "amount": line.fair_value,
                            "currency": line.fair_value_currency,
                            "day": valued_on(c),
                            "deliveryStatus": None,
                        }
                    )
            for delivery in self.deliveries_of[c.id] if cash else []:
                if delivery.amount is not None and delivery.amount_usd is None:
                    rows.append(
                        {
                            **base,
                            "kind": "DELIVERY",
                            "id": delivery.id,
                            "amount": delivery.amount,
                            "currency": delivery.currency,
                            "day": delivery.delivered_on,
                            "deliveryStatus": delivery.status.value,
                        }
                    )
        rows.sort(
            key=lambda row: (-row["day"].toordinal(), row["kind"], row["commitmentRef"], row["id"])
        )
        return rows

    def unconverted_by_currency(self) -> dict[tuple[str, str], tuple[Decimal, int]]:
        sums: dict[tuple[str, str], tuple[Decimal, int]] = {}
        for row in self.unconverted():
            amount, count = sums.get((row["kind"], row["currency"]), (ZERO, 0))
            sums[(row["kind"], row["currency"])] = (amount + row["amount"], count + 1)
        return sums

    def in_kind(self) -> dict[str, dict[str, Any]]:
        categories: dict[str, dict[str, Any]] = {}
        for contribution in self.contributions:
            c, shown = contribution.commitment, contribution.shown
            for line in self.lines_of[c.id]:
                row = categories.setdefault(
                    line.category.value,
                    {
                        "lines": 0,
                        "commitments": set(),
                        "withheld": set(),
                        "value": dict.fromkeys(("pledged", "committed", "delivered"), ZERO),
                        "quantities": {},
                    },
                )
                row["lines"] += 1
                row["commitments"].add(c.id)
                if not shown:
                    row["withheld"].add(c.id)
                    continue
                stage = "pledged" if c.stage is Stage.PLEDGED else "committed"
                quantities = row["quantities"].setdefault(
                    line.unit, dict.fromkeys(("pledged", "committed", "delivered"), ZERO)
                )
                quantities[stage] += line.quantity
                row["value"][stage] += line.fair_value_usd or ZERO
            for delivery in self.deliveries_of[c.id] if shown else []:
                if delivery.in_kind_line_id is None or delivery.status is Status.DISPUTED:
                    continue
                line = self.line_by_id[delivery.in_kind_line_id]
                row = categories[line.category.value]
                quantities = row["quantities"].setdefault(
                    line.unit, dict.fromkeys(("pledged", "committed", "delivered"), ZERO)
                )
                assert delivery.quantity is not None
                quantities["delivered"] += delivery.quantity
                row["value"]["delivered"] += delivery.in_kind_value_usd or ZERO
        for row in categories.values():
            row["commitments"], row["withheld"] = len(row["commitments"]), len(row["withheld"])
        return categories

    def monthly(self) -> dict[str, dict[str, Decimal]]:
        entries: dict[int, dict[str, Decimal]] = defaultdict(
            lambda: dict.fromkeys(("pledged", "committed", "delivered", "in_kind_delivered"), ZERO)
        )

        def month(day: dt.date) -> int:
            return day.year * 12 + day.month - 1

        for contribution in self.contributions:
            c = contribution.commitment
            cash = contribution.shown and not contribution.passing
            if cash and c.amount_usd is not None:
                entries[month(valued_on(c))][
                    "pledged" if c.stage is Stage.PLEDGED else "committed"
                ] += c.amount_usd
            for delivery in self.deliveries_of[c.id]:
                if delivery.status is Status.DISPUTED:
                    continue
                if cash and delivery.amount_usd is not None:
                    entries[month(delivery.delivered_on)]["delivered"] += delivery.amount_usd
                if contribution.shown and delivery.in_kind_value_usd is not None:
                    entries[month(delivery.delivered_on)]["in_kind_delivered"] += (
                        delivery.in_kind_value_usd
                    )
        low = month(self.start) if self.start else (min(entries) if entries else None)
        high = month(self.end) if self.end else (max(entries) if entries else None)
        low, high = (low if low is not None else high), (high if high is not None else low)
        if low is None or high is None:
            return {}
        zeros = dict.fromkeys(("pledged", "committed", "delivered", "in_kind_delivered"), ZERO)
        return {
            f"{index // 12:04d}-{index % 12 + 1:02d}": dict(entries.get(index, zeros))
            for index in range(low, high + 1)
        }


def label(raw: "Raw", breakdown: str, key: str | None) -> str:
    """What a breakdown row is called: the code list's name, the workstream's name, or the
    name of the row keyed null."""
    lists = {
        "byOrganisationType": "organisation_types",
        "byCountry": "countries",
        "bySdgGoal": "sdg_goals",
        "bySdgTarget": "sdg_targets",
        "byEarmarking": "earmarking_categories",
    }
    durations = {
        "MULTI_YEAR": "Multi-year (365 days or more)",
        "UNDER_ONE_YEAR": "Under one year",
        "UNKNOWN": "Unknown (no start or end date)",
    }
    unspecified = {
        "byWorkstream": "No workstream",
        "byEarmarking": "No earmarking category",
        "byCountry": "No target country",
        "bySdgGoal": "No SDG target",
        "bySdgTarget": "No SDG target",
    }
    if key is None:
        return unspecified[breakdown]
    if breakdown == "byWorkstream":
        return next(
            w.name for w in raw.workstreams.values() if to_global_id("Workstream", w.id) == key
        )
    if breakdown == "byDuration":
        return durations[key]
    return codes.names(lists[breakdown])[key]
