"""Reconciliation: for seeded random commitments, deliveries and memberships, the
dashboard's overdue and staleness answers equal an independent computation in Python from
the raw rows — as the secretariat and as a partner, today and on a past as-of day.

HUB_TRACKING_SEED replays a run.
"""

import datetime as dt
import os
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.actors import SYSTEM, Actor
from backend.services import commitments, deliveries
from tests.backdating import TODAY, ago, backdate
from tests.conftest import Api
from tests.factories import (
    make_coalition,
    make_commitment,
    make_delivery,
    make_membership,
    make_organisation,
    make_token,
)

SEED = int(os.environ.get("HUB_TRACKING_SEED", "20261202"))
Stage = models.Stage
OPEN = {Stage.PLEDGED, Stage.COMMITTED, Stage.IN_DELIVERY}
CLOSED = {Stage.WITHDRAWN, Stage.CANCELLED}
TRACKING = """
fragment Judged on StaleCommitmentList {
  totalCount items { commitment { ref } lastReportOn daysSinceReport colour }
}
fragment JudgedMembers on StaleMemberList {
  totalCount items { organisation { name } lastReportOn daysSinceReport colour }
}
query Tracking($slug: String!, $to: Date) {
  coalition(slug: $slug) {
    dashboard(to: $to) {
      overdue(first: 100) {
        totalCount items { commitment { ref } daysOverdue amountUsd deliveredUsd }
      }
      staleness { green yellow red }
      stale: staleCommitments(first: 100) { ...Judged }
      red: staleCommitments(colour: RED, first: 100) { ...Judged }
      green: staleCommitments(colour: GREEN, first: 100) { ...Judged }
      memberStaleness { green yellow red }
      staleMembers(first: 100) { ...JudgedMembers }
      greenMembers: staleMembers(colour: GREEN, first: 100) { ...JudgedMembers }
    }
  }
}
"""


@dataclass(frozen=True)
class Reader:
    secretariat: bool
    organisation_id: int | None
    member_of: frozenset[int]


@dataclass
class World:
    coalition: models.Coalition
    reader: models.Organisation
    partner_token: str
    secretariat_token: str


async def given_random_coalition(session: AsyncSession, rng: random.Random) -> World:
    coalition = await make_coalition(session)
    elsewhere = await make_coalition(session)
    organisations = [await make_organisation(session, name=f"Member {n}") for n in range(16)]
    for number, organisation in enumerate(organisations):
        status = models.MembershipStatus.SUSPENDED if number == 15 else None
        await make_membership(
            session,
            coalition,
            organisation,
            joined_on=ago(rng.randint(0, 1000)),
            **({"status": status} if status else {}),
        )
    # Some members pledge often, some rarely, two never (and the suspended one's count no
    # more), so every colour has members.
    weights = [12, 10, 8, 6, 4, 3, 2, 2, 1, 1, 1, 1, 0.5, 0, 0, 0.5]
    for _ in range(90):
        [organisation] = rng.choices(organisations, weights)
        await _random_commitment(
            session, rng, rng.choice([coalition, coalition, coalition, elsewhere]), organisation
        )
    return World(
        coalition=coalition,
        reader=organisations[0],
        partner_token=await make_token(session, models.Role.PARTNER_EDITOR, organisations[0]),
        secretariat_token=await make_token(session, models.Role.SECRETARIAT_ANALYST),
    )


async def _random_commitment(
    session: AsyncSession,
    rng: random.Random,
    coalition: models.Coalition,
    organisation: models.Organisation,
) -> None:
    final = rng.choice(list(Stage))
    fields: dict[str, Any] = {
        "end_date": rng.choice([None, ago(rng.randint(-200, 900))]),
        "value_date": rng.choice([None, ago(rng.randint(0, 1000))]),
        "visibility": rng.choice(list(models.Visibility)),
        "amount": Decimal(rng.randint(1, 500) * 100),
    }
    if rng.random() < 0.08:
        fields["embargo_until"] = models.utcnow() + dt.timedelta(days=3)
    stage = Stage.PLEDGED if final is Stage.PLEDGED else Stage.COMMITTED
    commitment = await make_commitment(session, coalition, organisation, stage=stage, **fields)
    assert commitment.id is not None
    if stage is Stage.COMMITTED:
        for _ in range(rng.randint(0, 3)):
            delivery = await make_delivery(
                session,
                commitment,
                amount=Decimal(rng.randint(1, 80) * 100),
                delivered_on=ago(rng.randint(0, 1100)),
            )
            if rng.random() < 0.2:
                assert delivery.id is not None
                await deliveries.dispute(session, SYSTEM, delivery_id=delivery.id, reason="No")
        await session.commit()
        await _move_to(session, commitment, final, organisation, coalition)
    recorded = rng.randint(0, 1200)
    progress = rng.choice([None, rng.randint(0, recorded)])
    await backdate(session, commitment, recorded=recorded, progress=progress)


async def _move_to(
    session: AsyncSession,
    commitment: models.Commitment,
    final: Stage,
    organisation: models.Organisation,
    coalition: models.Coalition,
) -> None:
    assert commitment.id is not None
    await session.refresh(commitment)
    if final is Stage.WITHDRAWN:
        partner = Actor(
            name="partner",
            role=models.Role.PARTNER_EDITOR,
            organisation_id=organisation.id,
            member_coalition_ids=frozenset({coalition.id or 0}),
        )
        await commitments.withdraw(
            session, partner, commitment_id=commitment.id, version=commitment.version, reason="x"
        )
    elif final is Stage.CANCELLED:
        await commitments.cancel(
            session, SYSTEM, commitment_id=commitment.id, version=commitment.version, reason="x"
        )
    else:
        path = [Stage.IN_DELIVERY, Stage.FULFILLED]
        for step in path[: path.index(final) + 1] if final in path else []:
            if commitment.stage is not step:
                await commitments.advance(
                    session, SYSTEM, commitment_id=commitment.id, version=commitment.version,
                    stage=step,
                )  # fmt: skip
    await session.commit()


def _expected(rows: dict[str, Any], reader: Reader, as_of: dt.date, to: dt.date | None) -> Any:
    """The tracking answers computed from the raw rows, by the README's rules."""
    coalition_id = rows["coalition_id"]
    now = models.utcnow()

    def listed(c: Any) -> bool:
        if reader.secretariat or c.organisation_id == reader.organisation_id:
            return True
        unembargoed = c.embargo_until is None or c.embargo_until <= now
        members = c.visibility != models.Visibility.MEMBERS or c.coalition_id in reader.member_of
        return unembargoed and members

    def shown(c: Any) -> bool:
        return (
            reader.secretariat
            or c.visibility != models.Visibility.CONFIDENTIAL
            or c.organisation_id == reader.organisation_id
        )

    def on_books(c: Any) -> bool:
        valued_on = c.value_date or c.created_at.astimezone(dt.UTC).date()
        return (
            c.coalition_id == coalition_id
            and listed(c)
            and (to is None or valued_on <= to)
            and Stage(c.stage) not in CLOSED
        )

    def last_report(c: Any) -> dt.date:
        days = [c.created_at.astimezone(dt.UTC).date()]
        if c.last_progress_at is not None:
            progress = c.last_progress_at.astimezone(dt.UTC).date()
            days += [progress] if progress <= as_of else []
        days += [
            d.delivered_on for d in rows["deliveries"].get(c.id, []) if d.delivered_on <= as_of
        ]
        return max(days)

    def colour(day: dt.date) -> str:
        age = (as_of - day).days
        return "GREEN" if age < 365 else "YELLOW" if age < 730 else "RED"

    def judged(found: list[tuple[dt.date, int, str]]) -> dict[str, Any]:
        ordered = sorted(found, key=lambda entry: entry[:2])
        return {
            "totalCount": len(ordered),
            "items": [
                {
                    "name": name,
                    "lastReportOn": str(day),
                    "daysSinceReport": max((as_of - day).days, 0),
                    "colour": colour(day),
                }
                for day, _, name in ordered[:100]
            ],
        }

    tracked = [c for c in rows["commitments"] if on_books(c) and Stage(c.stage) in OPEN]
    overdue = sorted(
        (c for c in tracked if c.end_date is not None and c.end_date < as_of),
        key=lambda c: (c.end_date, c.id),
    )

    def delivered(c: Any) -> Decimal:
        return sum(
            (
                d.amount_usd
                for d in rows["deliveries"].get(c.id, [])
                if d.status != models.DeliveryStatus.DISPUTED and d.delivered_on <= as_of
            ),
            Decimal(0),
        )

    reports = {c.id: last_report(c) for c in tracked}
    members = {}
    for m in rows["memberships"]:
        joined = m.joined_on or m.created_at.astimezone(dt.UTC).date()
        if m.status != models.MembershipStatus.ACTIVE or joined > as_of:
            continue
        theirs = [
            last_report(c)
            for c in rows["commitments"]
            if c.organisation_id == m.organisation_id
            and c.coalition_id == coalition_id
            and listed(c)
            and (to is None or (c.value_date or c.created_at.astimezone(dt.UTC).date()) <= to)
        ]
        members[m.id] = (max(theirs) if theirs else joined, rows["names"][m.organisation_id])

    def counts(days: list[dt.date]) -> dict[str, int]:
        return {
            key.lower(): sum(colour(day) == key for day in days)
            for key in ("GREEN", "YELLOW", "RED")
        }

    stale, red, green = {"YELLOW", "RED"}, {"RED"}, {"GREEN"}

    def of_colour(colours: set[str]) -> list[tuple[dt.date, int, str]]:
        return [(reports[c.id], c.id, c.ref) for c in tracked if colour(reports[c.id]) in colours]

    def members_of_colour(colours: set[str]) -> list[tuple[dt.date, int, str]]:
        return [(day, id, name) for id, (day, name) in members.items() if colour(day) in colours]

    return {
        "overdue": {
            "totalCount": len(overdue),
            "items": [
                {
                    "ref": c.ref,
                    "daysOverdue": (as_of - c.end_date).days,
                    "amountUsd": c.amount_usd if shown(c) else None,
                    "deliveredUsd": delivered(c) if shown(c) else None,
                }
                for c in overdue[:100]
            ],
        },
        "staleness": counts(list(reports.values())),
        "stale": judged(of_colour(stale)),
        "red": judged(of_colour(red)),
        "green": judged(of_colour(green)),
        "memberStaleness": counts([day for day, _ in members.values()]),
        "staleMembers": judged(members_of_colour(stale)),
        "greenMembers": judged(members_of_colour(green)),
    }


def _answered(dashboard: dict[str, Any]) -> dict[str, Any]:
    """The response in the shape of `_expected` (names for nested objects, decimals)."""

    def amount(value: str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    def judged(found: dict[str, Any]) -> dict[str, Any]:
        return {
            "totalCount": found["totalCount"],
            "items": [
                {
                    "name": (item.get("commitment") or {}).get("ref")
                    or item["organisation"]["name"],
                    **{key: item[key] for key in ("lastReportOn", "daysSinceReport", "colour")},
                }
                for item in found["items"]
            ],
        }

    return {
        "overdue": {
            "totalCount": dashboard["overdue"]["totalCount"],
            "items": [
                {
                    "ref": item["commitment"]["ref"],
                    "daysOverdue": item["daysOverdue"],
                    "amountUsd": amount(item["amountUsd"]),
                    "deliveredUsd": amount(item["deliveredUsd"]),
                }
                for item in dashboard["overdue"]["items"]
            ],
        },
        "staleness": dashboard["staleness"],
        "stale": judged(dashboard["stale"]),
        "red": judged(dashboard["red"]),
        "green": judged(dashboard["green"]),
        "memberStaleness": dashboard["memberStaleness"],
        "staleMembers": judged(dashboard["staleMembers"]),
        "greenMembers": judged(dashboard["greenMembers"]),
    }


async def _raw_rows(session: AsyncSession, coalition: models.Coalition) -> dict[str, Any]:
    def table(model: Any) -> Any:
        return models.table_of(model)

    delivered: dict[int, list[Any]] = {}
    for delivery in await session.execute(sa.select(table(models.Delivery))):
        delivered.setdefault(delivery.commitment_id, []).append(delivery)
    return {
        "coalition_id": coalition.id,
        "commitments": list(await session.execute(sa.select(table(models.Commitment)))),
        "deliveries": delivered,
        "memberships": list(
            await session.execute(
                sa.select(table(models.Membership)).where(
                    table(models.Membership).c.coalition_id == coalition.id
                )
            )
        ),
        "names": {
            row.id: row.name for row in await session.execute(sa.select(table(models.Organisation)))
        },
    }


@pytest.mark.parametrize("to", [None, ago(150)], ids=["today", "a past day"])
async def test_overdue_and_staleness_equal_a_computation_from_the_raw_rows(
    session: AsyncSession, api: Api, to: dt.date | None
) -> None:
    world = await given_random_coalition(session, random.Random(SEED))
    rows = await _raw_rows(session, world.coalition)
    readers = {
        world.secretariat_token: Reader(True, None, frozenset()),
        world.partner_token: Reader(False, world.reader.id, frozenset({world.coalition.id or 0})),
    }

    for token, reader in readers.items():
        data = await api(
            TRACKING, {"slug": world.coalition.slug, "to": to and str(to)}, token=token
        )

        answered = _answered(data["coalition"]["dashboard"])
        assert answered == _expected(rows, reader, to or TODAY, to), f"seed {SEED}"
