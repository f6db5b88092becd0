"""Reading typed settings from environment variables.

Each service has one frozen settings dataclass with a ``from_env`` constructor built from these
readers. A missing or malformed variable raises :class:`SettingsError` naming it, at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

Environ = Mapping[str, str]


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the environment variable."""


def env_str(env: Environ, name: str, default: str) -> str:
    value = env.get(name, default).strip()
    if not value:
        raise SettingsError(f"{name} must not be empty")
    return value


def env_int(env: Environ, name: str, default: int, *, low: int | None = None,
            high: int | None = None) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    _check_range(name, value, low, high)
    return value


def env_float(env: Environ, name: str, default: float, *, low: float | None = None,
              high: float | None = None) -> float:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    _check_range(name, value, low, high)
    return value


def env_bool(env: Environ, name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def env_choice(env: Environ, name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(env, name, default)
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def process_env() -> Environ:
    return os.environ


def _check_range(name: str, value: float, low: float | None, high: float | None) -> None:
    if low is not None and value < low:
        raise SettingsError(f"{name} must be at least {low}, got {value}")
    if high is not None and value > high:
        raise SettingsError(f"{name} must be at most {high}, got {value}")


# Infrastructure endpoints, shared by every service that uses them. Each defaults to the server
# the project's own scripts start locally.
def kafka_bootstrap(env: Environ) -> str:
    return env_str(env, "HELIOS_KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")


def redis_url(env: Environ) -> str:
    return env_str(env, "HELIOS_REDIS_URL", "redis://localhost:6379/0")


def libpq_url(url: str) -> str:
    """A database URL as libpq and asyncpg take it: ``postgresql://``, without SQLAlchemy's
    driver name."""
    return "postgresql://" + url.split("://", 1)[1]


def database_url(env: Environ) -> str:
    url = env_str(env, "HELIOS_DATABASE_URL", "postgresql+asyncpg://helios:helios@localhost:5432/helios")
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    if not url.startswith("postgresql+asyncpg://"):
        raise SettingsError(f"HELIOS_DATABASE_URL must be a postgresql:// URL, got {url!r}")
    return url
