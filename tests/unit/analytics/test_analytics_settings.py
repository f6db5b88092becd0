from datetime import date

import pytest

from helios.analytics.partitions import Retention, day_of, name
from helios.analytics.settings import Settings
from helios.platform.settings import SettingsError


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.grpc_port, settings.metrics_port) == (50054, 9104)
    assert settings.database_url == "postgresql+asyncpg://helios:helios@localhost:5432/helios"
    assert settings.consumer_group == "helios-analytics"
    assert settings.topics.auction_outcomes == "auction_outcomes"
    assert (settings.batch_size, settings.batch_linger_ms) == (2000, 50)
    assert settings.retention == Retention(30)


def test_environment_overrides() -> None:
    settings = Settings.from_env({
        "HELIOS_ANALYTICS_GRPC_PORT": "6000", "HELIOS_ANALYTICS_CONSUMER_GROUP": "g",
        "HELIOS_KAFKA_TOPIC_PREFIX": "t-", "HELIOS_ANALYTICS_BATCH_SIZE": "10",
        "HELIOS_DATABASE_URL": "postgresql://u:p@db:5432/x"})
    assert (settings.grpc_port, settings.consumer_group, settings.batch_size) == (6000, "g", 10)
    assert settings.topics.auction_outcomes == "t-auction_outcomes"
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/x"


@pytest.mark.parametrize(("name", "value"), [
    ("HELIOS_ANALYTICS_GRPC_PORT", "x"), ("HELIOS_ANALYTICS_BATCH_SIZE", "0"),
    ("HELIOS_ANALYTICS_RETRY_MAX_SECONDS", "soon"), ("HELIOS_DATABASE_URL", "mysql://x"),
    ("HELIOS_ANALYTICS_CONSUMER_GROUP", " ")])
def test_a_malformed_variable_is_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_retention_keeps_whole_days_before_today() -> None:
    today = date(2026, 12, 1)
    assert Retention(30).horizon(today) == date(2026, 11, 1)
    assert not Retention(30).expired(date(2026, 11, 1), today)
    assert Retention(30).expired(date(2026, 10, 31), today)
    assert not Retention(0).expired(date(1970, 1, 1), today)
    assert name(today) == "auction_outcomes_p20261201"
    assert day_of(name(today)) == today
    assert day_of("auction_outcomes_p20261399") is None
    assert day_of("auction_outcomes_daily") is None
