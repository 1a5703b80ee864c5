"""Settings: the only place that reads the environment."""

from enum import StrEnum

from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./hub.db"
    # Unset means the in-process event broker; set it to share live events between replicas.
    redis_url: str | None = None
    env: Environment = Environment.DEVELOPMENT
    # Echo SQL statements to the log (debugging only).
    echo_sql: bool = False
    # Largest `first` a connection accepts.
    max_page_size: int = 100

    @property
    def is_development(self) -> bool:
        return self.env is Environment.DEVELOPMENT
