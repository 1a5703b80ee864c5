"""The hub as OS processes of their own (`python -m backend serve`), sharing one database
and one Redis: the scale-out path, and what the chaos test crashes and starts again."""

import asyncio
import os
import signal
import socket
import sys
from asyncio.subprocess import Process
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx

from backend.config import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def hub_environment(settings: Settings, redis_url: str, prefix: str) -> dict[str, str]:
    """What a replica is configured with: the test's database and Redis, a quick relay,
    no rate limits (every test client is 127.0.0.1)."""
    return {
        **os.environ,
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_REDIS_URL": redis_url,
        "HUB_REDIS_PREFIX": prefix,
        "HUB_RELAY_INTERVAL": "0.2",
        "HUB_RATE_LIMITS": "0",
    }


class HubProcess:
    """One replica on a port of its own, which it keeps when started again after a crash
    (as a process manager restarts a replica behind the same address)."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.environment = environment
        self.address = f"127.0.0.1:{free_port()}"
        self._process: Process | None = None

    async def start(self) -> None:
        """Starts it and returns once it answers /readyz."""
        assert self._process is None, "already running"
        port = self.address.rpartition(":")[2]
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "backend", "serve", "--port", port, env=self.environment
        )
        await self._ready(self._process)

    async def crash(self) -> None:
        """SIGKILL: whatever it committed and had not published stays in the outbox."""
        await self._end(signal.SIGKILL)

    async def stop(self) -> None:
        await self._end(signal.SIGTERM)

    async def _ready(self, process: Process) -> None:
        async with httpx.AsyncClient(base_url=f"http://{self.address}", timeout=2) as client:
            async with asyncio.timeout(60):
                while True:
                    assert process.returncode is None, f"the hub at {self.address} exited"
                    try:
                        if (await client.get("/readyz")).status_code == 200:
                            return
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)

    async def _end(self, how: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(how)
        try:
            async with asyncio.timeout(30):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


@asynccontextmanager
async def hub_processes(environment: dict[str, str], count: int) -> AsyncIterator[list[HubProcess]]:
    """`count` replicas, started together; each is stopped at the end, if still running."""
    hubs = [HubProcess(environment) for _ in range(count)]
    async with AsyncExitStack() as stack:
        for hub in hubs:
            stack.push_async_callback(hub.stop)
        await asyncio.gather(*(hub.start() for hub in hubs))
        yield hubs


@asynccontextmanager
async def two_processes(
    settings: Settings, redis_url: str, prefix: str
) -> AsyncIterator[tuple[str, str]]:
    async with hub_processes(hub_environment(settings, redis_url, prefix), 2) as (first, second):
        yield first.address, second.address
