"""Settings: the only place that reads the environment."""

from enum import StrEnum

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./hub.db"
    # Unset means the in-process event broker; set it to share live events between replicas.
    redis_url: str | None = None
    # Every Redis key the hub writes starts with this, so several hubs (or test runs) can
    # share one server.
    redis_prefix: str = "hub:"
    # How many feed events the bus keeps for subscribers resuming with a cursor.
    feed_retention: int = 100_000
    # Seconds between sweeps of the outbox for events whose publisher died.
    relay_interval: float = 1.0
    # Events a feed subscriber may fall behind before it is disconnected (it resumes).
    feed_queue_size: int = 1000
    # Seconds a websocket client has to send `connection_init` (close code 4408 after).
    ws_init_timeout: float = 10.0
    # Offer permessage-deflate on websockets. Off: it compresses every message once per
    # connection (its dictionary is per connection), so the feed's one text for a thousand
    # subscribers would be compressed a thousand times — measured at a third of the hub's
    # CPU per delivered message (bench/feed_fanout.py). Feed messages are ~1 KB.
    ws_compression: bool = False
    # Also speak the legacy `graphql-ws` subprotocol (subscriptions-transport-ws).
    legacy_graphql_ws: bool = False
    env: Environment = Environment.DEVELOPMENT
    # Echo SQL statements to the log (debugging only).
    echo_sql: bool = False
    # Largest `first` a connection accepts.
    max_page_size: int = 100
    # Answer the portal's trusted documents (schema/operations/) from one compiled SQL
    # statement that builds the response JSON in the database; off: every operation goes
    # through the resolvers (the reference path), as the benchmark's hub-reference does.
    compiled_reads: bool = True
    # PostgreSQL connections this process's compiled reads keep (a pool of their own):
    # about twice the database's cores. More lets more statements run at once than the
    # database has cores for; on a saturated machine that lengthens the latency tail
    # without adding throughput (bench/README.md).
    compiled_reads_connections: int = Field(default=4, ge=1)
    # Keep compiled results per (document, variables, visibility scope) until the next
    # committed write or the next embargo end; in Redis when redis_url is set.
    read_cache: bool = True
    # Entries the in-process read cache keeps (least recently used leave first).
    read_cache_size: int = 1000

    @property
    def is_development(self) -> bool:
        return self.env is Environment.DEVELOPMENT
