import pytest

from helios.platform.settings import (
    SettingsError,
    database_url,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_str,
)


def test_defaults_apply_when_unset() -> None:
    assert env_int({}, "X", 7) == 7
    assert env_float({}, "X", 0.5) == 0.5
    assert env_bool({}, "X", True) is True
    assert env_str({}, "X", "d") == "d"


def test_values_are_parsed() -> None:
    env = {"N": " 42 ", "F": "0.25", "B": "off", "C": "second_price"}
    assert env_int(env, "N", 0) == 42
    assert env_float(env, "F", 0.0) == 0.25
    assert env_bool(env, "B", True) is False
    assert env_choice(env, "C", "first_price", ("first_price", "second_price")) == "second_price"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: env_int({"PORT": "http"}, "PORT", 1), "PORT must be an integer, got 'http'"),
        (lambda: env_int({"PORT": "70000"}, "PORT", 1, high=65535), "PORT must be at most 65535"),
        (lambda: env_float({"P": "x"}, "P", 0.0), "P must be a number, got 'x'"),
        (lambda: env_float({"P": "-1"}, "P", 0.0, low=0), "P must be at least 0"),
        (lambda: env_bool({"B": "maybe"}, "B", True), "B must be true or false, got 'maybe'"),
        (lambda: env_str({"S": "  "}, "S", "d"), "S must not be empty"),
        (lambda: env_choice({"M": "dutch"}, "M", "a", ("a", "b")), "M must be one of a, b"),
        (lambda: database_url({"HELIOS_DATABASE_URL": "mysql://x"}), "HELIOS_DATABASE_URL"),
    ],
)
def test_malformed_values_name_the_variable(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        call()


def test_database_url_gets_the_asyncpg_driver() -> None:
    env = {"HELIOS_DATABASE_URL": "postgresql://u:p@db:5432/x"}
    assert database_url(env) == "postgresql+asyncpg://u:p@db:5432/x"
