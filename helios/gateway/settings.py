"""Settings of the Envoy gateway, read from the environment once, when the config is rendered."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import helios
from helios.analytics.settings import GRPC_PORT as ANALYTICS_PORT
from helios.bidder.settings import GRPC_PORT as BIDDER_PORT
from helios.platform.settings import Environ, SettingsError, Variable

REPO = Path(helios.__file__).resolve().parents[1]

STATE_DIR = Variable("HELIOS_STATE_DIR", "", "local state: data, logs, the local CA and token "
                     "signing key", shown="<repo>/.helios", allow_empty=True)
PORT = Variable("HELIOS_GATEWAY_PORT", 8080, "gateway: public HTTP listener, on 0.0.0.0",
                low=1, high=65535)
TLS_PORT = Variable("HELIOS_GATEWAY_TLS_PORT", 8443,
                    "gateway: public HTTPS listener, on 0.0.0.0; 0 turns it off",
                    low=0, high=65535)
ADMIN_PORT = Variable("HELIOS_GATEWAY_ADMIN_PORT", 9901, "gateway: Envoy admin, on 127.0.0.1",
                      low=1, high=65535)
# Envoy's own statistics for Prometheus (request rates, status classes, latency, upstream
# health) come from the admin interface, which must stay private: it can also drain listeners,
# change log levels and shut Envoy down. So a listener of its own forwards GET
# /stats/prometheus, and nothing else, to it. Next to the services' 9101-9104.
METRICS_PORT = Variable("HELIOS_GATEWAY_METRICS_PORT", 9105,
                        "gateway: Prometheus listener on 0.0.0.0 serving only the admin's "
                        "/stats/prometheus; 0 turns it off", low=0, high=65535)
BIDDER_TARGETS = Variable("HELIOS_GATEWAY_BIDDER_TARGETS", f"127.0.0.1:{BIDDER_PORT.default}",
                          "gateway: bidders, host:port, comma-separated; one Envoy endpoint each")
ANALYTICS_TARGET = Variable("HELIOS_GATEWAY_ANALYTICS_TARGET",
                            f"127.0.0.1:{ANALYTICS_PORT.default}", "gateway: analytics, host:port")
DIR = Variable("HELIOS_GATEWAY_DIR", "", "gateway: where the files below are by default "
               "(images set it)", shown="<repo>/gateway", allow_empty=True)
DESCRIPTOR = Variable("HELIOS_GATEWAY_DESCRIPTOR", "", "gateway: descriptor set for the "
                      "transcoder", shown="$DIR/helios.binpb", allow_empty=True)
DASHBOARD = Variable("HELIOS_GATEWAY_DASHBOARD", "", "gateway: the page served at /",
                     shown="$DIR/dashboard/index.html", allow_empty=True)
OPENAPI = Variable("HELIOS_GATEWAY_OPENAPI", "", "gateway: the document served at "
                   "/openapi.json", shown="$DIR/openapi.json", allow_empty=True)
TEMPLATE_DIR = Variable("HELIOS_GATEWAY_TEMPLATE_DIR", "", "gateway: holds envoy.yaml.j2",
                        shown="$DIR", allow_empty=True)
TLS_CERT = Variable("HELIOS_GATEWAY_TLS_CERT", "", "gateway: HTTPS certificate chain (PEM)",
                    shown="$STATE/tls/gateway.pem", allow_empty=True)
TLS_KEY = Variable("HELIOS_GATEWAY_TLS_KEY", "", "gateway: its private key (PEM)",
                   shown="$STATE/tls/gateway-key.pem", allow_empty=True)
AUTH = Variable("HELIOS_GATEWAY_AUTH", True, "gateway: bearer tokens required on "
                "/api/outcomes…; off opens the API")
JWKS = Variable("HELIOS_GATEWAY_JWKS", "", "gateway: the keys tokens are verified with",
                shown="$STATE/auth/jwks.json", allow_empty=True)
JWT_ISSUER = Variable("HELIOS_GATEWAY_JWT_ISSUER", "helios-local",
                      "gateway: the iss a token must carry")
JWT_AUDIENCE = Variable("HELIOS_GATEWAY_JWT_AUDIENCE", "helios-api",
                        "gateway: the aud a token must carry")
SIGNING_KEY = Variable("HELIOS_GATEWAY_SIGNING_KEY", "", "what `helios token` signs with "
                       "(Envoy never reads it)", shown="$STATE/auth/signing-key.pem",
                       allow_empty=True)
API_RATE = Variable("HELIOS_GATEWAY_API_RATE", 50, "gateway: /api/* requests a second per "
                    "client address", low=1, high=1_000_000)
API_BURST = Variable("HELIOS_GATEWAY_API_BURST", 100, "gateway: /api/* burst per client "
                     "address", low=1, high=1_000_000)
BID_RATE = Variable("HELIOS_GATEWAY_BID_RATE", 100_000, "gateway: /bid requests a second, "
                    "every client together", low=1, high=10_000_000)
BID_BURST = Variable("HELIOS_GATEWAY_BID_BURST", 100_000, "gateway: /bid burst", low=1,
                     high=10_000_000)
VARIABLES = (STATE_DIR, PORT, TLS_PORT, ADMIN_PORT, METRICS_PORT, BIDDER_TARGETS,
             ANALYTICS_TARGET, DIR, DESCRIPTOR, DASHBOARD, OPENAPI, TEMPLATE_DIR, TLS_CERT,
             TLS_KEY, AUTH, JWKS, JWT_ISSUER, JWT_AUDIENCE, SIGNING_KEY, API_RATE, API_BURST,
             BID_RATE, BID_BURST)


def state_dir(env: Environ) -> Path:
    """Where local state lives (data, logs, credentials): ``HELIOS_STATE_DIR``, else
    ``.helios/`` in the repository."""
    return _path(env, STATE_DIR, REPO / ".helios")


@dataclass(frozen=True)
class GatewaySettings:
    """Where Envoy listens, where it sends traffic, the files the config refers to, and the
    gateway's locks: TLS, bearer tokens, rate limits (each variable above says what it means).

    ``bidder_targets`` holds one ``host:port`` per bidder process: each becomes its own Envoy
    endpoint, because Envoy keeps one HTTP/2 connection per worker and upstream, so processes
    sharing a port would get uneven load.
    """

    port: int
    admin_port: int
    metrics_port: int
    bidder_targets: tuple[str, ...]
    analytics_target: str
    descriptor: Path
    dashboard: Path
    openapi: Path
    template_dir: Path
    tls_port: int
    tls_cert: Path
    tls_key: Path
    auth: bool
    jwks: Path
    jwt_issuer: str
    jwt_audience: str
    signing_key: Path
    api_rate: int
    api_burst: int
    bid_rate: int
    bid_burst: int

    @classmethod
    def from_env(cls, env: Environ) -> GatewaySettings:
        # An installed package has no repository around it: images point HELIOS_GATEWAY_DIR
        # at their copy of gateway/ (see Dockerfile).
        gateway = _path(env, DIR, REPO / "gateway")
        state = state_dir(env)
        bidders = tuple(t.strip() for t in BIDDER_TARGETS.read(env).split(",") if t.strip())
        if not bidders:
            raise SettingsError(f"{BIDDER_TARGETS.name} must name at least one host:port")
        for target in bidders:
            _check_target(BIDDER_TARGETS.name, target)
        analytics = ANALYTICS_TARGET.read(env)
        _check_target(ANALYTICS_TARGET.name, analytics)
        return cls(
            port=PORT.read(env),
            admin_port=ADMIN_PORT.read(env),
            metrics_port=METRICS_PORT.read(env),
            bidder_targets=bidders,
            analytics_target=analytics,
            descriptor=_path(env, DESCRIPTOR, gateway / "helios.binpb"),
            dashboard=_path(env, DASHBOARD, gateway / "dashboard" / "index.html"),
            openapi=_path(env, OPENAPI, gateway / "openapi.json"),
            template_dir=_path(env, TEMPLATE_DIR, gateway),
            tls_port=TLS_PORT.read(env),
            tls_cert=_path(env, TLS_CERT, state / "tls" / "gateway.pem"),
            tls_key=_path(env, TLS_KEY, state / "tls" / "gateway-key.pem"),
            auth=AUTH.read(env),
            jwks=_path(env, JWKS, state / "auth" / "jwks.json"),
            jwt_issuer=JWT_ISSUER.read(env),
            jwt_audience=JWT_AUDIENCE.read(env),
            signing_key=_path(env, SIGNING_KEY, state / "auth" / "signing-key.pem"),
            api_rate=API_RATE.read(env),
            api_burst=API_BURST.read(env),
            bid_rate=BID_RATE.read(env),
            bid_burst=BID_BURST.read(env),
        )


def split_target(target: str) -> tuple[str, int]:
    """``host:port`` (or ``[v6]:port``) -> (host, port)."""
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


def _check_target(name: str, target: str) -> None:
    host, sep, port = target.rpartition(":")
    if not sep or not host.strip("[]") or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"{name} must be host:port, got {target!r}")


def _path(env: Environ, variable: Variable[str], default: Path) -> Path:
    raw = variable.read(env).strip()
    # Envoy reads these files itself, from wherever it was started: make them absolute.
    return Path(raw).resolve() if raw else default
