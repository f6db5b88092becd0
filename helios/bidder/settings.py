"""The bidder's settings, read once from the environment at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from helios.platform.kafka import Topics
from helios.platform.settings import Environ, env_float, env_int, env_str, kafka_bootstrap


@dataclass(frozen=True)
class BreakerSettings:
    """When the circuit to the profile service opens, and how long it stays open."""

    # Consecutive failed lookups (errors or timeouts) that open the circuit.
    failure_threshold: int = 5
    # How long an open circuit answers "unavailable" at once before letting one trial through.
    reset_seconds: float = 2.0


@dataclass(frozen=True)
class Settings:
    grpc_port: int = 50052
    metrics_port: int = 9102
    profiles_target: str = "localhost:50051"
    # The profile lookup's deadline when the request has no smaller tmax.
    profile_deadline_seconds: float = 0.050
    # Kept back from tmax (and from the caller's gRPC deadline) for pricing and publishing.
    deadline_margin_seconds: float = 0.005
    # Users carried by one BatchGetProfiles at most (the profile service accepts 1000).
    batch_max: int = 256
    # BatchGetProfiles calls in flight at once. Lookups arriving meanwhile wait for the next
    # one, which is what makes batches form under load: one call and one Redis round trip
    # for many bids instead of one each.
    max_in_flight: int = 1
    batch_interval_seconds: float = 0.005
    breaker: BreakerSettings = field(default_factory=BreakerSettings)
    kafka_bootstrap: str = "localhost:9092"
    topics: Topics = field(default_factory=Topics)
    # How long a bid waits for the broker's acknowledgement before failing with UNAVAILABLE.
    publish_timeout_seconds: float = 1.0
    # How long librdkafka waits for more bids to share a produce request. Every bid waits this
    # long for its acknowledgement; a longer wait means fewer, larger requests (less CPU in the
    # bidder and the broker per bid).
    kafka_linger_ms: float = 1.0
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Environ) -> Settings:
        return cls(
            grpc_port=env_int(env, "HELIOS_BIDDER_GRPC_PORT", 50052, low=1, high=65535),
            metrics_port=env_int(env, "HELIOS_BIDDER_METRICS_PORT", 9102, low=0, high=65535),
            profiles_target=env_str(env, "HELIOS_BIDDER_PROFILES_TARGET", "localhost:50051"),
            profile_deadline_seconds=env_int(env, "HELIOS_BIDDER_PROFILE_DEADLINE_MS", 50,
                                             low=1, high=10_000) / 1000,
            deadline_margin_seconds=env_int(env, "HELIOS_BIDDER_DEADLINE_MARGIN_MS", 5,
                                            low=0, high=1000) / 1000,
            batch_max=env_int(env, "HELIOS_BIDDER_BATCH_MAX", 256, low=1, high=1000),
            max_in_flight=env_int(env, "HELIOS_BIDDER_MAX_IN_FLIGHT", 1, low=1, high=64),
            batch_interval_seconds=env_float(env, "HELIOS_BIDDER_BATCH_INTERVAL_MS", 5.0,
                                             low=0, high=50) / 1000,
            breaker=BreakerSettings(
                failure_threshold=env_int(env, "HELIOS_BIDDER_BREAKER_FAILURES", 5,
                                          low=1, high=10_000),
                reset_seconds=env_int(env, "HELIOS_BIDDER_BREAKER_RESET_MS", 2000,
                                      low=1, high=3_600_000) / 1000,
            ),
            kafka_bootstrap=kafka_bootstrap(env),
            topics=Topics.from_env(env),
            publish_timeout_seconds=env_int(env, "HELIOS_BIDDER_PUBLISH_TIMEOUT_MS", 1000,
                                            low=10, high=60_000) / 1000,
            kafka_linger_ms=env_float(env, "HELIOS_BIDDER_KAFKA_LINGER_MS", 1.0, low=0, high=100),
            log_level=env_str(env, "HELIOS_LOG_LEVEL", "INFO"),
        )
