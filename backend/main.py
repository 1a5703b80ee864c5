"""The FastAPI application: GraphQL at /graphql, health at /healthz and /readyz."""

import datetime as dt
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from backend import db, metrics, oidc, security_headers
from backend.actors import ANONYMOUS
from backend.config import Settings
from backend.graphql import body_limit, rate_limits, read_lane
from backend.graphql import schema as graphql_schema
from backend.graphql.authentication import Authenticator, CredentialsRejected
from backend.graphql.compiled import reads as compiled
from backend.graphql.compiled.reads import CompiledReads
from backend.graphql.context import Context, LiveFeed
from backend.graphql.feed_renders import SharedRenders
from backend.graphql.http import HubGraphQLRouter
from backend.graphql.limits import Limits
from backend.graphql.read_cache import create_read_cache
from backend.graphql.trusted_documents import TrustedDocuments
from backend.services import outbox
from backend.web import exports
from backend.web import iati as iati_exports
from events import channels
from events.bus import Bus
from events.fanout import FanOut
from events.memory import MemoryBus
from events.redis_streams import RedisStreamBus

log = logging.getLogger("backend")


def create_bus(settings: Settings) -> Bus:
    """The in-process bus for one process; Redis Streams when replicas must share events."""
    if settings.redis_url is None:
        return MemoryBus(retention=settings.feed_retention)
    return RedisStreamBus(
        settings.redis_url,
        stream=channels.feed_stream(settings.redis_prefix),
        retention=settings.feed_retention,
        listener_name=channels.feed_listener(settings.redis_prefix),
    )


def create_app(settings: Settings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    """The app; `engine` lets a caller (the tests) share its connection pool."""
    settings = settings or Settings()
    owns_engine = engine is None
    engine = engine or db.create_engine(settings)
    session_factory = db.create_session_factory(engine)
    bus = create_bus(settings)
    read_cache = create_read_cache(settings)
    rate_limiter = rate_limits.create_limits(settings)
    relay = outbox.Relay(
        session_factory,
        bus,
        interval=settings.relay_interval,
        after_announcing=read_cache.invalidate if read_cache is not None else None,
    )
    fanout = FanOut(bus, queue_size=settings.feed_queue_size)
    production = not settings.is_development
    limits = Limits.of(settings)
    documents = TrustedDocuments()
    rules = graphql_schema.validation_rules(
        production=production, limits=limits, documents=documents
    )
    schema = graphql_schema.build(
        production=production,
        limits=limits,
        rules=rules,
        trusted_only=documents if settings.only_trusted_documents else None,
    )
    renders = SharedRenders(schema._schema, rules=rules)
    feed = LiveFeed(fanout=fanout, bus=bus, renders=renders)
    compiled_reads = (
        CompiledReads(
            schema._schema,
            engine,
            max_page_size=settings.max_page_size,
            connections=settings.compiled_reads_connections,
            documents=documents,
        )
        if settings.compiled_reads
        else None
    )

    # HTTP, the read lane and websockets' `connection_init` all sign in through it.
    authenticate = Authenticator(session_factory, verifier=oidc.verifier(settings))

    async def context(connection: HTTPConnection) -> Context:
        # Websockets authenticate later, in `connection_init` (HubGraphQLRouter.on_ws_connect).
        if connection.scope["type"] == "websocket":
            actor = ANONYMOUS
        else:
            actor = await authenticate.of_request(connection)
        return Context(
            settings=settings,
            session_factory=session_factory,
            actor=actor,
            relay=relay,
            feed=feed,
            read_cache=read_cache,
            compiled_reads=compiled_reads,
            public_read=connection.scope.get(read_lane.SCOPE_KEY),
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Publish whatever a previous process committed but did not get to publish.
        relay.start()
        relay.kick()
        # Returns even when Redis does not answer: mutations work without it (the relay
        # publishes later), and the feed takes its place in the stream once Redis is back.
        await fanout.start()
        # Everything built so far (code, schema, pools) lives as long as the
        # process: out of the collector's sight, so its full collections stay short.
        gc.collect()
        gc.freeze()
        # Fewer young collections: a request allocates thousands of short-lived objects.
        gc.set_threshold(10_000, 50, 100)
        try:
            yield
        finally:
            await fanout.stop()
            await relay.stop()
            await bus.close()
            if read_cache is not None:
                await read_cache.close()
            if rate_limiter is not None:
                await rate_limiter.close()
            await compiled.close(compiled_reads)
            if owns_engine:
                await engine.dispose()

    app = FastAPI(
        title="Coalition Hub",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.bus = bus
    app.state.relay = relay
    app.state.fanout = fanout
    app.state.renders = renders
    app.state.read_cache = read_cache
    app.state.compiled_reads = compiled_reads

    router = HubGraphQLRouter(
        schema,
        authenticate=authenticate,
        context_getter=context,
        graphql_ide=None if production else "graphiql",
        subscription_protocols=(
            (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL)
            if settings.legacy_graphql_ws
            else (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
        ),
        connection_init_wait_timeout=dt.timedelta(seconds=settings.ws_init_timeout),
        documents=documents,
        limits=limits,
        # Cross-origin websocket handshakes from other origins are refused (403).
        allowed_origins=settings.allowed_origins,
    )
    app.include_router(router, prefix="/graphql")
    app.include_router(exports.router(authenticate=authenticate, session_factory=session_factory))
    app.include_router(iati_exports.router)
    # Middlewares, innermost first (each added one wraps those before it).
    # The portal's trusted reads, answered before the GraphQL stack once it has planned them.
    app.add_middleware(
        read_lane.ReadLane,
        cache=read_cache,
        reads=compiled_reads,
        authenticate=authenticate,
        documents=documents,
    )
    # No body larger than the limit is read, by the lane or the stack.
    app.add_middleware(body_limit.BodyLimit, limit=limits.body_bytes)
    if rate_limiter is not None:
        # Outside the read lane, which answers some requests itself, and the body limit;
        # inside CORS, so a browser can read a 429 and its Retry-After.
        app.add_middleware(rate_limits.RateLimits, limits=rate_limiter, prefixes=("/exports/",))
    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
            expose_headers=["Retry-After"],
            max_age=600,
        )
    app.add_middleware(security_headers.SecurityHeaders, production=production)

    @app.exception_handler(CredentialsRejected)
    async def rejected(_request: Request, error: CredentialsRejected) -> JSONResponse:
        body = {"errors": [{"message": str(error), "extensions": {"code": "UNAUTHENTICATED"}}]}
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})

    feed_page = resources.files("backend.web").joinpath("feed.html").read_text("utf-8")

    @app.get("/feed", include_in_schema=False)
    async def wall_screen() -> HTMLResponse:
        return HTMLResponse(feed_page)

    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint() -> PlainTextResponse:
        text = await metrics.collect(session_factory, fanout, relay)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        try:
            async with engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except Exception as error:
            log.warning("database not ready: %s", error)
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "up"})

    return app


__all__ = ["create_app"]
