from pathlib import Path
from typing import Any

import pytest
import yaml

from backend.config import Environment, Settings

ROOT = Path(__file__).parents[1]


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_compose_runs_two_app_replicas_behind_one_proxy() -> None:
    services = _compose()["services"]

    assert set(services) == {"postgres", "redis", "app", "proxy"}
    assert services["app"]["deploy"]["replicas"] == 2
    assert services["app"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert "healthcheck" in services["postgres"]
    assert "healthcheck" in services["redis"]
    assert services["proxy"]["ports"] == ["8000:8000"]


def test_the_proxy_config_exists_and_passes_websocket_upgrades() -> None:
    volume = _compose()["services"]["proxy"]["volumes"][0]
    source = volume.split(":")[0]

    config = (ROOT / source).read_text()

    assert "proxy_set_header Upgrade $http_upgrade;" in config
    assert "proxy_set_header Connection $connection_upgrade;" in config


def test_app_environment_configures_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = _compose()["services"]["app"]["environment"]
    hub_names = {name for name in environment if name.startswith("HUB_")}
    for name, value in environment.items():
        monkeypatch.setenv(name, str(value))

    settings = Settings()

    assert hub_names >= {"HUB_DATABASE_URL", "HUB_REDIS_URL", "HUB_ENV"}
    assert {name.removeprefix("HUB_").lower() for name in hub_names} <= set(Settings.model_fields)
    assert settings.database_url == "postgresql+asyncpg://postgres:postgres@postgres:5432/hub"
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.env is Environment.PRODUCTION
