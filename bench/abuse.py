"""How fast the hub refuses abusive requests (issue 5), against a normal query measured in
the same run: the abuse suite's documents (tests/graphql/test_limits.py), each sent N times
in a row to `coalition-hub serve` (HUB_ENV=production, one worker, an embedded SQLite
database, ad-hoc documents allowed so each limit is what refuses), with p50/p99 latency,
the server's CPU per request, and the ratio of each p99 to the normal query's.

    .venv/bin/python bench/abuse.py [--requests 50]
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import HUB, cpu_seconds, free_port, percentile, stop, wait_until_ready
from tests.graphql.test_limits import ATTACKS, VIEWER

INTROSPECTION = {"query": "{ __schema { types { name fields { name } } } }"}


async def measure(client: httpx.AsyncClient, body: Any, pid: int, count: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: set[int] = set()
    used = cpu_seconds(pid)
    for _ in range(count):
        started = time.perf_counter()
        if isinstance(body, bytes):
            response = await client.post(
                "/graphql", content=body, headers={"Content-Type": "application/json"}
            )
        else:
            response = await client.post("/graphql", json=body)
        latencies.append(time.perf_counter() - started)
        statuses.add(response.status_code)
    code = response.json().get("errors", [{}])[0].get("extensions", {}).get("code", "-")
    return {
        "p50": percentile(latencies, 0.5) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "cpu": (cpu_seconds(pid) - used) / count * 1000,
        "status": ",".join(map(str, sorted(statuses))),
        "code": code,
    }


def start_hub(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`coalition-hub serve` on a fresh SQLite database in `folder`, and its address."""
    env = {
        **os.environ,
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'hub.db'}",
        "HUB_ENV": "production",
        "HUB_TRUSTED_DOCUMENTS_ONLY": "false",
        "HUB_RATE_LIMITS": "0",
    }
    env.pop("HUB_REDIS_URL", None)
    subprocess.run([str(HUB), "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    with (folder / "hub.log").open("wb") as output:
        server = subprocess.Popen(
            [str(HUB), "serve", "--port", str(port), "--no-access-log"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return server, f"http://127.0.0.1:{port}"


async def measure_all(
    server: subprocess.Popen[bytes], base: str, count: int
) -> dict[str, dict[str, Any]]:
    await wait_until_ready(base, server)
    documents: dict[str, Any] = {"a normal query (baseline)": {"query": VIEWER}}
    documents |= {name: body for name, (body, _, _) in ATTACKS.items()}
    documents["introspection in production"] = INTROSPECTION
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        return {
            name: await measure(client, body, server.pid, count) for name, body in documents.items()
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50, help="requests per document")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server, base = start_hub(Path(folder))
        try:
            rows = asyncio.run(measure_all(server, base, arguments.requests))
        finally:
            stop(server)
    baseline = rows["a normal query (baseline)"]["p99"]
    print(f"{arguments.requests} requests each, one at a time, HUB_ENV=production")
    print(f"{'document':40} {'status':>7} {'code':26} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'cpu ms':>7} {'p99/base':>8}")  # fmt: skip
    for name, row in rows.items():
        print(
            f"{name:40} {row['status']:>7} {row['code']:26} {row['p50']:7.2f} {row['p99']:7.2f}"
            f" {row['cpu']:7.2f} {row['p99'] / baseline:8.2f}"
        )


if __name__ == "__main__":
    main()
