"""A Redis server of a test's own, which the test may crash and start again.

The shared server on 6379 serves other runs at the same time, so tests that take Redis
down start their own: `redis-server` on a free loopback port, its data in a folder of its
own, with the append-only file fsynced on every write (as production runs it, see
docker-compose.yml) so that a crash loses nothing that was acknowledged.
"""

import asyncio
import shutil
import tempfile
from asyncio.subprocess import DEVNULL, Process
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis import exceptions as redis_errors
from redis.asyncio import Redis

from tests.hub_processes import free_port
from tests.required import missing


class RedisServer:
    def __init__(self, executable: str, folder: str) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._command = [
            executable,
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", folder),
            *("--appendonly", "yes", "--appendfsync", "always", "--save", ""),
            *("--logfile", "redis.log"),
        ]
        self._process: Process | None = None

    async def start(self) -> None:
        """Starts it (again: with what it had written) and returns once it answers PING."""
        assert self._process is None, "already running"
        process = self._process = await asyncio.create_subprocess_exec(
            *self._command, stdout=DEVNULL
        )
        client = Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            async with asyncio.timeout(20):
                while True:
                    assert process.returncode is None, "redis-server exited"
                    try:
                        await client.ping()
                        return
                    except (redis_errors.ConnectionError, redis_errors.BusyLoadingError):
                        await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    async def crash(self) -> None:
        """SIGKILL: no shutdown, no final save; the append-only file is all that is left."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            await process.wait()


def redis_server_executable() -> str:
    """`redis-server` from PATH; skips the test without one (fails under
    HUB_REQUIRE_SERVICES=1, like a server that does not answer)."""
    executable = shutil.which("redis-server")
    if executable is None:
        missing("redis-server is not on PATH; install Redis to run this test")
    return executable


@asynccontextmanager
async def private_redis(*, running: bool = True) -> AsyncIterator[RedisServer]:
    """A server of the test's own in a temporary folder (started unless `running=False`);
    crashed and the folder removed at the end."""
    executable = redis_server_executable()
    with tempfile.TemporaryDirectory(prefix="hub-test-redis-") as folder:
        server = RedisServer(executable, folder)
        try:
            if running:
                await server.start()
            yield server
        finally:
            await server.crash()
