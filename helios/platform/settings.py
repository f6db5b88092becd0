"""Typed settings from environment variables, each default written once.

A setting is a :class:`Variable`: its name, its default, what it means and its bounds. A
service's settings are one frozen dataclass whose fields are declared with ``Variable(...).field()``
(or :func:`nested` for a group of settings with a class of its own); :func:`from_env` reads
every one, so the parsing, the defaults, the docs table (`helios settings`, in
docs/CONVENTIONS.md) and the chart's defaults (checked by tests/charts) all come from that one
declaration. A missing or malformed variable raises :class:`SettingsError` naming it, at
start-up.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

Environ = Mapping[str, str]
T = TypeVar("T")
D = TypeVar("D")

_VARIABLE = "helios.variable"
_NESTED = "helios.nested"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the environment variable."""


@dataclass(frozen=True)
class Variable(Generic[T]):
    """One environment variable and the setting it holds.

    The setting's type is its default's: str, int, float or bool. ``per`` converts the
    variable's unit to the setting's (a variable in milliseconds for a setting in seconds has
    ``per=1000`` and ``unit="ms"``); ``shown`` replaces the default in the docs where it is
    computed from other settings (a path under the state directory)."""

    name: str
    default: T
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    per: int = 1
    unit: str = ""
    shown: str | None = None
    # Blank is allowed only where it means something (an empty topic prefix).
    allow_empty: bool = False
    normalise: Callable[[str, str], str] | None = None

    def read(self, env: Environ) -> T:
        raw = env.get(self.name)
        if raw is None:
            return self.default
        return self.parse(raw)

    def parse(self, raw: str) -> T:
        kind = type(self.default)
        text = raw.strip()
        value: Any
        if kind is bool:
            value = _boolean(self.name, text)
        elif kind in (int, float):
            value = _number(self.name, text, int if kind is int and self.per == 1 else float)
            _check_range(self.name, value, self.low, self.high)
            value = value / self.per if self.per != 1 else value
        else:
            if not text and not self.allow_empty:
                raise SettingsError(f"{self.name} must not be empty")
            value = self.normalise(self.name, text) if self.normalise else text
            if self.choices and value not in self.choices:
                raise SettingsError(f"{self.name} must be one of {', '.join(self.choices)}, "
                                    f"got {text!r}")
        return value  # type: ignore[no-any-return]

    def field(self) -> Any:
        """A dataclass field holding this setting, defaulted."""
        return dataclasses.field(default=self.default, metadata={_VARIABLE: self})

    @property
    def shown_default(self) -> str:
        if self.shown is not None:
            return self.shown
        value: Any = self.default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and self.per != 1:
            value = round(value * self.per, 6)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return f'"{value}"' if value == "" else str(value)


def nested(build: Callable[[Environ], T], default: Callable[[], T]) -> Any:
    """A dataclass field holding a group of settings with a class of its own, read by
    ``build`` (its ``from_env``)."""
    return dataclasses.field(default_factory=default, metadata={_NESTED: build})


def from_env(cls: type[D], env: Environ) -> D:
    """``cls`` with each of its :class:`Variable` fields read from ``env`` (the default where
    unset) and each :func:`nested` group built by its own reader."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if _VARIABLE in f.metadata:
            values[f.name] = f.metadata[_VARIABLE].read(env)
        elif _NESTED in f.metadata:
            values[f.name] = f.metadata[_NESTED](env)
    return cls(**values)


def variables(cls: type[Any]) -> Iterator[Variable[Any]]:
    """Every variable ``cls`` reads, nested groups included, in declaration order."""
    for f in dataclasses.fields(cls):
        if _VARIABLE in f.metadata:
            yield f.metadata[_VARIABLE]
        elif _NESTED in f.metadata:
            default = f.default_factory()  # type: ignore[operator]
            yield from variables(type(default))


def grpc_port(service: str, default: int) -> Variable[int]:
    return Variable(f"HELIOS_{service.upper()}_GRPC_PORT", default,
                    f"{service}: gRPC port (its API, health and reflection)", low=1, high=65535)


def metrics_port(service: str, default: int) -> Variable[int]:
    return Variable(f"HELIOS_{service.upper()}_METRICS_PORT", default,
                    f"{service}: Prometheus /metrics port; 0 turns it off", low=0, high=65535)


def process_env() -> Environ:
    return os.environ


def libpq_url(url: str) -> str:
    """A database URL as libpq and asyncpg take it: ``postgresql://``, without SQLAlchemy's
    driver name."""
    return "postgresql://" + url.split("://", 1)[1]


def _database(name: str, url: str) -> str:
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    if not url.startswith("postgresql+asyncpg://"):
        raise SettingsError(f"{name} must be a postgresql:// URL, got {url!r}")
    return url


# The infrastructure every service that uses it reads; each defaults to the server the
# project's supervisor runs locally (helios/local/servers/ serves exactly these).
KAFKA_BOOTSTRAP = Variable("HELIOS_KAFKA_BOOTSTRAP_SERVERS", "localhost:9092",
                           "Kafka bootstrap servers (host:port, comma-separated)")
TOPIC_PREFIX = Variable("HELIOS_KAFKA_TOPIC_PREFIX", "",
                        "put in front of every topic name (tests use one per session)",
                        allow_empty=True)
REDIS_URL = Variable("HELIOS_REDIS_URL", "redis://localhost:6379/0", "Redis holding the profiles")
DATABASE_URL = Variable("HELIOS_DATABASE_URL",
                        "postgresql+asyncpg://helios:helios@localhost:5432/helios",
                        "PostgreSQL of the analytics (postgresql:// is taken too)",
                        normalise=_database)
LOG_LEVEL = Variable("HELIOS_LOG_LEVEL", "INFO", "JSON logs on stdout from this level",
                     choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                     normalise=lambda _, text: text.upper())


def kafka_bootstrap(env: Environ) -> str:
    return KAFKA_BOOTSTRAP.read(env)


def redis_url(env: Environ) -> str:
    return REDIS_URL.read(env)


def database_url(env: Environ) -> str:
    return DATABASE_URL.read(env)


def _boolean(name: str, text: str) -> bool:
    lowered = text.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {text!r}")


def _number(name: str, text: str, kind: type[int] | type[float]) -> float:
    what = "an integer" if kind is int else "a number"
    try:
        value = kind(text)
    except ValueError:
        raise SettingsError(f"{name} must be {what}, got {text!r}") from None
    if not math.isfinite(value):
        raise SettingsError(f"{name} must be {what}, got {text!r}")
    return value


def _check_range(name: str, value: float, low: float | None, high: float | None) -> None:
    if low is not None and value < low:
        raise SettingsError(f"{name} must be at least {low}, got {value}")
    if high is not None and value > high:
        raise SettingsError(f"{name} must be at most {high}, got {value}")
