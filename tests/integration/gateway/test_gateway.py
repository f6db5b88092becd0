"""Real Envoy, rendered from the template, in front of a recording gRPC upstream.

The upstream (recording_upstream.py) runs on the platform's real server runner and interceptor
and logs each call it receives, so these tests see what Envoy forwarded: the normalised path,
the query parameters, the x-request-id in the log context. The real services behind the same
gateway are covered by tests/e2e/. These routing tests run with HELIOS_GATEWAY_AUTH=off (the
switch is tested by that); what the locks do is tested in test_security.py.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helios.gateway.settings import GatewaySettings
from helios.local.mesh import Gateway, Launcher, Service, free_port, launched
from helios.local.probes import grpc_serving
from helios.local.process import Spec
from tests.harness import eventually

UPSTREAM = Path(__file__).with_name("recording_upstream.py")


def start_upstream(launcher: Launcher) -> Service:
    port = free_port()
    proc = Service(Spec(
        name="recording-upstream", argv=[sys.executable, str(UPSTREAM), str(port)],
        env={**launcher.base_env, "PYTHONPATH": str(UPSTREAM.parents[3])},
        log=launcher.log_dir / f"recording-upstream-{port}.log",
        ready=grpc_serving(f"127.0.0.1:{port}"), port=port), grpc_port=port)
    launcher.adopt(proc).start()
    return proc


def start_gateway(launcher: Launcher, upstream: Service,
                  env: dict[str, str] | None = None) -> Gateway:
    gateway = launcher.start_gateway([upstream.target], upstream.target, env)
    # Envoy is ready before its first health check passes; /bid needs a healthy bidder.
    eventually(lambda: http("GET", f"{gateway.url}/healthz")[0] == 200, timeout=15)
    return gateway


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, Service]]:
    with launched(dict(os.environ), tmp_path_factory.mktemp("gateway")) as launcher:
        upstream = start_upstream(launcher)
        yield start_gateway(launcher, upstream, {"HELIOS_GATEWAY_AUTH": "off"}), upstream


def http(method: str, url: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def call(method: str, url: str, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    status, _, raw = http(method, url, data, {"content-type": "application/json",
                                              **(headers or {})})
    return status, json.loads(raw) if raw else None


def received(upstream: Service, request_id: str) -> dict[str, Any]:
    """The upstream's log line for the call carrying ``request_id``."""
    def find() -> dict[str, Any] | None:
        for line in upstream.log_text().splitlines():
            entry = json.loads(line)
            if entry.get("msg") == "call" and entry.get("request_id") == request_id:
                return dict(entry)
        return None

    found = eventually(find, timeout=5)
    assert isinstance(found, dict)
    return found


def rid() -> str:
    return f"gw-{uuid.uuid4().hex[:12]}"


def test_a_bid_is_transcoded_with_snake_case_fields(stack: tuple[Gateway, Service]) -> None:
    gateway, upstream = stack
    request_id = rid()

    status, bid = call("POST", f"{gateway.url}/bid",
                       {"request_id": "r-1", "user_id": "user-001", "tmax": 20,
                        "site": {"domain": "news.example"}},
                       headers={"x-request-id": request_id})

    assert status == 200, bid
    assert bid["bid_request_id"] == "r-1"
    # Zero values are printed and names stay snake_case.
    assert bid["enriched"] is False
    assert bid["winning_interest"] == ""
    assert bid["enrichment_reason"] == "no_profile"
    seen = received(upstream, request_id)
    assert seen["method"] == "SubmitBid"
    assert seen["request"] == {"request_id": "r-1", "user_id": "user-001", "tmax": 20,
                               "site": {"domain": "news.example"}}


def test_the_clients_request_id_reaches_the_service_log_and_comes_back(
        stack: tuple[Gateway, Service]) -> None:
    gateway, upstream = stack
    request_id = rid()

    status, headers, _ = http("GET", f"{gateway.url}/api/outcomes/stats",
                              headers={"x-request-id": request_id})

    assert status == 200
    assert headers["x-request-id"] == request_id
    assert received(upstream, request_id)["method"] == "GetStats"


def test_a_request_id_is_generated_when_the_client_sends_none(
        stack: tuple[Gateway, Service]) -> None:
    gateway, upstream = stack

    status, headers, _ = http("GET", f"{gateway.url}/api/outcomes/winners?page=3")

    assert status == 200
    generated = headers["x-request-id"]
    uuid.UUID(generated)
    seen = received(upstream, generated)
    assert seen["method"] == "ListWinners"
    assert seen["request"] == {"page": "3"}


@pytest.mark.parametrize(("path", "method", "fields"), [
    ("/api/outcomes/stats/?user_id=u-7", "GetStats", {"user_id": "u-7"}),
    ("/api/outcomes/stats?user_id=u-7", "GetStats", {"user_id": "u-7"}),
    ("/api/outcomes/?page_size=5", "ListOutcomes", {"page_size": "5"}),
    ("/api/outcomes/winners/", "ListWinners", {}),
    ("/api/outcomes/daily-stats/", "GetDailyStats", {}),
    ("/api/outcomes/daily_stats/?win_status=true", "GetDailyStats", {"win_status": "true"}),
    ("/api/outcomes/abc-1/", "GetOutcome", {"bid_request_id": "abc-1"}),
])
def test_trailing_slash_forms_reach_the_same_method(
        stack: tuple[Gateway, Service], path: str, method: str,
        fields: dict[str, str]) -> None:
    gateway, upstream = stack
    request_id = rid()

    status, _ = call("GET", f"{gateway.url}{path}", headers={"x-request-id": request_id})

    assert status == 200
    seen = received(upstream, request_id)
    assert (seen["method"], seen["request"]) == (method, fields)


@pytest.mark.parametrize("plus", ["%2B", "+"])
def test_a_query_value_keeps_its_plus_sign(stack: tuple[Gateway, Service],
                                           plus: str) -> None:
    gateway, upstream = stack
    request_id = rid()

    query = f"from=2026-01-01T00:00:00{plus}02:00"
    status, _ = call("GET", f"{gateway.url}/api/outcomes/stats/?{query}",
                     headers={"x-request-id": request_id})

    assert status == 200
    assert received(upstream, request_id)["request"] == {"from": "2026-01-01T00:00:00+02:00"}


def test_a_body_over_64_kib_is_413_and_never_reaches_the_bidder(
        stack: tuple[Gateway, Service]) -> None:
    gateway, upstream = stack
    before = upstream.log_text().count('"SubmitBid"')
    body = json.dumps({"request_id": "big", "user_id": "u", "page_url": "x" * 65 * 1024})

    status, reply = call_raw(gateway, "/bid", body.encode())

    assert status == 413
    assert reply["code"] == 8
    assert reply["message"]
    assert upstream.log_text().count('"SubmitBid"') == before


def test_a_body_just_under_the_limit_is_accepted(stack: tuple[Gateway, Service]) -> None:
    gateway, _ = stack
    padding = 60 * 1024
    body = json.dumps({"request_id": "near", "user_id": "u", "page_url": "x" * padding})

    status, reply = call_raw(gateway, "/bid", body.encode())

    assert status == 200, reply


def call_raw(gateway: Gateway, path: str, body: bytes) -> tuple[int, Any]:
    status, _, raw = http("POST", f"{gateway.url}{path}", body,
                          {"content-type": "application/json"})
    return status, json.loads(raw)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/nope"),
    ("GET", "/api/outcomes/a/b"),
    ("GET", "/bid"),          # a known path with the wrong method is 404 too (see the docs)
    ("PUT", "/bid"),
    ("POST", "/api/outcomes"),
    ("POST", "/"),
])
def test_unknown_paths_and_methods_are_404_json(
        stack: tuple[Gateway, Service], method: str, path: str) -> None:
    gateway, _ = stack

    status, reply = call(method, f"{gateway.url}{path}", {} if method != "GET" else None)

    assert status == 404
    assert reply["code"] == 5
    assert path.split("?")[0] in reply["message"]


@pytest.mark.parametrize("path", ["/api/outcomes/stats?bogus=1", "/api/outcomes/?pagesize=9"])
def test_unknown_query_parameters_are_400_naming_them(
        stack: tuple[Gateway, Service], path: str) -> None:
    gateway, _ = stack

    status, reply = call("GET", f"{gateway.url}{path}")

    assert status == 400
    assert reply["code"] == 3
    assert path.rsplit("?", 1)[1].split("=")[0] in reply["message"]


def test_a_service_error_is_a_json_status_with_the_http_code(
        stack: tuple[Gateway, Service]) -> None:
    gateway, _ = stack

    status, reply = call("POST", f"{gateway.url}/bid", {"user_id": "u"})
    assert (status, reply["code"], reply["message"]) == (400, 3, "request_id: is required")

    status, reply = call("GET", f"{gateway.url}/api/outcomes/missing/")
    assert (status, reply["code"]) == (404, 5)
    assert "missing" in reply["message"]


def test_malformed_json_is_400(stack: tuple[Gateway, Service]) -> None:
    gateway, _ = stack

    status, reply = call_raw(gateway, "/bid", b'{"request_id": ')

    assert status == 400
    assert reply["code"] == 3


@pytest.mark.parametrize("path", ["/", "/index.html"])
def test_the_dashboard_is_served_by_envoy(stack: tuple[Gateway, Service],
                                          path: str) -> None:
    gateway, _ = stack

    status, headers, body = http("GET", f"{gateway.url}{path}")

    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert body == GatewaySettings.from_env(os.environ).dashboard.read_bytes()


def test_access_log_is_json_with_the_request_id(stack: tuple[Gateway, Service]) -> None:
    gateway, _ = stack
    request_id = rid()
    call("GET", f"{gateway.url}/api/outcomes/stats", headers={"x-request-id": request_id})

    def logged() -> dict[str, Any] | None:
        for line in gateway.log_text().splitlines():
            if line.startswith("{") and request_id in line:
                return dict(json.loads(line))
        return None

    entry = eventually(logged, timeout=10)
    assert isinstance(entry, dict)
    assert entry["status"] == 200
    assert entry["path"] == "/api/outcomes/stats"
    assert entry["method"] == "GET"


def test_healthz_follows_the_bidders_health(tmp_path: Path) -> None:
    with launched(dict(os.environ), tmp_path) as launcher:
        upstream = start_upstream(launcher)
        gateway = start_gateway(launcher, upstream)
        status, _, body = http("GET", f"{gateway.url}/healthz")
        assert status == 200, body

        upstream.stop()

        def unhealthy() -> bool:
            status, _, body = http("GET", f"{gateway.url}/healthz")
            return status == 503 and json.loads(body) == {"code": 14,
                                                          "message": "no healthy bidder"}
        eventually(unhealthy, timeout=10)

        upstream.spawn()
        upstream.wait_healthy()
        eventually(lambda: http("GET", f"{gateway.url}/healthz")[0] == 200, timeout=10)


def test_the_metrics_port_serves_envoys_prometheus_stats(
        stack: tuple[Gateway, Service]) -> None:
    gateway, _ = stack
    call("POST", f"{gateway.url}/bid", {"request_id": "stats-1", "user_id": "u"})

    status, headers, body = http("GET", gateway.metrics_url)

    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    text = body.decode()
    assert "# TYPE envoy_http_downstream_rq_xx counter" in text
    served = [line for line in text.splitlines() if line.startswith(
        'envoy_http_downstream_rq_xx{envoy_response_code_class="2",'
        'envoy_http_conn_manager_prefix="public_http"}')]
    assert served and float(served[0].split()[-1]) >= 1
    assert 'envoy_cluster_membership_healthy{envoy_cluster_name="bidder"} 1' in text


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/quitquitquit"),
    ("POST", "/healthcheck/fail"),
    ("POST", "/logging?level=trace"),
    ("GET", "/config_dump"),
    ("GET", "/stats"),
    ("GET", "/"),
    ("POST", "/stats/prometheus"),
    ("POST", "/stats/prometheus/../quitquitquit"),
    ("POST", "/stats/prometheus/%2e%2e/quitquitquit"),
])
def test_the_metrics_port_serves_nothing_else_of_the_admin(
        stack: tuple[Gateway, Service], method: str, path: str) -> None:
    """The admin can shut Envoy down, fail its health and dump its config (credentials'
    paths included): none of that is reachable on the port Prometheus scrapes."""
    gateway, _ = stack
    base = gateway.metrics_url.removesuffix("/stats/prometheus")

    status, _, body = http(method, f"{base}{path}", b"" if method == "POST" else None)

    assert status == 404
    assert json.loads(body)["code"] == 5
    assert gateway.alive
    assert http("GET", f"{gateway.url}/healthz")[0] == 200
