"""The app built with changed settings, and a client for it over ASGI, for tests that need
a configuration of their own (production, default limits, allowed origins)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.config import Settings
from backend.graphql.compiled import reads as compiled_reads
from backend.main import create_app


@asynccontextmanager
async def app_with(
    settings: Settings, engine: AsyncEngine, **changes: Any
) -> AsyncIterator[FastAPI]:
    """The app on the test database with `changes` to the test settings; the compiled
    reads' pool (which the app's lifespan does not own here) is closed after."""
    app = create_app(settings.model_copy(update=changes), engine=engine)
    try:
        yield app
    finally:
        await compiled_reads.close(app.state.compiled_reads)


@asynccontextmanager
async def client_of(
    app: FastAPI, base_url: str = "http://hub.test"
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=base_url
    ) as client:
        yield client
