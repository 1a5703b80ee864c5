"""Benchmark the dashboard on PostgreSQL with 100,000 commitments and 300,000 deliveries.

Creates a fresh database, migrates it, seeds the demo at --scale in bulk with
--deliveries-per-commitment, profiles the dashboard in process (its SQL statements, each
part of it alone, and with --explain the plans of the slowest statements), then three
times starts `coalition-hub serve` on loopback — the read cache off, on, and on with a
partner pledging every --write-every seconds — and drives, one after the other: a trivial
query (the baseline), the coalition dashboard as the secretariat and as a partner, and the
secretariat's portfolio; prints the figures, stops the server and drops the database. See
bench/README.md.

    .venv/bin/python bench/dashboard.py                    # scale 625 x 3 deliveries: 100k / 300k
    .venv/bin/python bench/dashboard.py --quick            # scale 10, 5 s each: a smoke run
    .venv/bin/python bench/dashboard.py --explain 3        # and EXPLAIN ANALYZE the 3 slowest
    .venv/bin/python bench/dashboard.py --existing --database-url URL   # a database seeded before
"""

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from _common import (
    COALITION_SLUG,
    HUB_CONFIGURATIONS,
    ROOT,
    Load,
    add_database_argument,
    check_database_argument,
    cpu_seconds,
    create_database,
    drive,
    drop_database,
    free_port,
    percentile,
    postgres_cpu_seconds,
    postmaster_pid,
    seed_demo,
    serve_hub,
    wait_until_ready,
)
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    parse,
    print_ast,
)
from sqlalchemy.ext.asyncio import create_async_engine

from backend import db, demo, migrations
from backend.config import Environment, Settings
from backend.main import create_app

# The dashboard's trusted documents, each sent whole with an operationName as the
# secretariat's and the partners' pages send them (partners may send nothing else in
# production): the figures (`dashboard.graphql`) and, when it is in this build, delivery
# tracking (`delivery_tracking.graphql`: overdue, staleness, over-delivery, progress).
OPERATIONS = ROOT / "schema/operations"
DOCUMENTS = ["dashboard.graphql", "delivery_tracking.graphql"]
BASELINE = f'{{ coalition(slug: "{COALITION_SLUG}") {{ name }} }}'


@dataclass(frozen=True)
class Case:
    name: str
    reader: str  # "secretariat" or "partner"
    body: dict[str, Any]


def _documents() -> list[str]:
    return [(OPERATIONS / name).read_text() for name in DOCUMENTS if (OPERATIONS / name).exists()]


def _cases() -> list[Case]:
    """The baseline first, then every query of the dashboard's documents: one coalition's
    (it takes `$slug`) as the secretariat and as a partner, the portfolio's as the
    secretariat (the only one who may ask)."""
    cases = [Case("baseline { coalition(slug) { name } }", "secretariat", {"query": BASELINE})]
    for text in _documents():
        for node in parse(text).definitions:
            if not isinstance(node, OperationDefinitionNode) or node.name is None:
                continue
            name = node.name.value
            variables = {variable.variable.name.value for variable in node.variable_definitions}
            readers = ["secretariat", "partner"] if "slug" in variables else ["secretariat"]
            body = {
                "query": text,
                "operationName": name,
                "variables": {"slug": COALITION_SLUG} if "slug" in variables else {},
            }
            cases += [Case(f"{name}, {reader}", reader, body) for reader in readers]
    return cases


CASES = _cases()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=625, help="demo scale (default 625)")
    parser.add_argument(
        "--deliveries-per-commitment",
        type=float,
        default=3,
        help="delivery density to seed (default 3)",
    )
    parser.add_argument(
        "--duration", type=float, default=20, help="seconds of load per query (default 20)"
    )
    parser.add_argument("--concurrency", type=int, default=2, help="requests in flight")
    parser.add_argument(
        "--explain",
        type=int,
        default=0,
        metavar="N",
        help="EXPLAIN (ANALYZE, BUFFERS) the N slowest statements of each dashboard",
    )
    parser.add_argument(
        "--no-parts", action="store_true", help="skip timing each part of the dashboard alone"
    )
    add_database_argument(parser)
    parser.add_argument(
        "--existing",
        action="store_true",
        help="use --database-url as it is (seeded before with seed-demo): neither create, "
        "seed nor drop it",
    )
    parser.add_argument(
        "--write-every",
        type=float,
        default=5,
        metavar="S",
        help="in the last run, a partner pledges every S seconds while each query is driven "
        "(default 5)",
    )
    parser.add_argument(
        "--no-cache-runs",
        action="store_true",
        help="only the run with the read cache off (every request computes its figures)",
    )
    parser.add_argument("--port", type=int, help="port for the server (default: a free one)")
    parser.add_argument("--quick", action="store_true", help="scale 10 for 5 seconds per query")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.scale, arguments.duration = 10, 5
    if arguments.existing and arguments.database_url is None:
        parser.error("--existing needs --database-url")
    check_database_argument(parser, arguments)
    return arguments


# --- in process: statements, parts, plans ---------------------------------------------


@dataclass
class Statement:
    sql: str
    parameters: Any
    seconds: float


@dataclass
class Profile:
    """One request answered in process: its time and every SQL statement it sent."""

    case: str
    seconds: float
    statements: list[Statement] = field(default_factory=list)


class StatementTimer:
    """Times every statement the engine sends (before/after cursor execute)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine.sync_engine
        self.statements: list[Statement] = []
        self.started: list[float] = []

    def __enter__(self) -> "StatementTimer":
        sa.event.listen(self.engine, "before_cursor_execute", self._before)
        sa.event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_: Any) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._before)
        sa.event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self.started.append(time.perf_counter())
        self.statements.append(Statement(statement, parameters, 0.0))

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements[-1].seconds = time.perf_counter() - self.started.pop()


def _parts() -> list[tuple[str, str]]:
    """Each field the dashboard's documents select on `Coalition.dashboard`, as a document
    of its own for one coalition (with the fragments it spreads)."""
    parts: list[tuple[str, str]] = []
    for text in _documents():
        document: DocumentNode = parse(text)
        fragments = {
            node.name.value: node
            for node in document.definitions
            if isinstance(node, FragmentDefinitionNode)
        }
        for selection in _dashboard_fields(document, fragments):
            used = _spread(selection, fragments, set())
            spread = "\n".join(print_ast(fragments[name]) for name in sorted(used))
            query = (
                f'query {{ coalition(slug: "{COALITION_SLUG}") {{ dashboard {{ '
                f"{print_ast(selection)} }} }} }}\n{spread}"
            )
            if selection.name.value not in {name for name, _ in parts}:
                parts.append((selection.name.value, query))
    return parts


def _dashboard_fields(document: DocumentNode, fragments: dict[str, Any]) -> list[FieldNode]:
    """The fields the document's operations select on `coalition { dashboard }`, with
    fragment spreads expanded."""

    def find(node: Any, parent: str | None) -> list[Any]:
        found = []
        for child in node.selection_set.selections if node.selection_set else []:
            if isinstance(child, FieldNode):
                if child.name.value == "dashboard" and parent == "coalition":
                    found.append(child)
                else:
                    found += find(child, child.name.value)
        return found

    def expand(node: Any) -> list[FieldNode]:
        fields: list[FieldNode] = []
        for child in node.selection_set.selections:
            if isinstance(child, FieldNode):
                fields.append(child)
            elif isinstance(child, FragmentSpreadNode):
                fields += expand(fragments[child.name.value])
        return fields

    return [
        selected
        for node in document.definitions
        if isinstance(node, OperationDefinitionNode)
        for dashboard in find(node, None)
        for selected in expand(dashboard)
    ]


def _spread(node: Any, fragments: dict[str, Any], found: set[str]) -> set[str]:
    for child in node.selection_set.selections if node.selection_set else []:
        if isinstance(child, FragmentSpreadNode):
            if child.name.value not in found:
                found.add(child.name.value)
                _spread(fragments[child.name.value], fragments, found)
        else:
            _spread(child, fragments, found)
    return found


async def _profile(
    settings: Settings, tokens: dict[str, str], arguments: argparse.Namespace
) -> tuple[list[Profile], list[tuple[str, float, float]], list[str]]:
    """Each case once in process (after a warm-up): its statements and their times; each
    part of the dashboard alone, as the secretariat and as a partner (best of three); the
    plans of the slowest statements when asked."""
    # The parts are documents of their own, which a partner may send only here.
    settings = settings.model_copy(update={"trusted_documents_only": False})
    engine = db.create_engine(settings)
    app = create_app(settings, engine=engine)
    profiles: list[Profile] = []
    parts: list[tuple[str, float, float]] = []
    plans: list[str] = []
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=600
        ) as client:

            async def ask(body: dict[str, Any], reader: str) -> float:
                headers = {"Authorization": f"Bearer {tokens[reader]}"}
                started = time.perf_counter()
                response = await client.post("/graphql", json=body, headers=headers)
                elapsed = time.perf_counter() - started
                answer = response.json()
                if response.status_code != 200 or "errors" in answer:
                    raise SystemExit(f"{body.get('operationName', body['query'])}: {answer}")
                return elapsed

            for case in CASES:
                await ask(case.body, case.reader)
                with StatementTimer(engine) as timer:
                    seconds = await ask(case.body, case.reader)
                profiles.append(Profile(case.name, seconds, timer.statements))
            if not arguments.no_parts:
                for name, query in _parts():
                    times = {
                        reader: min([await ask({"query": query}, reader) for _ in range(3)])
                        for reader in ("secretariat", "partner")
                    }
                    parts.append((name, times["secretariat"], times["partner"]))
        if arguments.explain:
            for profile in profiles[1:]:
                slowest = sorted(profile.statements, key=lambda s: -s.seconds)[: arguments.explain]
                for statement in slowest:
                    plan = await _explain(engine, statement)
                    plans.append(
                        f"--- {profile.case}: {statement.seconds * 1000:.0f} ms\n"
                        f"{statement.sql}\n-- parameters: {statement.parameters!r}\n{plan}\n"
                    )
    finally:
        await engine.dispose()
    return profiles, parts, plans


async def _explain(engine: Any, statement: Statement) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a statement as it was sent (asyncpg's $n parameters)."""
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        parameters = statement.parameters or ()
        rows = await driver.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {statement.sql}", *parameters)
        return "\n".join(row[0] for row in rows)


# --- over HTTP --------------------------------------------------------------------------


@dataclass
class Measured:
    case: Case
    load: Load
    server_cpu: float
    postgres_cpu: float | None
    # Pledges committed while this case was driven (the "with writes" run).
    writes: int = 0


@dataclass(frozen=True)
class Run:
    """One server, every case driven against it."""

    name: str
    read_cache: bool
    # Seconds between pledges committed during each case; None: no writes.
    write_every: float | None = None


def _runs(arguments: argparse.Namespace) -> list[Run]:
    runs = [Run("computed on every request (read cache off)", read_cache=False)]
    if not arguments.no_cache_runs:
        runs += [
            Run("as deployed (read cache on), no writes", read_cache=True),
            Run(
                f"as deployed, a pledge committed every {arguments.write_every:g} s",
                read_cache=True,
                write_every=arguments.write_every,
            ),
        ]
    return runs


# The portal's own pledge (partners may send only trusted documents in production).
WRITES = (OPERATIONS / "portal_writes.graphql").read_text()


async def _pledging(
    base_url: str, tokens: dict[str, str], every: float, deadline: float, pledged: list[int]
) -> None:
    """The partner pledging every `every` seconds until `deadline`: each commit bumps the
    write generation, so every report's next read computes it again."""
    headers = {"Authorization": f"Bearer {tokens['partner']}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=60, headers=headers) as client:
        found = await client.post(
            "/graphql",
            json={"query": f'{{ coalition(slug: "{COALITION_SLUG}") {{ id }} }}'},
            headers={"Authorization": f"Bearer {tokens['secretariat']}"},
        )
        coalition_id = found.json()["data"]["coalition"]["id"]
        while True:
            await asyncio.sleep(max(0.0, min(every, deadline - time.monotonic())))
            if time.monotonic() >= deadline:
                return
            pledge = {
                "coalitionId": coalition_id,
                "title": f"Bench pledge {len(pledged) + 1}",
                "resourceKind": "FINANCIAL",
                "amount": "1000",
                "currency": "USD",
            }
            body = {
                "query": WRITES,
                "operationName": "PledgeCommitment",
                "variables": {"input": pledge},
            }
            answer = await client.post("/graphql", json=body)
            written = answer.json().get("data") or {}
            if (written.get("pledgeCommitment") or {}).get("__typename") != "Commitment":
                raise SystemExit(f"pledge failed: {answer.text}")
            pledged.append(1)


async def _driven(
    base_url: str,
    case: Case,
    duration: float,
    concurrency: int,
    tokens: dict[str, str],
    run: Run,
) -> tuple[Load, int]:
    headers = {"Authorization": f"Bearer {tokens[case.reader]}"}
    reading = drive(
        base_url, case.body, duration=duration, concurrency=concurrency, headers=headers
    )
    if run.write_every is None:
        return await reading, 0
    pledged: list[int] = []
    # The writer starts with the readers (after their warm-up request, give or take).
    deadline = time.monotonic() + duration
    load, _ = await asyncio.gather(
        reading, _pledging(base_url, tokens, run.write_every, deadline, pledged)
    )
    return load, len(pledged)


def _load(
    arguments: argparse.Namespace, database_url: str, tokens: dict[str, str], run: Run
) -> list[Measured]:
    port = arguments.port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    postmaster = asyncio.run(postmaster_pid(sa.make_url(database_url)))
    configuration = HUB_CONFIGURATIONS["cached" if run.read_cache else "compiled"]
    measured = []
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as folder:
        log = Path(folder) / "serve.log"
        server = serve_hub(database_url, port, log, configuration=configuration)
        try:
            try:
                asyncio.run(wait_until_ready(base_url, server))
            except SystemExit:
                print(log.read_text(), file=sys.stderr)
                raise
            for case in CASES:
                duration = arguments.duration
                if case is CASES[0]:
                    duration = max(2.0, duration / 4)
                server_before = cpu_seconds(server.pid)
                postgres_before = postgres_cpu_seconds(postmaster) if postmaster else None
                load, writes = asyncio.run(
                    _driven(base_url, case, duration, arguments.concurrency, tokens, run)
                )
                postgres_cpu = None
                if postmaster and postgres_before is not None:
                    postgres_cpu = postgres_cpu_seconds(postmaster) - postgres_before
                measured.append(
                    Measured(
                        case, load, cpu_seconds(server.pid) - server_before, postgres_cpu, writes
                    )
                )
                print(
                    f"measured {case.name} ({run.name}): {len(load.latencies)} requests",
                    file=sys.stderr,
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    return measured


# --- the run ----------------------------------------------------------------------------


def main() -> None:
    arguments = _arguments()
    url = sa.make_url(arguments.database_url)
    database_url = url.render_as_string(hide_password=False)
    settings = Settings(
        database_url=database_url,
        env=Environment.PRODUCTION,
        redis_url=None,
        read_cache=False,
        rate_limits=False,
    )
    if not arguments.existing:
        asyncio.run(create_database(url))
    try:
        seeded, seed_seconds = None, None
        if not arguments.existing:
            migrations.upgrade(database_url)
            seeded, seed_seconds = asyncio.run(
                seed_demo(
                    database_url,
                    arguments.scale,
                    deliveries_per_commitment=arguments.deliveries_per_commitment,
                    bulk=None,
                )
            )
        issued = asyncio.run(_tokens(settings))
        tokens = {"secretariat": issued.admin.secret, "partner": issued.partner.secret}
        rows = asyncio.run(_counts(database_url))
        profiles, parts, plans = asyncio.run(_profile(settings, tokens, arguments))
        measured = [(run, _load(arguments, database_url, tokens, run)) for run in _runs(arguments)]
    finally:
        if not arguments.existing:
            asyncio.run(drop_database(url))
    _report_data(arguments, rows, seeded, seed_seconds, issued.partner_organisation)
    for run, figures in measured:
        _report(run, figures)
    _report_profiles(profiles, parts)
    if plans:
        print("\nPlans of the slowest statements (EXPLAIN ANALYZE, BUFFERS):\n")
        print("\n".join(plans))


async def _tokens(settings: Settings) -> demo.DemoTokens:
    engine = db.create_engine(settings)
    try:
        return await demo.issue_tokens(db.create_session_factory(engine))
    finally:
        await engine.dispose()


async def _counts(database_url: str) -> dict[str, int]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return {
                table: int(await connection.scalar(sa.text(f"SELECT count(*) FROM {table}")))
                for table in ("organisations", "commitments", "in_kind_lines", "deliveries")
            }
    finally:
        await engine.dispose()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def _report_data(
    arguments: argparse.Namespace,
    rows: dict[str, int],
    seeded: Any,
    seed_seconds: float | None,
    partner: str,
) -> None:
    lines = [
        f"data                  {rows['commitments']} commitments, {rows['deliveries']} "
        f"deliveries, {rows['in_kind_lines']} in-kind lines, {rows['organisations']} "
        "organisations",
    ]
    if seeded is not None and seed_seconds is not None:
        lines.append(
            f"seed time             {seed_seconds:.1f} s (scale {arguments.scale}, "
            f"{arguments.deliveries_per_commitment:g} deliveries per commitment, in bulk)"
        )
    lines += [
        f"load                  {arguments.concurrency} concurrent, {arguments.duration:g} s per "
        f"query, 1 uvicorn worker, {os.cpu_count()} CPUs; partner: an editor of {partner}",
    ]
    print("\n".join(lines))


def _report(run: Run, measured: list[Measured]) -> None:
    lines = [
        "",
        f"{run.name}:",
        f"{'query':<40}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        f"{'max ms':>8}{'>300ms':>8}{'CPU ms':>8}{'PG ms':>8}{'x p50':>8}",
    ]
    baseline = measured[0].load
    floor = percentile(baseline.latencies, 0.5) if baseline.latencies else None
    for item in measured:
        load = item.load
        count = len(load.latencies)
        if not count:
            lines.append(f"{item.case.name:<40}{0:>9}   ({load.failures} failed)")
            continue
        p50 = percentile(load.latencies, 0.5)
        postgres = "n/a" if item.postgres_cpu is None else _ms(item.postgres_cpu / count)
        ratio = f"{p50 / floor:.0f}x" if floor else "-"
        lines.append(
            f"{item.case.name:<40}{count:>9}{count / load.seconds:>8.1f}{_ms(p50):>8}"
            f"{_ms(percentile(load.latencies, 0.95)):>8}{_ms(percentile(load.latencies, 0.99)):>8}"
            f"{_ms(max(load.latencies)):>8}{sum(t > 0.3 for t in load.latencies):>8}"
            f"{_ms(item.server_cpu / count):>8}{postgres:>8}{ratio:>8}"
            + (f"  ({load.failures} failed)" if load.failures else "")
            + (f"  ({item.writes} pledges)" if item.writes else "")
        )
    lines.append("")
    for item in measured[1:]:
        if item.load.latencies:
            p95 = percentile(item.load.latencies, 0.95) * 1000
            verdict = "met" if p95 <= 300 else "NOT met"
            lines.append(f"goal p95 <= 300 ms  {item.case.name}: {p95:.0f} ms, {verdict}")
    print("\n".join(lines))


def _report_profiles(profiles: list[Profile], parts: list[tuple[str, float, float]]) -> None:
    lines = ["", "In process, one request each: its SQL statements, slowest first (ms):"]
    for profile in profiles:
        total = sum(statement.seconds for statement in profile.statements)
        lines.append(
            f"  {profile.case}: {_ms(profile.seconds)} ms, {len(profile.statements)} statements "
            f"taking {_ms(total)} ms"
        )
        for statement in sorted(profile.statements, key=lambda s: -s.seconds):
            if statement.seconds >= 0.005:
                lines.append(f"    {_ms(statement.seconds):>6}  {_label(statement.sql)}")
    if parts:
        lines += [
            "",
            "Each field of the coalition dashboard alone (best of 3, ms):",
            f"  {'field':<26}{'secretariat':>12}{'partner':>10}",
        ]
        lines += [
            f"  {name:<26}{_ms(secretariat):>12}{_ms(partner):>10}"
            for name, secretariat, partner in parts
        ]
        total = statistics.fsum(secretariat for _, secretariat, _ in parts)
        lines.append(f"  {'(sum of the parts)':<26}{_ms(total):>12}")
    print("\n".join(lines))


def _label(sql: str) -> str:
    """Which statement it is: its CTEs' names and the tables it reads."""
    words = " ".join(sql.split())
    named = re.findall(r"\b(\w+) AS \(SELECT", words)
    ctes = set(named)
    tables = [
        name
        for name in dict.fromkeys(re.findall(r"\b(?:FROM|JOIN) (\w+)", words))
        if name not in ctes and name.lower() not in {"lateral", "jsonb_array_elements_text"}
    ]
    label = f"WITH {', '.join(named)}; " if named else ""
    return f"{label}from {', '.join(tables)}"


if __name__ == "__main__":
    main()
