import pytest

from helios.platform.settings import SettingsError
from helios.profiles.settings import Settings


def test_defaults_are_the_documented_ones() -> None:
    settings = Settings.from_env({})
    assert (settings.grpc_port, settings.metrics_port, settings.redis_url) == (
        50051, 9101, "redis://localhost:6379/0")
    assert settings.log_level == "INFO"


def test_each_setting_comes_from_its_variable() -> None:
    settings = Settings.from_env({
        "HELIOS_PROFILES_GRPC_PORT": "6000", "HELIOS_PROFILES_METRICS_PORT": "0",
        "HELIOS_REDIS_URL": "redis://cache:6380/2", "HELIOS_PROFILES_REDIS_MAX_CONNECTIONS": "8",
        "HELIOS_PROFILES_REDIS_TIMEOUT_SECONDS": "0.25", "HELIOS_LOG_LEVEL": "DEBUG"})
    assert settings == Settings(6000, 0, "redis://cache:6380/2", 8, 0.25, "DEBUG")


@pytest.mark.parametrize(("env", "message"), [
    ({"HELIOS_PROFILES_GRPC_PORT": "x"}, "HELIOS_PROFILES_GRPC_PORT must be an integer, got 'x'"),
    ({"HELIOS_PROFILES_GRPC_PORT": "0"}, "HELIOS_PROFILES_GRPC_PORT must be at least 1, got 0"),
    ({"HELIOS_REDIS_URL": " "}, "HELIOS_REDIS_URL must not be empty"),
    ({"HELIOS_PROFILES_REDIS_TIMEOUT_SECONDS": "0"},
     "HELIOS_PROFILES_REDIS_TIMEOUT_SECONDS must be at least 0.001, got 0.0"),
])
def test_a_malformed_variable_is_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as exc:
        Settings.from_env(env)
    assert str(exc.value) == message
