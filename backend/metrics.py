"""Prometheus metrics at /metrics, in the text exposition format."""

from dataclasses import dataclass

from backend.db import SessionFactory
from backend.services import outbox
from events.fanout import FanOut


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str
    help: str
    value: float


async def collect(session_factory: SessionFactory, fanout: FanOut, relay: outbox.Relay) -> str:
    async with session_factory() as session:
        lag = await outbox.lag(session)
    metrics = [
        Metric(
            "hub_feed_subscribers",
            "gauge",
            "Feed subscriptions open in this process.",
            fanout.subscribers,
        ),
        Metric(
            "hub_feed_events_received_total",
            "counter",
            "Feed events this process read from the bus.",
            fanout.received,
        ),
        Metric(
            "hub_feed_subscribers_dropped_total",
            "counter",
            "Subscriptions closed because they fell too far behind.",
            fanout.dropped,
        ),
        Metric(
            "hub_outbox_events_published_total",
            "counter",
            "Feed events this process's relay published to the bus.",
            relay.published,
        ),
        Metric(
            "hub_outbox_lag_seconds",
            "gauge",
            "Age of the oldest committed feed event not yet published (0 when none).",
            lag.total_seconds() if lag else 0.0,
        ),
    ]
    lines = []
    for metric in metrics:
        lines += [
            f"# HELP {metric.name} {metric.help}",
            f"# TYPE {metric.name} {metric.kind}",
            f"{metric.name} {metric.value:g}",
        ]
    return "\n".join(lines) + "\n"
