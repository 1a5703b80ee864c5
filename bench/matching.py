"""Benchmark the coordination layer on PostgreSQL: a need's suggested offers, and accepts
racing for one offer's capacity.

Creates a fresh database, migrates it, and seeds through the services a coalition with a
ministry's need and --offers listed offers (every one of the need's category, so the
ranking scores them all). Then, in process over ASGI, for --duration seconds each, one
after the other: a trivial query (the baseline), and `NeedMatching` — the need with its
5 best offers, the portal's trusted document — printing req/s, p50 and p99 and the ratio
to the baseline. Last, --racers matches of one unit each for an offer with half as many
units are accepted at once, each in its own transaction: it prints how many were
accepted (must be the capacity), how many refused with CAPACITY_EXCEEDED, and the time.
Drops the database. See bench/README.md.

    .venv/bin/python bench/matching.py                 # 2,000 offers, 10 s each, 40 racers
    .venv/bin/python bench/matching.py --quick         # 200 offers, 3 s each: a smoke run
"""

import argparse
import asyncio
import datetime as dt
import time
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from _common import (
    ROOT,
    add_database_argument,
    check_database_argument,
    create_database,
    drop_database,
    percentile,
)

from backend import db, migrations, models
from backend.actors import SYSTEM, Actor
from backend.config import Settings
from backend.errors import Conflict
from backend.graphql.compiled import reads as compiled_reads
from backend.graphql.relay import to_global_id
from backend.main import create_app
from backend.services import (
    coalitions,
    matches,
    memberships,
    needs,
    offers,
    organisations,
    tokens,
)

COORDINATION = (ROOT / "schema/operations/coordination.graphql").read_text()
BASELINE = "query Baseline { __typename }"
BATCH = 200


def editor_of(organisation_id: int, coalition_id: int) -> Actor:
    return Actor(
        name=f"editor {organisation_id}",
        role=models.Role.PARTNER_EDITOR,
        organisation_id=organisation_id,
        member_coalition_ids=frozenset({coalition_id}),
    )


async def member(session: Any, coalition_id: int, name: str, kind: str) -> int:
    organisation = await organisations.register(
        session,
        SYSTEM,
        draft=organisations.OrganisationDraft(name=name, organisation_type=kind, country="MZ"),
    )
    assert organisation.id is not None
    await memberships.admit(
        session,
        SYSTEM,
        coalition_id=coalition_id,
        organisation_id=organisation.id,
        draft=memberships.MembershipDraft(),
    )
    return organisation.id


async def listed_offer(
    session: Any, coalition_id: int, organisation_id: int, number: int, capacity: Decimal
) -> int:
    offer = await offers.create(
        session,
        SYSTEM,
        draft=offers.OfferDraft(
            coalition_id=coalition_id,
            organisation_id=organisation_id,
            category=models.InKindCategory.CONNECTIVITY,
            title=f"Offer {number}",
            capacity=capacity,
            unit="learner",
            countries=["MZ"] if number % 3 else [],
            worldwide=not number % 3,
            languages=["pt", "en"][: 1 + number % 2],
            offline_capable=bool(number % 4),
            free_until=dt.date.today() + dt.timedelta(days=number % 400),
        ),
    )
    assert offer.id is not None
    for status in (models.OfferStatus.UNDER_REVIEW, models.OfferStatus.LISTED):
        await offers.move(session, SYSTEM, offer_id=offer.id, to=status)
    return offer.id


def need_draft(coalition_id: int, ministry_id: int, quantity: int) -> needs.NeedDraft:
    return needs.NeedDraft(
        coalition_id=coalition_id,
        organisation_id=ministry_id,
        country="MZ",
        category=models.InKindCategory.CONNECTIVITY,
        title="Mobile data for learners",
        quantity=Decimal(quantity),
        unit="learner",
        languages=["pt"],
        low_bandwidth=True,
        needed_by=dt.date.today() + dt.timedelta(days=180),
    )


async def seed(factory: db.SessionFactory, count: int) -> tuple[dict[str, int], str]:
    """The coalition, its ministry and first company, the need; the ministry editor's
    bearer secret (the need's suggestions are for the coalition's members)."""
    async with factory() as session:
        coalition = await coalitions.create(
            session,
            SYSTEM,
            draft=coalitions.CoalitionDraft(
                slug="bench", name="Bench", kind=models.CoalitionKind.COALITION
            ),
        )
        assert coalition.id is not None
        ministry = await member(session, coalition.id, "Ministry", "10")
        companies = [await member(session, coalition.id, f"Member {n}", "70") for n in range(10)]
        await session.commit()
        for number in range(count):
            company = companies[number % len(companies)]
            await listed_offer(session, coalition.id, company, number, Decimal(100 + number))
            if number % BATCH == BATCH - 1:
                await session.commit()
        need = await needs.post(session, SYSTEM, draft=need_draft(coalition.id, ministry, 5000))
        issued = await tokens.create(
            session,
            SYSTEM,
            name="ministry editor",
            role=models.Role.PARTNER_EDITOR,
            organisation_id=ministry,
        )
        await session.commit()
        assert need.id is not None
        ids = {"coalition": coalition.id, "ministry": ministry, "company": companies[0]}
        return {**ids, "need": need.id}, issued.secret


async def timed(
    client: httpx.AsyncClient, body: dict[str, Any], seconds: float, check: Any = None
) -> list[float]:
    """Latencies of `body` sent one after the other for `seconds`; `check` looks at the
    first answer (that it is the one meant, not a null)."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop:
        started = time.perf_counter()
        response = await client.post("/graphql", json=body)
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200 and "errors" not in response.json(), response.text
        if check is not None and len(latencies) == 1:
            check(response.json()["data"])
    return latencies


def five_suggestions(data: dict[str, Any]) -> None:
    suggested = data["node"]["suggestedOffers"]
    assert len(suggested) == 5, data
    print(f"best offer    {suggested[0]['offer']['title']}: {suggested[0]['score']}/100")


def report(name: str, latencies: list[float], seconds: float, baseline: float | None) -> float:
    rate = len(latencies) / seconds
    ratio = f"  {baseline / rate:5.1f}x the baseline's time" if baseline else ""
    print(
        f"{name:<14} {rate:8.1f} req/s  p50 {percentile(latencies, 0.5) * 1000:7.2f} ms"
        f"  p99 {percentile(latencies, 0.99) * 1000:7.2f} ms{ratio}"
    )
    return rate


async def race(factory: db.SessionFactory, ids: dict[str, int], racers: int) -> None:
    """`racers` one-unit matches of an offer with racers // 2 units, accepted at once."""
    coalition, ministry, company = ids["coalition"], ids["ministry"], ids["company"]
    capacity = racers // 2
    async with factory() as session:
        offer = await listed_offer(session, coalition, company, 0, Decimal(capacity))
        proposed = []
        for _ in range(racers):
            need = await needs.post(session, SYSTEM, draft=need_draft(coalition, ministry, 1))
            assert need.id is not None
            match = await matches.propose(
                session, editor_of(company, coalition), need_id=need.id, offer_id=offer
            )
            proposed.append(match.id)
        await session.commit()

    async def accept(match_id: int) -> str:
        async with factory() as own, own.begin():
            try:
                await matches.accept(own, editor_of(ministry, coalition), match_id=match_id)
            except Conflict as refused:
                return refused.code
        return "ACCEPTED"

    started = time.perf_counter()
    outcomes = await asyncio.gather(*(accept(match_id) for match_id in proposed))
    elapsed = time.perf_counter() - started
    counted = {outcome: outcomes.count(outcome) for outcome in sorted(set(outcomes))}
    print(
        f"race          {racers} accepts for {capacity} units at once: {counted} "
        f"in {elapsed * 1000:.0f} ms ({racers / elapsed:.1f} accepts/s)"
    )
    assert counted.get("ACCEPTED") == capacity, counted


async def main(arguments: argparse.Namespace) -> None:
    url = sa.make_url(arguments.database_url)
    await create_database(url)
    try:
        await asyncio.to_thread(migrations.upgrade, url.render_as_string(hide_password=False))
        settings = Settings(
            database_url=url.render_as_string(hide_password=False),
            read_cache=False,
            rate_limits=False,
        )
        engine = db.create_engine(settings)
        factory = db.create_session_factory(engine)
        started = time.perf_counter()
        ids, secret = await seed(factory, arguments.offers)
        print(f"seeded {arguments.offers} listed offers in {time.perf_counter() - started:.1f} s")
        app = create_app(settings, engine=engine)
        matching = {
            "query": COORDINATION,
            "operationName": "NeedMatching",
            "variables": {"id": to_global_id("Need", ids["need"]), "suggestions": 5},
        }
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as client:
            seconds = arguments.duration
            trivial = await timed(client, {"query": BASELINE}, seconds)
            baseline = report("baseline", trivial, seconds, None)
            ranked = await timed(client, matching, seconds, check=five_suggestions)
            report("NeedMatching", ranked, seconds, baseline)
        await compiled_reads.close(app.state.compiled_reads)
        await race(factory, ids, arguments.racers)
        await engine.dispose()
    finally:
        await drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=2000)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--racers", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="200 offers, 3 s each")
    add_database_argument(parser)
    parsed = parser.parse_args()
    check_database_argument(parser, parsed)
    if parsed.quick:
        parsed.offers, parsed.duration = 200, 3.0
    asyncio.run(main(parsed))
