"""Settings of the Envoy gateway, read from the environment once, when the config is rendered."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import helios
from helios.platform.settings import Environ, SettingsError, env_int, env_str

REPO = Path(helios.__file__).resolve().parents[1]


@dataclass(frozen=True)
class GatewaySettings:
    """Where Envoy listens, where it sends traffic, and the files the config refers to.

    ``bidder_targets`` holds one ``host:port`` per bidder process: each becomes its own Envoy
    endpoint, because Envoy keeps one HTTP/2 connection per worker and upstream, so processes
    sharing a port would get uneven load.
    """

    port: int
    admin_port: int
    bidder_targets: tuple[str, ...]
    analytics_target: str
    descriptor: Path
    dashboard: Path
    template_dir: Path

    @classmethod
    def from_env(cls, env: Environ) -> GatewaySettings:
        # An installed package has no repository around it: images point HELIOS_GATEWAY_DIR
        # at their copy of gateway/ (see Dockerfile).
        gateway = _path(env, "HELIOS_GATEWAY_DIR", REPO / "gateway")
        raw_bidders = env_str(env, "HELIOS_GATEWAY_BIDDER_TARGETS", "127.0.0.1:50052")
        bidders = tuple(t.strip() for t in raw_bidders.split(",") if t.strip())
        if not bidders:
            raise SettingsError("HELIOS_GATEWAY_BIDDER_TARGETS must name at least one host:port")
        for target in bidders:
            _check_target("HELIOS_GATEWAY_BIDDER_TARGETS", target)
        analytics = env_str(env, "HELIOS_GATEWAY_ANALYTICS_TARGET", "127.0.0.1:50054")
        _check_target("HELIOS_GATEWAY_ANALYTICS_TARGET", analytics)
        return cls(
            port=env_int(env, "HELIOS_GATEWAY_PORT", 8080, low=1, high=65535),
            admin_port=env_int(env, "HELIOS_GATEWAY_ADMIN_PORT", 9901, low=1, high=65535),
            bidder_targets=bidders,
            analytics_target=analytics,
            descriptor=_path(env, "HELIOS_GATEWAY_DESCRIPTOR", gateway / "helios.binpb"),
            dashboard=_path(env, "HELIOS_GATEWAY_DASHBOARD", gateway / "dashboard" / "index.html"),
            template_dir=_path(env, "HELIOS_GATEWAY_TEMPLATE_DIR", gateway),
        )


def split_target(target: str) -> tuple[str, int]:
    """``host:port`` (or ``[v6]:port``) -> (host, port)."""
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


def _check_target(name: str, target: str) -> None:
    host, sep, port = target.rpartition(":")
    if not sep or not host.strip("[]") or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"{name} must be host:port, got {target!r}")


def _path(env: Environ, name: str, default: Path) -> Path:
    raw = env.get(name)
    # Envoy reads these files itself, from wherever it was started: make them absolute.
    return Path(raw.strip()).resolve() if raw and raw.strip() else default
