"""Helpers the benchmarks share: a throw-away PostgreSQL database, a free loopback port,
a process's CPU time, waiting for `/readyz`, nearest-rank percentiles."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

HUB = Path(sys.executable).parent / "coalition-hub"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc/<pid>/stat (fields 14 and 15)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
