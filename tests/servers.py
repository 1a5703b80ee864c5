"""Real servers for tests that need a socket: uvicorn on a loopback port, in the test loop."""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette


@dataclass
class LiveServer:
    """The app served by uvicorn on a loopback port, in this event loop, with its lifespan
    (relay and fan-out) running: what a websocket client talks to."""

    app: Starlette
    port: int

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    """A loopback port nothing listens on (until someone binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@asynccontextmanager
async def serve(app: Starlette) -> AsyncIterator[LiveServer]:
    """Any ASGI app: the hub's, or a stand-in for a service it talks to."""
    port = free_port()
    settings = getattr(app.state, "settings", None)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_level="warning",
        # As `coalition-hub serve` runs it.
        ws_per_message_deflate=settings.ws_compression if settings is not None else False,
        ws_max_size=settings.max_body_bytes if settings is not None else 16 * 2**20,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield LiveServer(app=app, port=port)
    finally:
        server.should_exit = True
        await task
