"""The dashboard's figures computed again, in Python, from the raw rows — the spec's rules
written out independently of the SQL in backend/reports, for the reconciliation tests.

Everything is kept in exact Decimals; shares of a list are taken per commitment as
floor(amount x 10^4 / n) / 10^4, as the rule says.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import codes, models
from backend.graphql.relay import to_global_id

Stage = models.Stage
Status = models.DeliveryStatus
FIRM = {Stage.COMMITTED, Stage.IN_DELIVERY, Stage.FULFILLED}
CLOSED = {Stage.WITHDRAWN, Stage.CANCELLED}
ZERO = Decimal(0)
FIGURES = (
    "pledged",
    "committed",
    "delivered",
    "confirmed",
    "disputed",
    "in_kind_pledged",
    "in_kind_committed",
    "in_kind_delivered",
)


@dataclass(frozen=True)
class Reader:
    secretariat: bool = False
    organisation_id: int | None = None
    member_of: frozenset[int] = frozenset()


@dataclass
class Raw:
    commitments: list[models.Commitment]
    lines: list[models.InKindLine]
    deliveries: list[models.Delivery]
    organisations: dict[int, models.Organisation]
    workstreams: dict[int, models.Workstream]

    @classmethod
    async def load(cls, session: AsyncSession) -> "Raw":
        async def every(model: Any) -> list[Any]:
            return list((await session.scalars(sa.select(model))).all())

        return cls(
            commitments=await every(models.Commitment),
            lines=await every(models.InKindLine),
            deliveries=await every(models.Delivery),
            organisations={o.id: o for o in await every(models.Organisation)},
            workstreams={w.id: w for w in await every(models.Workstream)},
        )


@dataclass
class Sums:
    """One figure set: counts and exact USD sums, reach in 10^-4 people."""

    commitments: int = 0
    withheld: int = 0
    passing: int = 0
    passing_usd: Decimal = ZERO
    figures: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(FIGURES, ZERO))
    reach_units: int = 0

    def add(self, other: "Contribution", share: Callable[[Decimal], Decimal] | None = None) -> None:
        def part(value: Decimal) -> Decimal:
            return share(value) if share else value

        for name in FIGURES:
            self.figures[name] += part(other.figures[name])
        self.passing_usd += part(other.passing_usd)
        units = Decimal(other.reach_units)
        self.reach_units += int(part(units / 10000) * 10000) if share else other.reach_units

    @property
    def reach(self) -> int:
        return int((Decimal(self.reach_units) / 10000).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass
class Contribution:
    """What one counted commitment adds, for this reader."""

    commitment: models.Commitment
    shown: bool
    passing: bool
    passing_usd: Decimal = ZERO
    figures: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(FIGURES, ZERO))
    reach_units: int = 0


def valued_on(commitment: models.Commitment) -> dt.date:
    return commitment.value_date or commitment.created_at.astimezone(dt.UTC).date()


def in_period(day: dt.date, start: dt.date | None, end: dt.date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


class Dashboard:
    """Every figure the dashboard reports, for one reader, coalitions and period."""

    def __init__(
        self,
        raw: Raw,
        reader: Reader,
        *,
        coalition_ids: set[int] | None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> None:
        self.raw, self.reader, self.start, self.end = raw, reader, start, end
        self.coalition_ids = coalition_ids
        self.now = dt.datetime.now(dt.UTC)
        self.by_id = {c.id: c for c in raw.commitments}
        self.lines_of: dict[int, list[models.InKindLine]] = defaultdict(list)
        for line in raw.lines:
            self.lines_of[line.commitment_id].append(line)
        self.line_by_id = {line.id: line for line in raw.lines}
        self.deliveries_of: dict[int, list[models.Delivery]] = defaultdict(list)
        for delivery in raw.deliveries:
            if in_period(delivery.delivered_on, start, end):
                self.deliveries_of[delivery.commitment_id].append(delivery)
        self.counted = [c for c in raw.commitments if self.is_counted(c)]
        self.counted_ids = {c.id for c in self.counted}
        self.contributions = [self.contribution(c) for c in self.counted]

    # -- the reader's rules ---------------------------------------------------------------

    def listed(self, c: models.Commitment) -> bool:
        reader = self.reader
        if reader.secretariat or c.organisation_id == reader.organisation_id:
            return True
        embargo_over = c.embargo_until is None or c.embargo_until <= self.now
        members_only = c.visibility is models.Visibility.MEMBERS
        return embargo_over and (not members_only or c.coalition_id in reader.member_of)

    def shown(self, c: models.Commitment) -> bool:
        reader = self.reader
        return (
            reader.secretariat
            or c.visibility is not models.Visibility.CONFIDENTIAL
            or c.organisation_id == reader.organisation_id
        )

    def is_counted(self, c: models.Commitment) -> bool:
        in_coalitions = self.coalition_ids is None or c.coalition_id in self.coalition_ids
        return (
            self.listed(c)
            and in_coalitions
            and c.stage not in CLOSED
            and in_period(valued_on(c), self.start, self.end)
        )

    def passing(self, c: models.Commitment) -> bool:
        if c.funded_through_id is None:
            return False
        channel = self.by_id[c.funded_through_id]
        return self.is_counted(channel) and self.shown(channel)

    def contribution(self, c: models.Commitment) -> Contribution:
        shown, passing = self.shown(c), self.passing(c)
        counted = Contribution(commitment=c, shown=shown, passing=passing)
        if not shown:
            return counted
        figures = counted.figures
        usd = c.amount_usd or ZERO
        if passing:
            counted.passing_usd = usd
        else:
            figures["pledged" if c.stage is Stage.PLEDGED else "committed"] += usd
        value = sum((line.fair_value_usd or ZERO for line in self.lines_of[c.id]), ZERO)
        figures["in_kind_pledged" if c.stage is Stage.PLEDGED else "in_kind_committed"] += value
        for delivery in self.deliveries_of[c.id]:
            live = delivery.status is not Status.DISPUTED
            if not passing and delivery.amount_usd is not None:
                if live:
                    figures["delivered"] += delivery.amount_usd
                if delivery.status is Status.CONFIRMED:
                    figures["confirmed"] += delivery.amount_usd
                if delivery.status is Status.DISPUTED:
                    figures["disputed"] += delivery.amount_usd
            if live and delivery.in_kind_value_usd is not None:
                figures["in_kind_delivered"] += delivery.in_kind_value_usd
            if live and delivery.beneficiaries is not None:
                share = delivery.beneficiary_share_bp
                counted.reach_units += delivery.beneficiaries * (10000 if share is None else share)
        return counted

    # -- figure sets ----------------------------------------------------------------------

    def summed(self, contributions: Iterable[Contribution]) -> Sums:
        sums = Sums()
        for contribution in contributions:
            sums.commitments += 1
            sums.withheld += not contribution.shown
            sums.passing += contribution.passing
            sums.add(contribution)
        return sums

    def totals(self) -> Sums:
        return self.summed(self.contributions)

    def grouped(self, key: Callable[[models.Commitment], str | None]) -> dict[str | None, Sums]:
        groups: dict[str | None, list[Contribution]] = defaultdict(list)
        for contribution in self.contributions:
            groups[key(contribution.commitment)].append(contribution)
        return {group: self.summed(members) for group, members in groups.items()}

    def split(
        self, entries: Callable[[models.Commitment], list[str]], derive: Callable[[str], str] = str
    ) -> dict[str | None, Sums]:
        rows: dict[str | None, Sums] = defaultdict(Sums)
        for contribution in self.contributions:
            listed = entries(contribution.commitment)
            if not listed:
                keys: list[str | None] = [None]
                share = None
            else:
                keys = [derive(entry) for entry in listed]
                parts = len(listed)

                def share(value: Decimal, parts: int = parts) -> Decimal:
                    return (value * 10000 / parts).to_integral_value(ROUND_FLOOR) / 10000

            for key in keys:
                rows[key].add(contribution, share)
            for key in set(keys):
                rows[key].commitments += 1
                rows[key].withheld += not contribution.shown
                rows[key].passing += contribution.passing
        return dict(rows)

    def breakdowns(self) -> dict[str, dict[str | None, Sums]]:
        organisations = self.raw.organisations

        def duration(c: models.Commitment) -> str:
            if c.start_date is None or c.end_date is None:
                return "UNKNOWN"
            return "MULTI_YEAR" if (c.end_date - c.start_date).days >= 365 else "UNDER_ONE_YEAR"

        return {
            "byWorkstream": self.grouped(
                lambda c: (
                    None if c.workstream_id is None else to_global_id("Workstream", c.workstream_id)
                )
            ),
            "byOrganisationType": self.grouped(
                lambda c: organisations[c.organisation_id].organisation_type
            ),
            "byEarmarking": self.grouped(lambda c: c.earmarking),
            "byDuration": self.grouped(duration),
            "byCountry": self.split(lambda c: c.countries),
            "bySdgTarget": self.split(lambda c: c.sdg_targets),
            "bySdgGoal": self.split(lambda c: c.sdg_targets, lambda target: target.split(".")[0]),
        }

    def private_sector_share(self) -> Decimal | None:
        organisations = self.raw.organisations
        private = self.summed(
            c
            for c in self.contributions
            if organisations[c.commitment.organisation_id].organisation_type.startswith("7")
        )
        return ratio(private.figures["committed"], self.totals().figures["committed"])

    def top_partners(self, first: int) -> list[tuple[int, int, Sums]]:
        """(rank, organisation id, figures) of the organisations with figures shown."""
        by_organisation: dict[int, list[Contribution]] = defaultdict(list)
        for contribution in self.contributions:
            by_organisation[contribution.commitment.organisation_id].append(contribution)
        ranked = []
        for organisation_id, members in by_organisation.items():
            if any(member.shown for member in members):
                sums = self.summed(members)
                committed = sums.figures["committed"] + sums.figures["in_kind_committed"]
                name = self.raw.organisations[organisation_id].name
                ranked.append((committed, name, organisation_id, sums))
        ranked.sort(key=lambda row: (-row[0], row[1], row[2]))
        return [
            (1 + sum(other[0] > row[0] for other in ranked), row[2], row[3])
            for row in ranked[:first]
        ]

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


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    if whole == 0:
        return None
    return (part / whole).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def label(raw: Raw, breakdown: str, key: str | None) -> str:
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
