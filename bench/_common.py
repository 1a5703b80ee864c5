"""Helpers the benchmarks share: a throw-away PostgreSQL database, the demo seeded into it,
the portal's trusted documents, a free loopback port, `coalition-hub serve` started (in one
of its three read configurations) and stopped, a process's and PostgreSQL's CPU time,
waiting for `/readyz`, a closed-loop GraphQL load, nearest-rank percentiles."""

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

HUB = Path(sys.executable).parent / "coalition-hub"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

# The portal's trusted documents, sent whole with an operationName as the portal sends them:
# the hub's compiled read path recognises a document by its operations and fragments, so
# any other text (one operation cut out of it, an ad-hoc query) goes the reference path.
ROOT = Path(__file__).resolve().parents[1]
PORTAL_DOCUMENT = (ROOT / "schema/operations/portal.graphql").read_text()
COALITION_SLUG = "learning-continuity"  # the demo's largest coalition


def portal_request(operation: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a POST /graphql running one operation of the portal's document."""
    return {"query": PORTAL_DOCUMENT, "operationName": operation, "variables": variables}


@dataclass(frozen=True)
class HubConfiguration:
    """How the hub answers the portal's reads (issue 4): through the Strawberry resolvers
    (the reference), from one compiled SQL statement, or from the result cache in front of
    it. The cache stays in memory: the servers started here never get HUB_REDIS_URL."""

    compiled_reads: bool
    read_cache: bool

    def environment(self) -> dict[str, str]:
        return {
            "HUB_COMPILED_READS": "1" if self.compiled_reads else "0",
            "HUB_READ_CACHE": "1" if self.read_cache else "0",
        }


HUB_CONFIGURATIONS = {
    "reference": HubConfiguration(compiled_reads=False, read_cache=False),
    "compiled": HubConfiguration(compiled_reads=True, read_cache=False),
    "cached": HubConfiguration(compiled_reads=True, read_cache=True),  # the hub's defaults
}


def add_database_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="PostgreSQL database to create, use and drop; it must not exist yet "
        "(default postgresql+asyncpg://postgres@127.0.0.1:5432/hub_bench_<random>)",
    )


def check_database_argument(parser: argparse.ArgumentParser, arguments: argparse.Namespace) -> None:
    """Fills in the default --database-url and refuses one that is not PostgreSQL on loopback."""
    if arguments.database_url is None:
        name = f"hub_bench_{secrets.token_hex(4)}"
        arguments.database_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    url = sa.make_url(arguments.database_url)
    if url.get_backend_name() != "postgresql" or url.host not in LOOPBACK:
        parser.error("--database-url must name a PostgreSQL database on this machine")


async def create_database(url: sa.URL) -> None:
    server = create_async_engine(
        url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with server.connect() as connection:
            exists = await connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            )
            if exists:
                raise SystemExit(
                    f"database {url.database} exists; the benchmark drops its own only"
                )
            await connection.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    finally:
        await server.dispose()


async def drop_database(url: sa.URL) -> None:
    server = create_async_engine(
        url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with server.connect() as connection:
            await connection.execute(
                sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
            )
    finally:
        await server.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _stat(pid: int | str) -> list[str]:
    """/proc/<pid>/stat from field 3 (state) on: [1] is the parent, [11:15] the CPU times."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc/<pid>/stat (fields 14 and 15)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def postmaster_pid(url: sa.URL) -> int | None:
    """The PID of the PostgreSQL server behind `url` if it runs in this machine's process
    namespace (the parent of the backend that answers); None when it cannot be seen."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            backend = int(await connection.scalar(sa.text("SELECT pg_backend_pid()")))
            return _postmaster_of(backend)  # while the backend is still there
    finally:
        await engine.dispose()


def _postmaster_of(backend: int) -> int | None:
    try:
        parent = int(_stat(backend)[1])
        is_postgres = Path(f"/proc/{parent}/comm").read_text().startswith("postgres")
    except (OSError, ValueError, IndexError):
        return None
    return parent if is_postgres else None


def machine_cpu_seconds() -> float:
    """CPU time every process of the machine has used, all CPUs together (/proc/stat):
    against the server's, PostgreSQL's and the client's, it shows what else was running."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds(postmaster: int) -> float:
    """User + system CPU time of the whole PostgreSQL server: its live processes, and the
    backends that have exited since it started (the postmaster reaps them, so their time is
    in its cutime and cstime). Every database counts: the machine must be otherwise quiet."""
    fields = _stat(postmaster)
    ticks = sum(int(value) for value in fields[11:15])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(entry.name)
        except (FileNotFoundError, ProcessLookupError):  # gone since the listing
            continue
        if int(fields[1]) == postmaster:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


async def wait_until_ready(
    base_url: str, server: subprocess.Popen[bytes], path: str = "/readyz"
) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SystemExit("the server exited before it was ready")
            try:
                if (await client.get(path)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server was not ready within 30 s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def seed_demo(
    database_url: str,
    scale: int,
    *,
    deliveries_per_commitment: float | None = None,
    bulk: bool | None = False,
) -> tuple[Any, float]:
    """`coalition-hub seed-demo --scale N`, through the services unless `bulk` (None: as
    the command decides, in bulk above scale 10), with a progress bar on standard error:
    the demo.Seeded counts and the seconds it took."""
    from backend import db, demo
    from backend.config import Environment, Settings

    settings = Settings(database_url=database_url, env=Environment.PRODUCTION)
    engine = db.create_engine(settings)
    try:
        started = time.perf_counter()
        with demo.bar() as bar:
            seeded = await demo.seed(
                db.create_session_factory(engine),
                scale=scale,
                progress=bar,
                deliveries_per_commitment=deliveries_per_commitment,
                bulk=bulk,
            )
        return seeded, time.perf_counter() - started
    finally:
        await engine.dispose()


def serve_hub(
    database_url: str, port: int, log: Path, *, configuration: HubConfiguration
) -> subprocess.Popen[bytes]:
    """`coalition-hub serve` on 127.0.0.1:port: one uvicorn worker, HUB_ENV=production,
    reading as `configuration` says, the read cache (if on) in memory, without an access
    log (the peer it is compared with logs nothing per request either)."""
    env = {
        **os.environ,
        "HUB_DATABASE_URL": database_url,
        "HUB_ENV": "production",
        # The load comes from one address, far above any per-IP limit.
        "HUB_RATE_LIMITS": "0",
        **configuration.environment(),
    }
    env.pop("HUB_REDIS_URL", None)
    with log.open("wb") as output:
        return subprocess.Popen(
            [
                *(str(HUB), "serve", "--host", "127.0.0.1", "--port", str(port)),
                *("--workers", "1", "--no-access-log"),
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    failures: int = 0
    seconds: float = 0.0


async def drive(
    base_url: str,
    body: dict[str, Any],
    *,
    duration: float,
    concurrency: int,
    headers: dict[str, str] | None = None,
) -> Load:
    """Closed loop: `concurrency` workers over as many keep-alive connections, each POSTing
    `body` to /graphql (with `headers`) and sending the next when the answer is in, until
    `duration` is up. An answer counts when its status is 200 and it has no top-level
    "errors" (searched for in the bytes, not parsed: the client's CPU stays off the
    measure)."""
    load = Load()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=300, limits=limits, headers=headers
    ) as client:
        await client.post("/graphql", json=body)  # warm the server's caches

        async def worker(deadline: float) -> None:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                response = await client.post("/graphql", json=body)
                elapsed = time.perf_counter() - started
                if response.status_code != 200 or b'"errors":' in response.content:
                    load.failures += 1
                    continue
                load.latencies.append(elapsed)
                load.sizes.append(len(response.content))

        started = time.perf_counter()
        deadline = time.monotonic() + duration
        await asyncio.gather(*(worker(deadline) for _ in range(concurrency)))
        load.seconds = time.perf_counter() - started
    return load
