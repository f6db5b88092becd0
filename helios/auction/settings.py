"""The auction service's settings, read once from the environment at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from helios.platform.kafka import Topics
from helios.platform.settings import (
    Environ,
    SettingsError,
    env_choice,
    env_float,
    env_int,
    env_str,
    kafka_bootstrap,
)

FIRST_PRICE = "first_price"
SECOND_PRICE = "second_price"
UNIFORM = "uniform"
LOGNORMAL = "lognormal"


@dataclass(frozen=True)
class RuleSettings:
    """What :func:`helios.auction.rules.decide` needs; no I/O settings, so tests build it
    directly."""

    mode: str = FIRST_PRICE
    # first_price: a bid below this loses; at or above it wins with ``win_probability``.
    min_bid: float = 0.30
    win_probability: float = 0.70
    # Mixed into every decision's hash, so two deployments (or two test runs) can differ while
    # each stays reproducible.
    seed: str = "helios"
    # second_price: the reserve price and the simulated competing bid.
    floor: float = 0.30
    competitor_distribution: str = UNIFORM
    competitor_low: float = 0.10
    competitor_high: float = 1.20
    # lognormal: ln(price) ~ Normal(mu, sigma); the defaults put the median near 0.60.
    competitor_mu: float = -0.5
    competitor_sigma: float = 0.5

    def __post_init__(self) -> None:
        if self.competitor_high < self.competitor_low:
            raise SettingsError("HELIOS_AUCTION_COMPETITOR_HIGH must be at least "
                                "HELIOS_AUCTION_COMPETITOR_LOW")
        if len(self.seed.encode()) > 64:
            # The seed is the BLAKE2b key, which is at most 64 bytes.
            raise SettingsError("HELIOS_AUCTION_SEED must be at most 64 bytes")

    @classmethod
    def from_env(cls, env: Environ) -> RuleSettings:
        return cls(
            mode=env_choice(env, "HELIOS_AUCTION_MODE", FIRST_PRICE, (FIRST_PRICE, SECOND_PRICE)),
            min_bid=env_float(env, "HELIOS_AUCTION_MIN_BID", 0.30, low=0.0),
            win_probability=env_float(env, "HELIOS_AUCTION_WIN_PROBABILITY", 0.70,
                                      low=0.0, high=1.0),
            seed=env_str(env, "HELIOS_AUCTION_SEED", "helios"),
            floor=env_float(env, "HELIOS_AUCTION_FLOOR", 0.30, low=0.0),
            competitor_distribution=env_choice(env, "HELIOS_AUCTION_COMPETITOR_DISTRIBUTION",
                                               UNIFORM, (UNIFORM, LOGNORMAL)),
            competitor_low=env_float(env, "HELIOS_AUCTION_COMPETITOR_LOW", 0.10, low=0.0),
            competitor_high=env_float(env, "HELIOS_AUCTION_COMPETITOR_HIGH", 1.20, low=0.0),
            competitor_mu=env_float(env, "HELIOS_AUCTION_COMPETITOR_MU", -0.5),
            competitor_sigma=env_float(env, "HELIOS_AUCTION_COMPETITOR_SIGMA", 0.5, low=0.0),
        )


@dataclass(frozen=True)
class Settings:
    grpc_port: int
    metrics_port: int
    kafka_bootstrap: str
    topics: Topics
    group_id: str
    rules: RuleSettings
    # Messages taken from Kafka per batch; one broker acknowledgement wait and one offset
    # commit per batch, so larger batches amortise both.
    batch_size: int = 2000
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Environ) -> Settings:
        return cls(
            grpc_port=env_int(env, "HELIOS_AUCTION_GRPC_PORT", 50053, low=1, high=65535),
            metrics_port=env_int(env, "HELIOS_AUCTION_METRICS_PORT", 9103, low=0, high=65535),
            kafka_bootstrap=kafka_bootstrap(env),
            topics=Topics.from_env(env),
            group_id=env_str(env, "HELIOS_AUCTION_GROUP_ID", "helios-auction"),
            rules=RuleSettings.from_env(env),
            batch_size=env_int(env, "HELIOS_AUCTION_BATCH_SIZE", 2000, low=1, high=100_000),
            log_level=env_str(env, "HELIOS_LOG_LEVEL", "INFO"),
        )
