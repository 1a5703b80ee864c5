"""Benchmark the portal's coalition page against a real server on PostgreSQL.

Creates a fresh database, migrates it, seeds the demo at --scale, starts
`coalition-hub serve` (one uvicorn worker, uvloop + httptools, reading as --hub says) on
loopback, drives the portal's CoalitionPage (its trusted document, whole) at --concurrency
for --duration seconds, prints the figures, stops the server and drops the database. See
bench/README.md.

    .venv/bin/python bench/portal_query.py [--scale 10] [--duration 20] [--concurrency 10]
    .venv/bin/python bench/portal_query.py --hub reference   # the Strawberry resolvers
    .venv/bin/python bench/portal_query.py --quick        # scale 1, 3 seconds: a smoke run
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from _common import (
    COALITION_SLUG,
    HUB_CONFIGURATIONS,
    Load,
    add_database_argument,
    check_database_argument,
    cpu_seconds,
    create_database,
    drive,
    drop_database,
    free_port,
    portal_request,
    seed_demo,
    serve_hub,
    wait_until_ready,
)
from _common import percentile as _percentile

from backend import db, demo, migrations
from backend.config import Environment, Settings
from backend.graphql.compiled import reads as compiled_reads
from backend.graphql.compiled.statements import AsyncpgStatements
from backend.main import create_app

COALITION = f'{{ coalition(slug: "{COALITION_SLUG}") {{ id }} }}'
FLOOR = "{ __typename }"


def page_request(coalition_id: str) -> dict[str, Any]:
    """The portal's CoalitionPage for the demo's largest coalition, anonymous."""
    return portal_request("CoalitionPage", {"slug": COALITION_SLUG, "coalitionId": coalition_id})


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=10, help="demo scale to seed (default 10)")
    parser.add_argument("--duration", type=float, default=20, help="seconds of load (default 20)")
    parser.add_argument("--concurrency", type=int, default=10, help="requests in flight")
    parser.add_argument(
        "--hub",
        choices=tuple(HUB_CONFIGURATIONS),
        default="compiled",
        help="how the hub reads: reference (resolvers), compiled (one SQL statement, the "
        "default) or cached (compiled behind the result cache)",
    )
    add_database_argument(parser)
    parser.add_argument("--port", type=int, help="port for the server (default: a free one)")
    parser.add_argument("--quick", action="store_true", help="scale 1 for 3 seconds")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.scale, arguments.duration = 1, 3
    check_database_argument(parser, arguments)
    return arguments


async def _statements_per_request(settings: Settings) -> tuple[str, int, int]:
    """The coalition id, and the page's SQL statements and bytes, measured in process."""
    engine = db.create_engine(settings)
    count = 0

    def counted(*_: Any) -> None:
        nonlocal count
        count += 1

    app = create_app(settings, engine=engine)
    reads = app.state.compiled_reads
    counting = False
    # On PostgreSQL compiled reads go to asyncpg on a pool of their own: its queries count.
    if reads is not None and isinstance(reads.statements, AsyncpgStatements):
        reads.statements.query_loggers.append(lambda _: counted() if counting else None)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            found = await client.post("/graphql", json={"query": COALITION})
            coalition_id = found.json()["data"]["coalition"]["id"]
            page = page_request(coalition_id)
            # Warms the parser's and validation's caches (and the read cache, if on).
            await client.post("/graphql", json=page)
            sa.event.listen(engine.sync_engine, "before_cursor_execute", counted)
            counting = True
            response = await client.post("/graphql", json=page)
            counting = False
            sa.event.remove(engine.sync_engine, "before_cursor_execute", counted)
        body = response.json()
        if "errors" in body:
            raise SystemExit(f"the page query failed: {body['errors']}")
        return coalition_id, count, len(response.content)
    finally:
        await compiled_reads.close(reads)
        await engine.dispose()


def main() -> None:
    arguments = _arguments()
    url = sa.make_url(arguments.database_url)
    database_url = url.render_as_string(hide_password=False)
    configuration = HUB_CONFIGURATIONS[arguments.hub]
    settings = Settings(
        database_url=database_url,
        env=Environment.PRODUCTION,
        redis_url=None,
        compiled_reads=configuration.compiled_reads,
        read_cache=configuration.read_cache,
    )
    asyncio.run(create_database(url))
    server: subprocess.Popen[bytes] | None = None
    try:
        migrations.upgrade(database_url)
        seeded, seed_seconds = asyncio.run(seed_demo(database_url, arguments.scale))
        coalition_id, statements, size = asyncio.run(_statements_per_request(settings))
        port = arguments.port or free_port()
        base_url = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory(prefix="hub-bench-") as folder:
            log = Path(folder) / "serve.log"
            server = serve_hub(database_url, port, log, configuration=configuration)
            try:
                asyncio.run(wait_until_ready(base_url, server))
            except SystemExit:
                print(log.read_text(), file=sys.stderr)
                raise
            # The floor, on the same server in the same run: a GraphQL request that does no
            # work (HTTP, routing, authentication, parsing, one field).
            floor = asyncio.run(
                drive(
                    base_url,
                    {"query": FLOOR},
                    duration=max(2.0, arguments.duration / 4),
                    concurrency=arguments.concurrency,
                )
            )
            cpu_before = cpu_seconds(server.pid)
            load = asyncio.run(
                drive(
                    base_url,
                    page_request(coalition_id),
                    duration=arguments.duration,
                    concurrency=arguments.concurrency,
                )
            )
            cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        asyncio.run(drop_database(url))
    _report(arguments, seeded, seed_seconds, statements, size, load, cpu)
    _report_floor(load, floor)


def _report(
    arguments: argparse.Namespace,
    seeded: demo.Seeded,
    seed_seconds: float,
    statements: int,
    size: int,
    load: Load,
    cpu: float,
) -> None:
    requests = len(load.latencies)
    lines = [
        f"scale                 {arguments.scale} ({seeded.organisations} organisations, "
        f"{seeded.commitments} commitments, {seeded.deliveries} deliveries, "
        f"{seeded.activities} activities)",
        f"seed time             {seed_seconds:.1f} s",
        f"load                  {arguments.concurrency} concurrent, {arguments.duration:g} s, "
        f"1 uvicorn worker, {os.cpu_count()} CPUs; hub-{arguments.hub}",
        f"requests              {requests} ({load.failures} failed)",
    ]
    if requests:
        lines += [
            f"throughput            {requests / load.seconds:.1f} req/s",
            "latency p50/p95/p99   "
            + " / ".join(
                f"{_percentile(load.latencies, share) * 1000:.0f}" for share in (0.5, 0.95, 0.99)
            )
            + " ms",
            f"response size         {sum(load.sizes) / requests / 1024:.1f} KB",
            f"server CPU            {cpu / requests * 1000:.1f} ms per request "
            f"({cpu / load.seconds:.0%} of one core)",
        ]
    lines.append(
        f"SQL statements        {statements} per request ({size / 1024:.1f} KB, in process)"
    )
    print("\n".join(lines))


def _report_floor(load: Load, floor: Load) -> None:
    if not load.latencies or not floor.latencies:
        return
    page_rate = len(load.latencies) / load.seconds
    floor_rate = len(floor.latencies) / floor.seconds
    floor_p50 = _percentile(floor.latencies, 0.5) * 1000
    print(
        f"floor {{ __typename }}  {floor_rate:.1f} req/s, p50 {floor_p50:.0f} ms "
        f"(same server, same run); the page runs at {page_rate / floor_rate:.3f}x the floor"
    )


if __name__ == "__main__":
    main()
