from __future__ import annotations

import pytest

from helios.bidder.settings import BreakerSettings, Settings
from helios.platform.kafka import Topics
from helios.platform.settings import SettingsError


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert (settings.grpc_port, settings.metrics_port, settings.profiles_target) == (
        50052, 9102, "localhost:50051")
    assert settings.profile_deadline_seconds == 0.05
    assert settings.publish_timeout_seconds == 1.0
    assert settings.batch_max == 256
    assert settings.topics.bid_responses == "bid_responses"


def test_every_variable_is_read() -> None:
    settings = Settings.from_env({
        "HELIOS_BIDDER_GRPC_PORT": "6000", "HELIOS_BIDDER_METRICS_PORT": "0",
        "HELIOS_BIDDER_PROFILES_TARGET": "profiles:7000",
        "HELIOS_BIDDER_PROFILE_DEADLINE_MS": "30", "HELIOS_BIDDER_DEADLINE_MARGIN_MS": "2",
        "HELIOS_BIDDER_BATCH_MAX": "64", "HELIOS_BIDDER_MAX_IN_FLIGHT": "2",
        "HELIOS_BIDDER_BREAKER_FAILURES": "9", "HELIOS_BIDDER_BREAKER_RESET_MS": "500",
        "HELIOS_KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "HELIOS_KAFKA_TOPIC_PREFIX": "x-",
        "HELIOS_BIDDER_PUBLISH_TIMEOUT_MS": "250", "HELIOS_LOG_LEVEL": "DEBUG",
        "HELIOS_BIDDER_KAFKA_LINGER_MS": "2",
    })
    assert settings == Settings(
        grpc_port=6000, metrics_port=0, profiles_target="profiles:7000",
        profile_deadline_seconds=0.03, deadline_margin_seconds=0.002, batch_max=64,
        max_in_flight=2, breaker=BreakerSettings(9, 0.5), kafka_bootstrap="kafka:9092",
        topics=Topics.from_env({"HELIOS_KAFKA_TOPIC_PREFIX": "x-"}),
        publish_timeout_seconds=0.25, log_level="DEBUG", kafka_linger_ms=2.0)


def test_the_batch_interval_is_gone() -> None:
    # Profile calls are no longer spaced by a timer; a deployment still setting the old variable
    # gets the defaults, not an error.
    assert Settings.from_env({"HELIOS_BIDDER_BATCH_INTERVAL_MS": "5"}) == Settings()
    assert not hasattr(Settings(), "batch_interval_seconds")


@pytest.mark.parametrize(("name", "value"), [
    ("HELIOS_BIDDER_GRPC_PORT", "http"), ("HELIOS_BIDDER_PROFILE_DEADLINE_MS", "0"),
    ("HELIOS_BIDDER_BATCH_MAX", "1001"), ("HELIOS_BIDDER_PROFILES_TARGET", " "),
    ("HELIOS_BIDDER_KAFKA_LINGER_MS", "-1"),
])
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
