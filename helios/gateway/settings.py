"""Settings of the Envoy gateway, read from the environment once, when the config is rendered."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import helios
from helios.platform.settings import Environ, SettingsError, env_bool, env_int, env_str

REPO = Path(helios.__file__).resolve().parents[1]


def state_dir(env: Environ) -> Path:
    """Where local state lives (data, logs, credentials): ``HELIOS_STATE_DIR``, else
    ``.helios/`` in the repository, as the project's scripts use."""
    raw = env.get("HELIOS_STATE_DIR", "").strip()
    return Path(raw).resolve() if raw else REPO / ".helios"


@dataclass(frozen=True)
class GatewaySettings:
    """Where Envoy listens, where it sends traffic, the files the config refers to, and the
    gateway's locks: TLS, bearer tokens, rate limits.

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
    openapi: Path
    template_dir: Path
    # HTTPS listener beside the plain one; 0 turns it off. The certificate chain and its key
    # are PEM files (`helios credentials` makes local ones, signed by .helios/tls/ca.pem).
    tls_port: int
    tls_cert: Path
    tls_key: Path
    # Bearer tokens (JWT) required on /api/outcomes…: verified against the JWKS file, with
    # this issuer and audience. `helios token` signs with signing_key, whose public half the
    # JWKS holds; a deployment with its own identity provider points jwks at that one's keys.
    auth: bool
    jwks: Path
    jwt_issuer: str
    jwt_audience: str
    signing_key: Path
    # Token buckets: per client address on /api/*, one for all clients on /bid.
    api_rate: int
    api_burst: int
    bid_rate: int
    bid_burst: int

    @classmethod
    def from_env(cls, env: Environ) -> GatewaySettings:
        # An installed package has no repository around it: images point HELIOS_GATEWAY_DIR
        # at their copy of gateway/ (see Dockerfile).
        gateway = _path(env, "HELIOS_GATEWAY_DIR", REPO / "gateway")
        state = state_dir(env)
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
            openapi=_path(env, "HELIOS_GATEWAY_OPENAPI", gateway / "openapi.json"),
            template_dir=_path(env, "HELIOS_GATEWAY_TEMPLATE_DIR", gateway),
            tls_port=env_int(env, "HELIOS_GATEWAY_TLS_PORT", 8443, low=0, high=65535),
            tls_cert=_path(env, "HELIOS_GATEWAY_TLS_CERT", state / "tls" / "gateway.pem"),
            tls_key=_path(env, "HELIOS_GATEWAY_TLS_KEY", state / "tls" / "gateway-key.pem"),
            auth=env_bool(env, "HELIOS_GATEWAY_AUTH", True),
            jwks=_path(env, "HELIOS_GATEWAY_JWKS", state / "auth" / "jwks.json"),
            jwt_issuer=env_str(env, "HELIOS_GATEWAY_JWT_ISSUER", "helios-local"),
            jwt_audience=env_str(env, "HELIOS_GATEWAY_JWT_AUDIENCE", "helios-api"),
            signing_key=_path(env, "HELIOS_GATEWAY_SIGNING_KEY",
                              state / "auth" / "signing-key.pem"),
            api_rate=env_int(env, "HELIOS_GATEWAY_API_RATE", 50, low=1, high=1_000_000),
            api_burst=env_int(env, "HELIOS_GATEWAY_API_BURST", 100, low=1, high=1_000_000),
            bid_rate=env_int(env, "HELIOS_GATEWAY_BID_RATE", 100_000, low=1, high=10_000_000),
            bid_burst=env_int(env, "HELIOS_GATEWAY_BID_BURST", 100_000, low=1,
                              high=10_000_000),
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
