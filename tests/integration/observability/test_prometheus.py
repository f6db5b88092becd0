"""The chart's dashboard and rules, proven against a real Prometheus (Debian's package) that
scrapes a mesh of this module's own after real traffic.

The mesh runs on free ports with every /metrics endpoint on and Envoy's stats listener, on
topics and consumer groups of its own (no other process of the session consumes them), its
analytics reaching PostgreSQL through a TCP proxy the last test cuts. Prometheus is started
through helios.local like every other process, with a generated scrape config (1 s, each target
labelled helios_component as the chart's ServiceMonitors label it) and charts/helios/files/
rules.yaml loaded as it is.

What is provoked, and so must show: bids enriched and not (no profile), rejected bids (400) and
unknown paths (404), analytics queries (found, NOT_FOUND, without a token), poison messages on
both topics (dead letters), the profile service killed (the breaker opens, its target is down),
and at the end PostgreSQL cut away from analytics (retries, lag, 5xx at the gateway). What is
not provoked (bid p99 over 50 ms, lag over 10,000) is evaluated and its input checked for data;
tests/charts/rules_test.yaml shows those alerts fire.
"""

from __future__ import annotations

import functools
import json
import math
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from helios.local.mesh import Gateway, Launcher, Service, free_port, launched
from helios.local.probes import http as http_probe
from helios.local.process import Process, Spec
from helios.platform import kafka
from helios.platform.kafka import delete_topics
from tests.conftest import Infra
from tests.harness import eventually
from tests.http import request
from tests.integration.analytics.support import TcpProxy
from tests.integration.auction.support import produce
from tests.monitoring import RULES, alerts, queries, records, template_variables, tool

SCRAPE = "1s"
# Grafana's own variables, as Grafana would set them for a short range on a 1 s scrape: the
# rate window wide enough to span the whole traffic phase, the range the test's length.
GRAFANA = {"__rate_interval": "2m", "__interval": "15s", "__range": "10m"}
# Alert states that show the rule's condition held at an evaluation (`for:` is not waited out).
RAISED = {"pending", "firing"}


@dataclass
class Observed:
    launcher: Launcher
    services: dict[str, Service]
    gateway: Gateway
    prometheus: str
    proxy: TcpProxy
    topics: kafka.Topics
    infra: Infra


def prometheus_spec(launcher: Launcher, targets: dict[str, tuple[str, str]]) -> tuple[Spec, str]:
    """Prometheus on a free port of 127.0.0.1 scraping ``targets`` (component -> (host:port,
    path)) every second, evaluating the chart's rules every second."""
    home = launcher.log_dir / f"prometheus-{uuid.uuid4().hex[:6]}"
    home.mkdir(parents=True)
    config = {
        "global": {"scrape_interval": SCRAPE, "scrape_timeout": SCRAPE,
                   "evaluation_interval": SCRAPE},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {"job_name": component, "metrics_path": path,
             "static_configs": [{"targets": [target],
                                 "labels": {"helios_component": component}}]}
            for component, (target, path) in targets.items()],
    }
    (home / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    spec = Spec(name="prometheus", argv=[
        str(tool("prometheus")), f"--config.file={home / 'prometheus.yml'}",
        f"--storage.tsdb.path={home / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=1h", "--log.level=warn"],
        log=home / "prometheus.log", ready=http_probe(f"http://127.0.0.1:{port}/-/ready"),
        ready_timeout=30.0, port=port)
    return spec, f"http://127.0.0.1:{port}"


def api(base: str, path: str, **params: str) -> Any:
    """Prometheus' HTTP API; an error answer fails with Prometheus' own message."""
    url = f"{base}{path}?{urllib.parse.urlencode(params)}" if params else f"{base}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            body = json.loads(reply.read())
    except urllib.error.HTTPError as err:
        body = json.loads(err.read())
    assert body["status"] == "success", f"{params or path}: {body.get('error')}"
    return body["data"]


def query(base: str, expr: str) -> list[dict[str, Any]]:
    data = api(base, "/api/v1/query", query=expr)
    if data["resultType"] == "scalar":
        return [{"metric": {}, "value": data["result"]}]
    result: list[dict[str, Any]] = data["result"]
    return result


def finite(result: list[dict[str, Any]]) -> bool:
    """At least one series with a real number (not NaN or infinite, as 0/0 would give)."""
    return any(math.isfinite(float(series["value"][1])) for series in result)


def number(base: str, expr: str) -> float:
    result = query(base, expr)
    return float(result[0]["value"][1]) if result else math.nan


def has_value(base: str, expr: str) -> bool:
    return finite(query(base, expr))


def bid(gateway: Gateway, user: str, **fields: Any) -> int:
    body = {"request_id": f"obs-{uuid.uuid4().hex[:12]}", "user_id": user, **fields}
    return request("POST", f"{gateway.url}/bid", body).status


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    try:
        eventually(condition, timeout=timeout, interval=0.5)
    except TimeoutError:
        raise AssertionError(f"not seen within {timeout:.0f} s: {what}") from None


def send_traffic(gateway: Gateway) -> None:
    """Every path of the public API once or many times, good and bad."""
    statuses = [bid(gateway, f"user-00{1 + i % 5}") for i in range(60)]
    statuses += [bid(gateway, f"nobody-{i}") for i in range(20)]
    assert statuses == [200] * 80
    assert {bid(gateway, "user-001", request_id="") for _ in range(5)} == {400}
    assert request("GET", f"{gateway.url}/nope").status == 404
    auth = gateway.auth()
    for path in ("/api/outcomes/stats/", "/api/outcomes/?page_size=5", "/api/outcomes/winners/",
                 "/api/outcomes/daily-stats/"):
        assert request("GET", f"{gateway.url}{path}", headers=auth).status == 200, path
    assert request("GET", f"{gateway.url}/api/outcomes/obs-missing/", headers=auth).status == 404
    assert request("GET", f"{gateway.url}/api/outcomes/stats/").status == 401


@pytest.fixture(scope="module")
def observed(infra: Infra, service_env: dict[str, str], log_dir: Path) -> Iterator[Observed]:
    prefix = f"obs-{uuid.uuid4().hex[:8]}-"
    topics = kafka.Topics.from_env({"HELIOS_KAFKA_TOPIC_PREFIX": prefix})
    kafka.ensure_topics(infra.kafka_bootstrap, topics.partitions())
    host_port = infra.database_url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    proxy = TcpProxy("127.0.0.1" if host == "localhost" else host, int(port))
    proxy.start()
    env = {**service_env, "HELIOS_KAFKA_TOPIC_PREFIX": prefix,
           "HELIOS_AUCTION_GROUP_ID": f"{prefix}auction",
           "HELIOS_ANALYTICS_CONSUMER_GROUP": f"{prefix}analytics"}
    try:
        with launched(env, log_dir / "observability") as start:
            profiles = start.start("profiles", metrics=True)
            bidder = start.start("bidder", {"HELIOS_BIDDER_PROFILES_TARGET": profiles.target},
                                 metrics=True)
            auction = start.start("auction", metrics=True)
            analytics = start.start("analytics", {
                "HELIOS_DATABASE_URL": infra.database_url.replace(
                    f"@{host_port}/", f"@127.0.0.1:{proxy.port}/"),
                "HELIOS_ANALYTICS_RETRY_MAX_SECONDS": "0.5"}, metrics=True)
            gateway = start.start_gateway([bidder.target], analytics.target, {
                "HELIOS_GATEWAY_API_RATE": "100000", "HELIOS_GATEWAY_API_BURST": "100000"})
            wait_for(lambda: request("GET", f"{gateway.url}/healthz").status == 200,
                     "a healthy bidder behind the gateway")
            services = {"profiles": profiles, "bidder": bidder, "auction": auction,
                        "analytics": analytics}
            targets = {name: (f"127.0.0.1:{s.metrics_port}", "/metrics")
                       for name, s in services.items()}
            targets["gateway"] = (f"127.0.0.1:{gateway.settings.metrics_port}",
                                  "/stats/prometheus")
            spec, prometheus = prometheus_spec(start, targets)
            start.adopt(Process(spec)).start()
            yield Observed(start, services, gateway, prometheus, proxy, topics, infra)
    finally:
        proxy.close()
        delete_topics(infra.kafka_bootstrap, list(topics.partitions()))


@pytest.fixture(scope="module")
def trafficked(observed: Observed) -> Observed:
    """The traffic and the failures every later test reads, in order."""
    base, gateway = observed.prometheus, observed.gateway
    wait_for(lambda: number(base, 'count(up{helios_component!=""} == 1)') == 5,
             "all five targets scraped")
    send_traffic(gateway)

    # Poison on both topics: the auction and analytics dead-letter them.
    bootstrap = observed.infra.kafka_bootstrap
    produce(bootstrap, observed.topics.bid_responses,
            [(b"poison-bid", b"\xff\xfe not protobuf", [])])
    produce(bootstrap, observed.topics.auction_outcomes,
            [(b"poison-outcome", b"\xff\xfe not protobuf", [])])
    wait_for(lambda: number(base, "sum(helios_analytics_ingested_messages_total)") >= 80,
             "the 80 bids' outcomes stored by analytics")
    for consumer in ("auction", "analytics"):
        wait_for(functools.partial(has_value, base,
                                   f'helios_consumer_dead_letters_total{{consumer="{consumer}"}}'
                                   " >= 1"), f"a dead letter from {consumer}")

    # The profile service dies: failed lookups open the bidder's circuit.
    observed.services["profiles"].kill()

    def breaker_open() -> bool:
        assert bid(gateway, "user-001") == 200
        return number(base, "max(helios_bidder_profile_breaker_open)") == 1

    wait_for(breaker_open, "the circuit to the killed profile service open")
    return observed


def test_prometheus_scrapes_every_service_and_envoys_stats(trafficked: Observed) -> None:
    targets = api(trafficked.prometheus, "/api/v1/targets")["activeTargets"]
    health = {t["labels"]["helios_component"]: t["health"] for t in targets}

    # The profile service was killed by the fixture.
    assert health == {"profiles": "down", "bidder": "up", "auction": "up", "analytics": "up",
                      "gateway": "up"}
    gateway = next(t for t in targets if t["labels"]["helios_component"] == "gateway")
    assert gateway["scrapeUrl"] == trafficked.gateway.metrics_url


def test_every_panel_of_the_dashboard_returns_data(trafficked: Observed) -> None:
    """Each target of charts/helios/files/dashboard.json, as Grafana would send it, answers
    at least one series with a real number."""
    variables = dict(GRAFANA)
    for name, variable in template_variables().items():
        if variable["type"] == "query":
            # "All", as a single-namespace Prometheus has it.
            variables[name] = variable["allValue"]
    pending = {(q.panel, q.ref): q.expr for q in queries(variables)}
    assert len(pending) >= 30
    deadline = time.monotonic() + 30
    while pending and time.monotonic() < deadline:
        for key, expr in list(pending.items()):
            if finite(query(trafficked.prometheus, expr)):
                del pending[key]
        time.sleep(1)
    assert not pending, "panels without data:\n" + "\n".join(
        f"{panel} [{ref}]: {expr}" for (panel, ref), expr in pending.items())


def test_the_namespace_variable_reads_a_metric_the_mesh_has(trafficked: Observed) -> None:
    definition = template_variables()["namespace"]["definition"]
    metric = definition.removeprefix("label_values(").split(",")[0]

    assert query(trafficked.prometheus, f"count({metric})")


def test_every_rule_evaluates_and_every_recording_has_data(trafficked: Observed) -> None:
    base = trafficked.prometheus

    def evaluated() -> dict[str, dict[str, Any]]:
        groups = api(base, "/api/v1/rules")["groups"]
        loaded = {rule["name"]: rule for group in groups for rule in group["rules"]}
        assert all(r["lastEvaluation"] > "2000" for r in loaded.values())
        return loaded

    found = eventually(evaluated, timeout=10)
    assert isinstance(found, dict)
    assert set(found) == set(records()) | set(alerts())
    bad = {name: rule.get("lastError") for name, rule in found.items() if rule["health"] != "ok"}
    assert not bad
    for record in records():
        wait_for(functools.partial(has_value, base, record), f"{record} has a value")
    for name, rule in alerts().items():
        # Runs (empty is fine here: the condition need not hold).
        query(base, rule["expr"])
        assert name in found


def raised(base: str, alert: str, **labels: str) -> bool:
    for active in api(base, "/api/v1/alerts")["alerts"]:
        if active["labels"]["alertname"] == alert and labels.items() <= active[
                "labels"].items():
            return active["state"] in RAISED
    return False


def test_the_alerts_of_what_was_provoked_are_raised(trafficked: Observed) -> None:
    base = trafficked.prometheus
    for alert, labels in (("HeliosProfileBreakerOpen", {}),
                          ("HeliosTargetDown", {"helios_component": "profiles"}),
                          ("HeliosDeadLetters", {"consumer": "auction"}),
                          ("HeliosDeadLetters", {"consumer": "analytics"})):
        wait_for(functools.partial(raised, base, alert, **labels), f"{alert} {labels}",
                 timeout=20)
    # Not provoked, so quiet.
    assert not raised(base, "HeliosConsumerLag")
    assert not raised(base, "HeliosGatewayErrors")


def test_a_database_outage_shows_as_retries_lag_and_gateway_errors(
        trafficked: Observed) -> None:
    """Last: PostgreSQL is cut away from analytics. Its ingest retries (with the lag measured
    from the broker meanwhile) and the API answers 5xx through the gateway."""
    base, gateway = trafficked.prometheus, trafficked.gateway
    trafficked.proxy.cut()

    assert {bid(gateway, "nobody") for _ in range(30)} == {200}
    auth = gateway.auth()
    failed = [request("GET", f"{gateway.url}/api/outcomes/stats/", headers=auth).status
              for _ in range(30)]
    assert all(status >= 500 for status in failed), failed

    wait_for(lambda: raised(base, "HeliosConsumerRetrying", consumer="analytics"),
             "HeliosConsumerRetrying for analytics")
    wait_for(lambda: number(base, 'helios_consumer_lag_messages{consumer="analytics"}') > 0,
             "analytics' lag above 0 while it retries")
    wait_for(lambda: raised(base, "HeliosGatewayErrors"), "HeliosGatewayErrors")
    trafficked.proxy.restore()
