"""The auction's settings: documented defaults, and start-up failures that name the variable."""

from __future__ import annotations

import pytest

from helios.auction.settings import LOGNORMAL, SECOND_PRICE, Settings
from helios.platform.settings import SettingsError


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.grpc_port, settings.metrics_port) == (50053, 9103)
    assert settings.group_id == "helios-auction"
    assert settings.kafka_bootstrap == "localhost:9092"
    assert settings.topics.bid_responses == "bid_responses"
    rules = settings.rules
    assert (rules.mode, rules.min_bid, rules.win_probability) == ("first_price", 0.30, 0.70)


def test_values_from_the_environment() -> None:
    settings = Settings.from_env({
        "HELIOS_KAFKA_TOPIC_PREFIX": "t-", "HELIOS_AUCTION_MODE": "second_price",
        "HELIOS_AUCTION_FLOOR": "0.5", "HELIOS_AUCTION_COMPETITOR_DISTRIBUTION": "lognormal",
        "HELIOS_AUCTION_COMPETITOR_SIGMA": "0.3", "HELIOS_AUCTION_SEED": "s1",
        "HELIOS_AUCTION_GROUP_ID": "g", "HELIOS_AUCTION_BATCH_SIZE": "10"})
    assert settings.topics.bid_responses_dlq == "t-bid_responses.dlq"
    assert (settings.group_id, settings.batch_size) == ("g", 10)
    rules = settings.rules
    assert (rules.mode, rules.floor, rules.competitor_distribution) == (SECOND_PRICE, 0.5,
                                                                         LOGNORMAL)
    assert (rules.competitor_sigma, rules.seed) == (0.3, "s1")


@pytest.mark.parametrize(("env", "name"), [
    ({"HELIOS_AUCTION_MODE": "vickrey"}, "HELIOS_AUCTION_MODE"),
    ({"HELIOS_AUCTION_WIN_PROBABILITY": "1.5"}, "HELIOS_AUCTION_WIN_PROBABILITY"),
    ({"HELIOS_AUCTION_MIN_BID": "cheap"}, "HELIOS_AUCTION_MIN_BID"),
    ({"HELIOS_AUCTION_COMPETITOR_LOW": "2"}, "HELIOS_AUCTION_COMPETITOR_HIGH"),
    ({"HELIOS_AUCTION_SEED": "x" * 65}, "HELIOS_AUCTION_SEED"),
    ({"HELIOS_AUCTION_GRPC_PORT": "0"}, "HELIOS_AUCTION_GRPC_PORT"),
])
def test_malformed_settings_name_the_variable(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env)
