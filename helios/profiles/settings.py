"""The profile service's settings, read once from the environment at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from helios.platform import settings
from helios.platform.settings import (
    LOG_LEVEL,
    REDIS_URL,
    Environ,
    Variable,
    grpc_port,
    metrics_port,
)

GRPC_PORT = grpc_port("profiles", 50051)


@dataclass(frozen=True)
class Settings:
    grpc_port: int = GRPC_PORT.field()
    metrics_port: int = metrics_port("profiles", 9101).field()
    redis_url: str = REDIS_URL.field()
    # A caller waits (up to the timeout below) for a free connection rather than opening
    # more, so a burst cannot exhaust Redis's client limit.
    redis_max_connections: int = Variable(
        "HELIOS_PROFILES_REDIS_MAX_CONNECTIONS", 64, "profiles: connections kept to Redis",
        low=1, high=10_000).field()
    # A stuck Redis turns into UNAVAILABLE quickly instead of holding the bidder's deadline.
    redis_timeout_seconds: float = Variable(
        "HELIOS_PROFILES_REDIS_TIMEOUT_SECONDS", 1.0,
        "profiles: bound on connecting, on each command and on waiting for a connection",
        low=0.001, high=60.0, unit="s").field()
    log_level: str = LOG_LEVEL.field()

    @classmethod
    def from_env(cls, env: Environ) -> Settings:
        return settings.from_env(cls, env)
