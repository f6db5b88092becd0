"""The bidder's settings, read once from the environment at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from helios.platform import settings
from helios.platform.kafka import Topics
from helios.platform.settings import (
    KAFKA_BOOTSTRAP,
    LOG_LEVEL,
    Environ,
    Variable,
    grpc_port,
    metrics_port,
    nested,
)
from helios.profiles import settings as profiles

GRPC_PORT = grpc_port("bidder", 50052)


@dataclass(frozen=True)
class BreakerSettings:
    """When the circuit to the profile service opens, and how long it stays open."""

    failure_threshold: int = Variable(
        "HELIOS_BIDDER_BREAKER_FAILURES", 5,
        "bidder: consecutive failed profile calls (errors or timeouts) that open the circuit",
        low=1, high=10_000).field()
    reset_seconds: float = Variable(
        "HELIOS_BIDDER_BREAKER_RESET_MS", 2.0,
        "bidder: how long an open circuit answers unavailable before one trial call",
        low=1, high=3_600_000, per=1000, unit="ms").field()

    @classmethod
    def from_env(cls, env: Environ) -> BreakerSettings:
        return settings.from_env(cls, env)


@dataclass(frozen=True)
class Settings:
    grpc_port: int = GRPC_PORT.field()
    metrics_port: int = metrics_port("bidder", 9102).field()
    profiles_target: str = Variable(
        "HELIOS_BIDDER_PROFILES_TARGET", f"localhost:{profiles.GRPC_PORT.default}",
        "bidder: the profile service, host:port").field()
    profile_deadline_seconds: float = Variable(
        "HELIOS_BIDDER_PROFILE_DEADLINE_MS", 0.050,
        "bidder: the profile lookup's deadline when the request has no smaller tmax",
        low=1, high=10_000, per=1000, unit="ms").field()
    deadline_margin_seconds: float = Variable(
        "HELIOS_BIDDER_DEADLINE_MARGIN_MS", 0.005,
        "bidder: kept back from tmax and the caller's deadline for pricing and publishing",
        low=0, high=1000, per=1000, unit="ms").field()
    batch_max: int = Variable(
        "HELIOS_BIDDER_BATCH_MAX", 256,
        "bidder: users carried by one BatchGetProfiles at most (the service takes 1000)",
        low=1, high=1000).field()
    # Lookups arriving while the calls in flight are out wait for one to return and then go
    # together, which is what makes batches form under load: one call and one Redis round trip
    # for many bids, with no timer.
    max_in_flight: int = Variable(
        "HELIOS_BIDDER_MAX_IN_FLIGHT", 1, "bidder: BatchGetProfiles calls in flight at once",
        low=1, high=64).field()
    # About 450 bytes an entry (measured with the demo profiles): the default is ~90 MB.
    cache_entries: int = Variable(
        "HELIOS_BIDDER_CACHE_ENTRIES", 200_000,
        "bidder: lookups (profiles and no-profile answers) kept in the near cache, invalidated "
        "by the profile service's WatchProfiles stream; 0 turns the cache off",
        low=0, high=10_000_000).field()
    breaker: BreakerSettings = nested(BreakerSettings.from_env, BreakerSettings)
    kafka_bootstrap: str = KAFKA_BOOTSTRAP.field()
    topics: Topics = nested(Topics.from_env, Topics)
    publish_timeout_seconds: float = Variable(
        "HELIOS_BIDDER_PUBLISH_TIMEOUT_MS", 1.0,
        "bidder: how long a bid waits for Kafka's acknowledgement before UNAVAILABLE",
        low=10, high=60_000, per=1000, unit="ms").field()
    # Every bid waits this long before its produce request leaves. 0: at once, and under load
    # bids still share requests (those queued while librdkafka's in-flight requests are out).
    # Measured at 500 bids/s: 1 ms cost each bid 1.2-1.4 ms more in publish and saved the
    # broker 7 % CPU (docs/bidder.md#kafka).
    kafka_linger_ms: float = Variable(
        "HELIOS_BIDDER_KAFKA_LINGER_MS", 0.0,
        "bidder: how long librdkafka waits for more bids to share a produce request",
        low=0, high=100, unit="ms").field()
    log_level: str = LOG_LEVEL.field()

    @classmethod
    def from_env(cls, env: Environ) -> Settings:
        return settings.from_env(cls, env)
