"""The analytics service's settings, read once from the environment at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from helios.platform import settings as env
from helios.platform.kafka import Topics


@dataclass(frozen=True)
class Settings:
    grpc_port: int
    metrics_port: int
    database_url: str
    kafka_bootstrap: str
    topics: Topics
    consumer_group: str
    # A batch is written when it holds batch_size messages or batch_linger_ms has passed since
    # its first one: large batches are what make one INSERT per batch fast.
    batch_size: int
    batch_linger_ms: int
    # Retry back-off while PostgreSQL is unreachable; the same batch is retried until it lands.
    retry_initial_seconds: float
    retry_max_seconds: float
    db_pool_size: int
    log_level: str

    @classmethod
    def from_env(cls, environ: env.Environ) -> Settings:
        return cls(
            grpc_port=env.env_int(environ, "HELIOS_ANALYTICS_GRPC_PORT", 50054, low=0, high=65535),
            metrics_port=env.env_int(environ, "HELIOS_ANALYTICS_METRICS_PORT", 9104, low=0,
                                     high=65535),
            database_url=env.database_url(environ),
            kafka_bootstrap=env.kafka_bootstrap(environ),
            topics=Topics.from_env(environ),
            consumer_group=env.env_str(environ, "HELIOS_ANALYTICS_CONSUMER_GROUP",
                                       "helios-analytics"),
            batch_size=env.env_int(environ, "HELIOS_ANALYTICS_BATCH_SIZE", 2000, low=1,
                                   high=100_000),
            batch_linger_ms=env.env_int(environ, "HELIOS_ANALYTICS_BATCH_LINGER_MS", 50, low=0,
                                        high=60_000),
            retry_initial_seconds=env.env_float(environ, "HELIOS_ANALYTICS_RETRY_INITIAL_SECONDS",
                                                0.2, low=0.001),
            retry_max_seconds=env.env_float(environ, "HELIOS_ANALYTICS_RETRY_MAX_SECONDS", 5.0,
                                            low=0.001),
            db_pool_size=env.env_int(environ, "HELIOS_ANALYTICS_DB_POOL_SIZE", 5, low=1,
                                     high=100),
            log_level=env.env_str(environ, "HELIOS_LOG_LEVEL", "INFO"),
        )
