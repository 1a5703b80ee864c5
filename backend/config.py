"""Settings: the only place that reads the environment."""

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
    # How many days before a money row's value date its USD rate may be (the nearest earlier
    # published rate within the window is pinned); with none, the row stays unconverted.
    fx_rate_window_days: int = Field(default=31, ge=0)
    env: Environment = Environment.DEVELOPMENT
    # Echo SQL statements to the log (debugging only).
    echo_sql: bool = False
    # Largest `first` a connection accepts.
    max_page_size: int = Field(default=100, ge=1)
    # What one GraphQL document may ask (backend/graphql/limits.py; README "Security").
    max_depth: int = Field(default=10, ge=1)
    max_aliases: int = Field(default=15, ge=0)
    max_tokens: int = Field(default=2_000, ge=1)
    max_document_chars: int = Field(default=15_000, ge=1)
    max_body_bytes: int = Field(default=100_000, ge=1)
    max_directives: int = Field(default=50, ge=0)
    max_cost: int = Field(default=5_000, ge=1)
    # What an unpaged list counts as in an operation's cost.
    cost_list_size: int = Field(default=20, ge=1)
    # Whether anonymous and partner callers may run only the trusted documents of
    # schema/operations/ (the secretariat may always send ad-hoc documents); unset: in
    # production only.
    trusted_documents_only: bool | None = None
    # Origins whose pages may call the API (CORS) and open its websockets; `*` for any.
    # A comma-separated list in the environment: HUB_ALLOWED_ORIGINS=https://a.org,https://b.org
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
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
    # Token buckets on /graphql (backend/graphql/rate_limits.py): in Redis when redis_url
    # is set (one budget for every process), else per process. Sized for people and
    # integrations, not for load tests from one address (the test suite turns them off).
    rate_limits: bool = True
    # Requests without credentials, per client IP: a browser on the portal sends a few per
    # page; an office or a school behind one NAT address shares the budget.
    rate_limit_anonymous_per_minute: int = Field(default=300, ge=1)
    rate_limit_anonymous_burst: int = Field(default=60, ge=1)
    # Requests per credential (token or JWT), wherever they come from: an integration
    # syncing pages of commitments.
    rate_limit_principal_per_minute: int = Field(default=1200, ge=1)
    rate_limit_principal_burst: int = Field(default=200, ge=1)
    # Websocket handshakes per client IP (a minute's worth may come at once).
    rate_limit_handshakes_per_minute: int = Field(default=60, ge=1)
    # Failed authentications per client IP (401, or 4403 on a websocket) before requests
    # with credentials and handshakes from it are refused until the bucket refills.
    rate_limit_auth_failures_per_minute: int = Field(default=10, ge=1)

    # Single sign-on: the OpenID Connect issuer whose JWTs are accepted as bearer tokens,
    # exactly as its tokens' `iss` spells it. Unset: SSO is off and a JWT is refused like
    # any unknown token.
    oidc_issuer: str | None = None
    # The `aud` the hub's tokens carry (its client id at the identity provider). Required
    # with an issuer: without it a token issued for any other application of the same
    # identity provider would sign in here.
    oidc_audience: str | None = None
    # Where the issuer's signing keys are; unset: read `jwks_uri` from
    # `<issuer>/.well-known/openid-configuration`.
    oidc_jwks_url: str | None = None
    # The claim naming the organisation (its IATI identifier); left out for the secretariat.
    oidc_organisation_claim: str = "hub_organisation"
    # The claim naming the role: one of the Role names, e.g. PARTNER_EDITOR.
    oidc_role_claim: str = "hub_role"
    # The claim naming the person in audit records (`sub` when the token has none).
    oidc_name_claim: str = "email"
    # Clock skew tolerated on `exp`, `nbf` and `iat`.
    oidc_leeway_seconds: float = Field(default=30, ge=0)
    # How long the issuer's keys are kept before they are fetched again.
    oidc_jwks_cache_seconds: float = Field(default=3600, gt=0)
    # The least time between fetches of the keys for a token whose `kid` is unknown (or
    # after a failed fetch), so a flood of made-up kids cannot hammer the identity provider.
    oidc_jwks_min_refresh_seconds: float = Field(default=30, ge=0)

    @model_validator(mode="after")
    def _sso_names_its_audience(self) -> Self:
        if self.oidc_issuer and not self.oidc_audience:
            raise ValueError("HUB_OIDC_AUDIENCE is required when HUB_OIDC_ISSUER is set")
        return self

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @property
    def is_development(self) -> bool:
        return self.env is Environment.DEVELOPMENT

    @property
    def only_trusted_documents(self) -> bool:
        if self.trusted_documents_only is None:
            return not self.is_development
        return self.trusted_documents_only
