"""A settings variable: its default when unset, its value parsed and bounded, and a message
naming it when malformed; a settings class read whole from its variables."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from helios.platform import settings
from helios.platform.settings import (
    DATABASE_URL,
    LOG_LEVEL,
    SettingsError,
    Variable,
    database_url,
    nested,
    variables,
)


def test_defaults_apply_when_unset() -> None:
    assert Variable("X", 7, "").read({}) == 7
    assert Variable("X", 0.5, "").read({}) == 0.5
    assert Variable("X", True, "").read({}) is True
    assert Variable("X", "d", "").read({}) == "d"


def test_values_are_parsed_by_the_defaults_type() -> None:
    env = {"N": " 42 ", "F": "0.25", "B": "off", "C": "second_price"}
    assert Variable("N", 0, "").read(env) == 42
    assert Variable("F", 0.0, "").read(env) == 0.25
    assert Variable("B", True, "").read(env) is False
    assert Variable("C", "first_price", "", choices=("first_price", "second_price")).read(
        env) == "second_price"


def test_a_variable_in_milliseconds_holds_seconds() -> None:
    deadline = Variable("D", 0.05, "", per=1000, low=1, unit="ms")
    assert deadline.read({"D": "30"}) == 0.03
    assert deadline.shown_default == "50"
    with pytest.raises(SettingsError, match=r"D must be at least 1, got 0\.5"):
        deadline.read({"D": "0.5"})


@pytest.mark.parametrize(("variable", "raw", "message"), [
    (Variable("PORT", 1, ""), "http", "PORT must be an integer, got 'http'"),
    (Variable("PORT", 1, "", high=65535), "70000", "PORT must be at most 65535"),
    (Variable("P", 0.0, ""), "x", "P must be a number, got 'x'"),
    (Variable("P", 0.0, ""), "nan", "P must be a number, got 'nan'"),
    (Variable("P", 0.0, "", low=0), "-1", "P must be at least 0"),
    (Variable("B", True, ""), "maybe", "B must be true or false, got 'maybe'"),
    (Variable("S", "d", ""), "  ", "S must not be empty"),
    (Variable("M", "a", "", choices=("a", "b")), "dutch", "M must be one of a, b"),
    (DATABASE_URL, "mysql://x", "HELIOS_DATABASE_URL"),
    (LOG_LEVEL, "loud", "HELIOS_LOG_LEVEL must be one of DEBUG"),
])
def test_malformed_values_name_the_variable(variable: Variable[object], raw: str,
                                            message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        variable.read({variable.name: raw})


def test_database_url_gets_the_asyncpg_driver_and_log_level_any_case() -> None:
    assert database_url({"HELIOS_DATABASE_URL": "postgresql://u:p@db:5432/x"}) == \
        "postgresql+asyncpg://u:p@db:5432/x"
    assert LOG_LEVEL.read({"HELIOS_LOG_LEVEL": "debug"}) == "DEBUG"


@dataclass(frozen=True)
class Inner:
    depth: int = Variable("T_DEPTH", 3, "depth", low=1).field()


@dataclass(frozen=True)
class Outer:
    name: str = Variable("T_NAME", "x", "name").field()
    inner: Inner = nested(lambda env: settings.from_env(Inner, env), Inner)


def test_a_settings_class_is_read_whole_nested_groups_included() -> None:
    assert settings.from_env(Outer, {}) == Outer()
    assert settings.from_env(Outer, {"T_NAME": "y", "T_DEPTH": "5"}) == Outer("y", Inner(5))
    assert [v.name for v in variables(Outer)] == ["T_NAME", "T_DEPTH"]
