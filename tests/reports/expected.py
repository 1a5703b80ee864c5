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

from backend import models
from backend.graphql.relay import to_global_id
from tests.reports.expected_details import Details, valued_on

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


def in_period(day: dt.date, start: dt.date | None, end: dt.date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


class Dashboard(Details):
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


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    if whole == 0:
        return None
    return (part / whole).quantize(Decimal("0.0001"), ROUND_HALF_UP)
