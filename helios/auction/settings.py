"""The auction service's settings, read once from the environment at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from helios.platform import settings
from helios.platform.kafka import Topics
from helios.platform.settings import (
    KAFKA_BOOTSTRAP,
    LOG_LEVEL,
    Environ,
    SettingsError,
    Variable,
    grpc_port,
    metrics_port,
    nested,
)

FIRST_PRICE = "first_price"
SECOND_PRICE = "second_price"
UNIFORM = "uniform"
LOGNORMAL = "lognormal"


GRPC_PORT = grpc_port("auction", 50053)


@dataclass(frozen=True)
class RuleSettings:
    """What :class:`helios.auction.rules.Rules` needs; no I/O settings, so tests build it
    directly."""

    mode: str = Variable("HELIOS_AUCTION_MODE", FIRST_PRICE,
                         "auction: first_price (the original rule) or second_price",
                         choices=(FIRST_PRICE, SECOND_PRICE)).field()
    min_bid: float = Variable("HELIOS_AUCTION_MIN_BID", 0.30,
                              "auction, first_price: a bid below it loses", low=0.0).field()
    win_probability: float = Variable(
        "HELIOS_AUCTION_WIN_PROBABILITY", 0.70,
        "auction, first_price: chance that a bid at or above the minimum wins",
        low=0.0, high=1.0).field()
    # Mixed into every decision's hash, so two deployments (or two test runs) can differ while
    # each stays reproducible.
    seed: str = Variable("HELIOS_AUCTION_SEED", "helios",
                         "auction: mixed into every decision (at most 64 bytes)").field()
    floor: float = Variable("HELIOS_AUCTION_FLOOR", 0.30,
                            "auction, second_price: reserve price", low=0.0).field()
    competitor_distribution: str = Variable(
        "HELIOS_AUCTION_COMPETITOR_DISTRIBUTION", UNIFORM,
        "auction, second_price: the competing bid's distribution",
        choices=(UNIFORM, LOGNORMAL)).field()
    competitor_low: float = Variable("HELIOS_AUCTION_COMPETITOR_LOW", 0.10,
                                     "auction, uniform: lowest competing bid", low=0.0).field()
    competitor_high: float = Variable("HELIOS_AUCTION_COMPETITOR_HIGH", 1.20,
                                      "auction, uniform: highest competing bid", low=0.0).field()
    # lognormal: ln(price) ~ Normal(mu, sigma); the defaults put the median near 0.60.
    competitor_mu: float = Variable("HELIOS_AUCTION_COMPETITOR_MU", -0.5,
                                    "auction, lognormal: mu of ln(competing bid)").field()
    competitor_sigma: float = Variable("HELIOS_AUCTION_COMPETITOR_SIGMA", 0.5,
                                       "auction, lognormal: sigma of ln(competing bid)",
                                       low=0.0).field()

    def __post_init__(self) -> None:
        if self.competitor_high < self.competitor_low:
            raise SettingsError("HELIOS_AUCTION_COMPETITOR_HIGH must be at least "
                                "HELIOS_AUCTION_COMPETITOR_LOW")
        if len(self.seed.encode()) > 64:
            # The seed is the BLAKE2b key, which is at most 64 bytes.
            raise SettingsError("HELIOS_AUCTION_SEED must be at most 64 bytes")

    @classmethod
    def from_env(cls, env: Environ) -> RuleSettings:
        return settings.from_env(cls, env)


@dataclass(frozen=True)
class Settings:
    grpc_port: int = GRPC_PORT.field()
    metrics_port: int = metrics_port("auction", 9103).field()
    kafka_bootstrap: str = KAFKA_BOOTSTRAP.field()
    topics: Topics = nested(Topics.from_env, Topics)
    group_id: str = Variable("HELIOS_AUCTION_GROUP_ID", "helios-auction",
                             "auction: consumer group").field()
    rules: RuleSettings = nested(RuleSettings.from_env, RuleSettings)
    # One broker acknowledgement wait and one offset commit per batch, so larger batches
    # amortise both.
    batch_size: int = Variable("HELIOS_AUCTION_BATCH_SIZE", 2000,
                               "auction: bids taken from Kafka per batch at most",
                               low=1, high=100_000).field()
    batch_linger_ms: int = Variable(
        "HELIOS_AUCTION_BATCH_LINGER_MS", 5,
        "auction: how long a batch waits for more bids after its first", low=0,
        high=60_000, unit="ms").field()
    retry_initial_seconds: float = Variable(
        "HELIOS_AUCTION_RETRY_INITIAL_SECONDS", 0.2,
        "auction: first wait before a batch Kafka did not acknowledge is handled again",
        low=0.001, unit="s").field()
    retry_max_seconds: float = Variable(
        "HELIOS_AUCTION_RETRY_MAX_SECONDS", 5.0, "auction: longest wait between those retries",
        low=0.001, unit="s").field()
    log_level: str = LOG_LEVEL.field()

    @classmethod
    def from_env(cls, env: Environ) -> Settings:
        return settings.from_env(cls, env)
