"""Benchmark the live feed's fan-out: N websocket subscribers, M pledges per second.

Creates a fresh database (PostgreSQL, or a temporary SQLite file with --sqlite), seeds a
coalition, an ACTIVE member and a PARTNER_EDITOR token, starts ONE `coalition-hub serve`
(in-process bus) on loopback, opens N graphql-transport-ws subscriptions from a separate
client process, pledges over HTTP at --rate for --duration and measures pledge-sent to
event-received latency and server CPU. Then, in the same run, the floor: a bare Starlette
websocket server broadcasting the pre-serialised JSON of an equivalent `next` message to
the same N clients at the same rate. See bench/README.md.

    .venv/bin/python bench/feed_fanout.py [--subscribers 1000] [--rate 20] [--duration 20]
    .venv/bin/python bench/feed_fanout.py --quick      # 100 subscribers, 5/s, 5 s
"""

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from _common import (
    HUB,
    check_database_argument,
    cpu_seconds,
    create_database,
    drop_database,
    free_port,
    percentile,
    stop,
    wait_until_ready,
)

PROTOCOL = "graphql-transport-ws"
FEED = """
subscription ($types: [FeedEventType!]) {
  coalitionFeed(types: $types) {
    cursor
    ... on FeedEvent {
      type occurredAt
      organisation { name }
      commitment { ref title amount currency }
    }
  }
}
"""
PLEDGE = """
mutation ($input: PledgeCommitmentInput!) {
  pledgeCommitment(input: $input) { __typename ... on Commitment { ref } }
}
"""
ORGANISATION = "Brightwave Telecom"
# Every wait is bounded: connecting, warming up, draining.
CONNECT_SECONDS = 120.0
WARMUP_SECONDS = 60.0
SETTLE_SECONDS = 1.5


# --- arguments -------------------------------------------------------------------------


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000, help="websocket subscribers")
    parser.add_argument("--rate", type=float, default=20, help="pledges per second (default 20)")
    parser.add_argument("--duration", type=float, default=20, help="seconds of load (default 20)")
    parser.add_argument(
        "--drain",
        type=float,
        default=60,
        help="seconds to wait, after the last pledge, for deliveries still on the way",
    )
    parser.add_argument("--quick", action="store_true", help="100 subscribers, 5/s for 5 s")
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL database to create, use and drop; it must not exist yet "
        "(default postgresql+asyncpg://postgres@127.0.0.1:5432/hub_bench_<random>)",
    )
    # Hidden modes: this script is also the client process and the floor server.
    parser.add_argument("--clients", help=argparse.SUPPRESS)
    parser.add_argument("--floor-server", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.subscribers, arguments.rate, arguments.duration = 100, 5, 5
    if arguments.clients or arguments.floor_server:
        return arguments
    if arguments.subscribers < 1 or arguments.rate <= 0 or arguments.duration <= 0:
        parser.error("--subscribers, --rate and --duration must be positive")
    if arguments.sqlite:
        if arguments.database_url:
            parser.error("--sqlite and --database-url exclude each other")
        return arguments
    check_database_argument(parser, arguments)
    return arguments


# --- the client process ----------------------------------------------------------------
#
# Protocol with the driver, one line each way: the client prints {"ready": ...} once every
# subscription has received a warm-up event, reads "go\n", then reads "<events sent>\n"
# when the driver is done, waits for N x events deliveries (or --drain seconds) and prints
# {"latencies": [...], ...}.


def _raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


async def _read_line(reader: asyncio.StreamReader, seconds: float) -> str:
    line = await asyncio.wait_for(reader.readline(), seconds)
    return line.decode().strip()


async def _clients(config: dict[str, Any]) -> dict[str, Any]:
    from websockets.asyncio.client import ClientConnection, connect

    count: int = config["subscribers"]
    url: str = config["url"]
    init = json.dumps({"type": "connection_init", "payload": {}})
    subscribe = json.dumps(
        {
            "id": "feed",
            "type": "subscribe",
            "payload": {"query": FEED, "variables": {"types": ["COMMITMENT_PLEDGED"]}},
        }
    )
    pong = json.dumps({"type": "pong"})
    latencies: list[int] = []  # nanoseconds, all sockets together
    since_commit: list[int] = []  # nanoseconds from the event's occurredAt
    warmed: set[int] = set()
    errors: list[str] = []
    received = 0
    all_in = asyncio.Event()
    expected = -1
    sockets: list[ClientConnection] = []

    async def open_one(index: int, gate: asyncio.Semaphore) -> None:
        async with gate:
            socket = await connect(
                url,
                subprotocols=[PROTOCOL],  # type: ignore[list-item]
                max_queue=None,
                ping_interval=None,
                open_timeout=60,
            )
            sockets.append(socket)
            await socket.send(init)
            ack = await asyncio.wait_for(socket.recv(), 60)
            if "connection_ack" not in ack:
                raise RuntimeError(f"no connection_ack: {ack!r}")
            await socket.send(subscribe)
        await read(index, socket)

    async def read(index: int, socket: ClientConnection) -> None:
        nonlocal received
        with contextlib.suppress(Exception):
            async for frame in socket:
                now = time.time_ns()
                text = frame if isinstance(frame, str) else frame.decode()
                # Cheap parse first: the title is "bench <send time in ns>".
                at = text.find('"bench ')
                if at >= 0:
                    end = text.index('"', at + 7)
                    latencies.append(now - int(text[at + 7 : end]))
                    stamp = text.find('"occurredAt":"') + 14
                    occurred = dt.datetime.fromisoformat(text[stamp : text.index('"', stamp)])
                    since_commit.append(now - round(occurred.timestamp() * 1e9))
                    received += 1
                    if received == expected:
                        all_in.set()
                    continue
                message = json.loads(text)
                kind = message.get("type")
                if kind == "ping":
                    await socket.send(pong)
                elif kind == "next" and "errors" not in message["payload"]:
                    warmed.add(index)
                elif len(errors) < 10:
                    errors.append(text[:300])

    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    gate = asyncio.Semaphore(50)
    started = time.monotonic()
    tasks = [asyncio.create_task(open_one(index, gate)) for index in range(count)]
    try:
        # Ready once every subscription has seen a warm-up event (the driver keeps sending
        # them): only then is it certain that each one is registered on the server.
        deadline = time.monotonic() + CONNECT_SECONDS + WARMUP_SECONDS
        while len(warmed) < count and time.monotonic() < deadline:
            failed = [task for task in tasks if task.done() and task.exception()]
            if failed:
                raise RuntimeError(f"a subscriber failed: {failed[0].exception()!r}")
            await asyncio.sleep(0.05)
        if len(warmed) < count:
            raise RuntimeError(f"only {len(warmed)} of {count} subscriptions warmed up")
        print(json.dumps({"ready": time.monotonic() - started}), flush=True)
        if await _read_line(reader, 600) != "go":
            raise RuntimeError("the driver went away")
        latencies.clear()
        since_commit.clear()
        received = 0
        cpu_before, wall_before = time.process_time(), time.monotonic()
        expected = count * int(await _read_line(reader, 3600))
        if received >= expected:
            all_in.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_in.wait(), config["drain"])
        return {
            "latencies": latencies,
            "since_commit": since_commit,
            "errors": errors,
            "client_cpu": time.process_time() - cpu_before,
            "client_seconds": time.monotonic() - wall_before,
        }
    finally:
        for socket in sockets:
            socket.transport.abort()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _client_main(config_json: str) -> None:
    # Ctrl-C reaches the whole process group: the clients just end (the driver cleans up).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    config = json.loads(config_json)
    _raise_fd_limit(config["subscribers"] + 256)
    try:
        import uvloop

        result = uvloop.run(_clients(config))
    except ImportError:
        result = asyncio.run(_clients(config))
    print(json.dumps(result), flush=True)


# --- the floor server ------------------------------------------------------------------


def _floor_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    subscribers: set[WebSocket] = set()

    async def feed(socket: WebSocket) -> None:
        await socket.accept(subprotocol=PROTOCOL)
        try:
            while True:
                message = json.loads(await socket.receive_text())
                if message["type"] == "connection_init":
                    await socket.send_text('{"type":"connection_ack"}')
                elif message["type"] == "subscribe":
                    subscribers.add(socket)
        except WebSocketDisconnect:
            pass
        finally:
            subscribers.discard(socket)

    async def publish(request: Request) -> Response:
        text = (await request.body()).decode()  # the `next` message, serialised once
        for socket in list(subscribers):
            with contextlib.suppress(Exception):
                await socket.send_text(text)
        return Response(status_code=204)

    async def ready(_: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            WebSocketRoute("/graphql", feed),
            Route("/publish", publish, methods=["POST"]),
            Route("/readyz", ready),
        ]
    )


def _floor_main(port: int) -> None:
    import uvicorn

    uvicorn.run(
        _floor_app(),
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        # As `coalition-hub serve` (HUB_WS_COMPRESSION unset): no permessage-deflate.
        ws_per_message_deflate=False,
    )


# --- the driver ------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    subscribers: int
    sent: int
    failed: int
    latencies_ms: list[float]
    # From the event's occurredAt (the hub records it in the pledge's transaction, just
    # before COMMIT; the floor's driver stamps it as it sends the event).
    since_commit_ms: list[float]
    server_cpu: float
    client_cpu: float
    client_seconds: float
    failures: list[str]
    errors: list[str]
    # Server CPU seconds per event with no subscriber at all, measured in the same run
    # before the subscribers connect: for the hub the pledge mutation, its COMMIT and the
    # relay's publish; for the floor the POST.
    publishing_cpu: float = float("nan")

    @property
    def expected(self) -> int:
        return self.subscribers * self.sent

    @property
    def received(self) -> int:
        return len(self.latencies_ms)

    @property
    def cpu_per_message_ms(self) -> float:
        return self.server_cpu / self.received * 1000 if self.received else float("nan")

    @property
    def fanout_cpu_per_message_ms(self) -> float:
        """Server CPU per delivered message, less what publishing the events cost."""
        fanout = self.server_cpu - self.sent * self.publishing_cpu
        return fanout / self.received * 1000 if self.received else float("nan")

    def p(self, share: float) -> float:
        return percentile(self.latencies_ms, share) if self.latencies_ms else float("nan")

    def pc(self, share: float) -> float:
        return percentile(self.since_commit_ms, share) if self.since_commit_ms else float("nan")


# Publishes one event titled `title`: None when it was accepted, else what went wrong.
Publish = Callable[[httpx.AsyncClient, str], Coroutine[Any, Any, str | None]]


async def _run(
    name: str,
    base_url: str,
    server: subprocess.Popen[bytes],
    publish: Publish,
    arguments: argparse.Namespace,
    client: subprocess.Popen[bytes],
) -> Run:
    """Warm the N subscribers of `client` up, publish at --rate for --duration, collect
    their latencies."""
    try:
        return await _drive(name, base_url, server, publish, arguments, client)
    except BaseException:
        # Also ends the thread blocked reading the client's output, so that asyncio.run
        # can shut its executor down and the caller can clean up.
        client.kill()
        raise


async def _drive(
    name: str,
    base_url: str,
    server: subprocess.Popen[bytes],
    publish: Publish,
    arguments: argparse.Namespace,
    client: subprocess.Popen[bytes],
) -> Run:
    assert client.stdin is not None and client.stdout is not None
    async with _http(base_url) as http:
        loop = asyncio.get_running_loop()
        ready = loop.run_in_executor(None, client.stdout.readline)
        # Warm-up events until every subscription has received one (bounded in time).
        deadline = time.monotonic() + CONNECT_SECONDS + WARMUP_SECONDS + 5
        number = 0
        while not ready.done() and time.monotonic() < deadline:
            number += 1
            await publish(http, f"warmup {number}")
            await asyncio.wait([ready], timeout=0.5)
        line = await asyncio.wait_for(ready, 10)
        if not line or "ready" not in json.loads(line):
            raise SystemExit(f"{name}: the clients did not get ready ({line!r})")
        await asyncio.sleep(SETTLE_SECONDS)  # late warm-up deliveries
        client.stdin.write(b"go\n")
        client.stdin.flush()

        total = max(1, round(arguments.rate * arguments.duration))
        cpu_before = cpu_seconds(server.pid)
        done = await _publish_at_rate(
            http, publish, total, arguments.rate, lambda _: f"bench {time.time_ns()}"
        )
        sent = sum(1 for outcome in done if outcome is None)
        failures = sorted({str(outcome)[:200] for outcome in done if outcome is not None})
        client.stdin.write(f"{sent}\n".encode())
        client.stdin.flush()
        line = await loop.run_in_executor(None, client.stdout.readline)
        server_cpu = cpu_seconds(server.pid) - cpu_before
    if not line:
        raise SystemExit(f"{name}: the client process gave no figures")
    result = json.loads(line)
    return Run(
        name=name,
        subscribers=arguments.subscribers,
        sent=sent,
        failed=total - sent,
        failures=failures[:5],
        client_seconds=result["client_seconds"],
        latencies_ms=[value / 1e6 for value in result["latencies"]],
        since_commit_ms=[value / 1e6 for value in result["since_commit"]],
        server_cpu=server_cpu,
        client_cpu=result["client_cpu"],
        errors=result["errors"],
    )


def _http(base_url: str) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    return httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits)


async def _publish_at_rate(
    http: httpx.AsyncClient, publish: Publish, count: int, rate: float, title: Callable[[int], str]
) -> list[str | BaseException | None]:
    """`count` events, open-loop: each sent at its scheduled time, not after the previous
    answer; what each publish returned (None: accepted)."""
    started = time.monotonic()
    tasks: list[asyncio.Task[str | None]] = []
    for index in range(count):
        await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
        tasks.append(asyncio.create_task(publish(http, title(index))))
    return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 300)


async def _publishing_cost(
    base_url: str, server: subprocess.Popen[bytes], publish: Publish, arguments: argparse.Namespace
) -> float:
    """Server CPU seconds per event published with no subscriber connected: the part of
    the server's CPU that does not grow with the number of subscribers."""
    count = max(20, round(arguments.rate * 2))
    async with _http(base_url) as http:
        await publish(http, "solo warm-up")
        cpu_before = cpu_seconds(server.pid)
        outcomes = await _publish_at_rate(
            http, publish, count, arguments.rate, lambda index: f"solo {index}"
        )
        await asyncio.sleep(SETTLE_SECONDS)  # the relay publishes after the answer
        failed = [outcome for outcome in outcomes if outcome is not None]
        if failed:
            raise SystemExit(f"publishing with no subscriber failed: {failed[0]}")
        return (cpu_seconds(server.pid) - cpu_before) / count


def _client_process(
    arguments: argparse.Namespace, ws_url: str, children: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    """This script in --clients mode: N subscribers, in a process of their own."""
    config = {"subscribers": arguments.subscribers, "url": ws_url, "drain": arguments.drain}
    client = subprocess.Popen(
        [sys.executable, __file__, "--clients", json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    children.append(client)
    return client


def _hub_publisher(coalition_id: str, token: str) -> Publish:
    async def publish(http: httpx.AsyncClient, title: str) -> str | None:
        draft = {
            "coalitionId": coalition_id,
            "title": title,
            "resourceKind": "FINANCIAL",
            "amount": "25000",
            "currency": "USD",
        }
        try:
            response = await http.post(
                "/graphql",
                json={"query": PLEDGE, "variables": {"input": draft}},
                headers={"Authorization": f"Bearer {token}"},
            )
        except Exception as error:
            return repr(error)
        try:
            body = response.json()
        except ValueError:
            return f"status {response.status_code}: {response.text[:150]!r}"
        if not body.get("data"):
            return f"status {response.status_code}: {body.get('errors', body)}"
        answer = body["data"]["pledgeCommitment"]["__typename"]
        return None if answer == "Commitment" else f"pledgeCommitment answered {answer}"

    return publish


def _floor_publisher() -> Publish:
    async def publish(http: httpx.AsyncClient, title: str) -> str | None:
        # What the hub sends for this selection, built and serialised once per event.
        message = {
            "id": "feed",
            "type": "next",
            "payload": {
                "data": {
                    "coalitionFeed": {
                        "cursor": f"1-{secrets.token_hex(4)}",
                        "type": "COMMITMENT_PLEDGED",
                        "occurredAt": dt.datetime.now(dt.UTC).isoformat(),
                        "organisation": {"name": ORGANISATION},
                        "commitment": {
                            "ref": f"C-{secrets.token_hex(3).upper()}",
                            "title": title,
                            "amount": "25000",
                            "currency": "USD",
                        },
                    }
                }
            },
        }
        try:
            response = await http.post(
                "/publish", content=json.dumps(message, separators=(",", ":"))
            )
        except Exception as error:
            return repr(error)
        return None if response.status_code == 204 else f"status {response.status_code}"

    return publish


async def _seed(database_url: str) -> tuple[str, str]:
    """A coalition, an ACTIVE member organisation and its PARTNER_EDITOR token."""
    from backend import db, models
    from backend.actors import SYSTEM
    from backend.config import Settings
    from backend.graphql.relay import to_global_id
    from backend.services import coalitions, memberships, organisations, tokens

    engine = db.create_engine(Settings(database_url=database_url))
    try:
        async with db.create_session_factory(engine)() as session:
            organisation = await organisations.register(
                session,
                SYSTEM,
                draft=organisations.OrganisationDraft(
                    name=ORGANISATION, organisation_type="70", country="KE"
                ),
            )
            coalition = await coalitions.create(
                session,
                SYSTEM,
                draft=coalitions.CoalitionDraft(
                    slug="fanout-bench",
                    name="Fan-out bench",
                    kind=models.CoalitionKind.COALITION,
                    sdg_goals=["4"],
                ),
            )
            assert coalition.id is not None and organisation.id is not None
            await memberships.admit(
                session,
                SYSTEM,
                coalition_id=coalition.id,
                organisation_id=organisation.id,
                draft=memberships.MembershipDraft(),
            )
            issued = await tokens.create(
                session,
                SYSTEM,
                name="fan-out bench",
                role=models.Role.PARTNER_EDITOR,
                organisation_id=organisation.id,
            )
            await session.commit()
            return to_global_id("Coalition", coalition.id), issued.secret
    finally:
        await engine.dispose()


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)


def main() -> None:
    arguments = _arguments()
    if arguments.clients:
        _client_main(arguments.clients)
        return
    if arguments.floor_server:
        _floor_main(arguments.floor_server)
        return
    # SIGTERM unwinds like Ctrl-C: subprocesses stopped, database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from backend import migrations

    children: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="hub-fanout-") as folder:
        url: sa.URL | None = None
        if arguments.sqlite:
            database_url = f"sqlite+aiosqlite:///{folder}/hub.db"
        else:
            url = sa.make_url(arguments.database_url)
            database_url = url.render_as_string(hide_password=False)
            asyncio.run(create_database(url))
        try:
            migrations.upgrade(database_url)
            coalition_id, token = asyncio.run(_seed(database_url))
            hub = _measure_hub(arguments, database_url, coalition_id, token, folder, children)
            floor = _measure_floor(arguments, folder, children)
        finally:
            for child in children:
                stop(child)
            if url is not None:
                asyncio.run(drop_database(url))
    _report(arguments, hub, floor)


def _measure_hub(
    arguments: argparse.Namespace,
    database_url: str,
    coalition_id: str,
    token: str,
    folder: str,
    children: list[subprocess.Popen[bytes]],
) -> Run:
    port = free_port()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": database_url,
        "HUB_ENV": "production",
        "HUB_RELAY_INTERVAL": "0.2",
        # A thousand handshakes from one address, far above the per-IP limit.
        "HUB_RATE_LIMITS": "0",
    }
    env.pop("HUB_REDIS_URL", None)  # the in-process bus
    command = [str(HUB), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    publisher = _hub_publisher(coalition_id, token)
    return _measure("hub", command, env, port, publisher, arguments, folder, children)


def _measure_floor(
    arguments: argparse.Namespace, folder: str, children: list[subprocess.Popen[bytes]]
) -> Run:
    port = free_port()
    command = [sys.executable, __file__, "--floor-server", str(port)]
    publisher = _floor_publisher()
    return _measure(
        "floor", command, dict(os.environ), port, publisher, arguments, folder, children
    )


def _measure(
    name: str,
    command: list[str],
    env: dict[str, str],
    port: int,
    publisher: Publish,
    arguments: argparse.Namespace,
    folder: str,
    children: list[subprocess.Popen[bytes]],
) -> Run:
    """Starts the server, measures publishing alone, then the N subscribers; stops it."""
    log = Path(folder) / f"{name}.log"
    server = _start(command, env, log)
    children.append(server)
    base_url = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(wait_until_ready(base_url, server))
        publishing = asyncio.run(_publishing_cost(base_url, server, publisher, arguments))
        clients = _client_process(arguments, f"ws://127.0.0.1:{port}/graphql", children)
        run = asyncio.run(_run(name, base_url, server, publisher, arguments, clients))
        run.publishing_cpu = publishing
        return run
    except BaseException:
        print(log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        stop(server)


def _report(arguments: argparse.Namespace, hub: Run, floor: Run) -> None:
    print(
        f"load          {arguments.subscribers} subscribers, {arguments.rate:g} events/s for "
        f"{arguments.duration:g} s, 1 server process, {os.cpu_count()} CPUs, "
        f"{'SQLite' if arguments.sqlite else 'PostgreSQL'}"
    )
    print(
        "latency: request = pledge request sent -> event received; commit = the event's "
        "occurredAt (in the pledge's transaction) -> received; one clock"
    )
    for run in (hub, floor):
        missing = run.expected - run.received
        print(
            f"{run.name:<6} events sent {run.sent} ({run.failed} failed); deliveries "
            f"{run.received} of {run.expected} expected ({missing} missing)\n"
            f"{'':<6} commit p50 {run.pc(0.5):.0f} ms, p99 {run.pc(0.99):.0f} ms; request p50 "
            f"{run.p(0.5):.0f} ms, p99 {run.p(0.99):.0f} ms, max "
            f"{max(run.latencies_ms, default=float('nan')):.0f} ms\n"
            f"{'':<6} server CPU "
            f"{run.server_cpu:.2f} s = {run.cpu_per_message_ms * 1000:.0f} µs per delivered "
            f"message; publishing alone {run.publishing_cpu * 1000:.2f} ms per event (no "
            f"subscriber), so fan-out {run.fanout_cpu_per_message_ms * 1000:.0f} µs per message\n"
            f"{'':<6} client process CPU {run.client_cpu:.2f} s in "
            f"{run.client_seconds:.1f} s ({run.client_cpu / run.client_seconds:.0%} of a core)"
        )
        for failure in run.failures:
            print(f"{'':<6} failed publish: {failure}")
        for error in run.errors:
            print(f"{'':<6} unexpected message: {error}")
    cpu_ratio = hub.cpu_per_message_ms / floor.cpu_per_message_ms
    fanout_ratio = hub.fanout_cpu_per_message_ms / floor.fanout_cpu_per_message_ms
    print(
        f"hub/floor     commit p50 {hub.pc(0.5) / floor.pc(0.5):.1f}x, "
        f"p99 {hub.pc(0.99) / floor.pc(0.99):.1f}x; CPU per message {cpu_ratio:.1f}x "
        f"(all of the server's), {fanout_ratio:.1f}x (fan-out: less publishing)"
    )
    load = "" if (arguments.subscribers, arguments.rate) == (1000, 20) else " (at this load)"
    verdicts = [
        ("commit-to-receipt p99 <= 250 ms", hub.pc(0.99) <= 250),
        ("all server CPU within 2x of the floor", cpu_ratio <= 2),
        ("fan-out CPU within 2x of the floor", fanout_ratio <= 2),
    ]
    for goal, met in verdicts:
        print(f"goal          {goal}: {'met' if met else 'NOT met'}{load}")


if __name__ == "__main__":
    main()
