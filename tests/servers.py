"""Real servers for tests that need a socket: uvicorn on a loopback port, in the test loop."""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI


@dataclass
class LiveServer:
    """The app served by uvicorn on a loopback port, in this event loop, with its lifespan
    (relay and fan-out) running: what a websocket client talks to."""

    app: FastAPI
    port: int

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[LiveServer]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_level="warning",
        # As `coalition-hub serve` runs it.
        ws_per_message_deflate=app.state.settings.ws_compression,
        ws_max_size=app.state.settings.max_body_bytes,
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
