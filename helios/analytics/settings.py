"""The analytics service's settings, read once from the environment at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from helios.analytics.partitions import Retention
from helios.platform import settings
from helios.platform.kafka import Topics
from helios.platform.settings import (
    DATABASE_URL,
    KAFKA_BOOTSTRAP,
    LOG_LEVEL,
    Environ,
    Variable,
    grpc_port,
    metrics_port,
    nested,
)

GRPC_PORT = grpc_port("analytics", 50054)


@dataclass(frozen=True)
class Settings:
    grpc_port: int = GRPC_PORT.field()
    metrics_port: int = metrics_port("analytics", 9104).field()
    database_url: str = DATABASE_URL.field()
    kafka_bootstrap: str = KAFKA_BOOTSTRAP.field()
    topics: Topics = nested(Topics.from_env, Topics)
    consumer_group: str = Variable("HELIOS_ANALYTICS_CONSUMER_GROUP", "helios-analytics",
                                   "analytics: consumer group of the ingest").field()
    # Large batches are what make one INSERT per batch fast.
    batch_size: int = Variable("HELIOS_ANALYTICS_BATCH_SIZE", 2000,
                               "analytics: outcomes written per batch at most",
                               low=1, high=100_000).field()
    batch_linger_ms: int = Variable(
        "HELIOS_ANALYTICS_BATCH_LINGER_MS", 50,
        "analytics: how long a batch waits for more outcomes after its first",
        low=0, high=60_000, unit="ms").field()
    # While PostgreSQL is unreachable the same batch is retried until it lands.
    retry_initial_seconds: float = Variable(
        "HELIOS_ANALYTICS_RETRY_INITIAL_SECONDS", 0.2,
        "analytics: first wait before a failed batch write is retried", low=0.001,
        unit="s").field()
    retry_max_seconds: float = Variable(
        "HELIOS_ANALYTICS_RETRY_MAX_SECONDS", 5.0, "analytics: longest wait between retries",
        low=0.001, unit="s").field()
    db_pool_size: int = Variable("HELIOS_ANALYTICS_DB_POOL_SIZE", 5,
                                 "analytics: PostgreSQL connections kept", low=1,
                                 high=100).field()
    # Raw outcomes are kept this many whole UTC days before today, then their day's partition
    # is dropped; the daily rollup keeps every day.
    retention_days: int = Variable(
        "HELIOS_ANALYTICS_RETENTION_DAYS", 30,
        "analytics: whole days of raw outcomes kept before today; 0 keeps them all",
        low=0, high=100_000, unit="days").field()
    log_level: str = LOG_LEVEL.field()

    @property
    def retention(self) -> Retention:
        return Retention(self.retention_days)

    @classmethod
    def from_env(cls, env: Environ) -> Settings:
        return settings.from_env(cls, env)
