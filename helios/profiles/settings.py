"""The profile service's settings, read once from the environment at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from helios.platform.settings import Environ, env_float, env_int, env_str, redis_url


@dataclass(frozen=True)
class Settings:
    grpc_port: int = 50051
    metrics_port: int = 9101
    redis_url: str = "redis://localhost:6379/0"
    # Connections kept to Redis. A caller waits (up to the timeout below) for a free one rather
    # than opening more, so a burst cannot exhaust Redis's client limit.
    redis_max_connections: int = 64
    # Bound on connecting, on each command, and on waiting for a pooled connection: a stuck
    # Redis turns into UNAVAILABLE quickly instead of holding the bidder's deadline.
    redis_timeout_seconds: float = 1.0
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Environ) -> Settings:
        return cls(
            grpc_port=env_int(env, "HELIOS_PROFILES_GRPC_PORT", 50051, low=1, high=65535),
            metrics_port=env_int(env, "HELIOS_PROFILES_METRICS_PORT", 9101, low=0, high=65535),
            redis_url=redis_url(env),
            redis_max_connections=env_int(env, "HELIOS_PROFILES_REDIS_MAX_CONNECTIONS", 64,
                                          low=1, high=10_000),
            redis_timeout_seconds=env_float(env, "HELIOS_PROFILES_REDIS_TIMEOUT_SECONDS", 1.0,
                                            low=0.001, high=60.0),
            log_level=env_str(env, "HELIOS_LOG_LEVEL", "INFO"),
        )
