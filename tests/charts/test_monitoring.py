"""The chart's monitoring objects: ServiceMonitors, the PrometheusRule and the Grafana
dashboard ConfigMap, each behind its value in `monitoring:`.

ServiceMonitor and PrometheusRule are Prometheus Operator CRDs, which kubernetes-validate has no
schema for (it raises SchemaNotFoundError). They are checked here against a strict subset of
the operator's CRD schemas (monitoring.coreos.com/v1, operator 0.82): only the fields the chart
writes are allowed, with the CRD's own types and patterns, so a misspelt field fails as it
would under `kubectl apply --validate=strict`. A field the chart starts to use must be added
here, from the CRD. The rule file itself goes through `promtool check rules` and the alerts'
unit tests (`promtool test rules`); whether every query returns data is
tests/integration/observability's job.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import jsonschema
import pytest
import yaml

from tests.charts.test_chart import CHART, SERVICES, by_kind, helm, render
from tests.monitoring import DASHBOARD, RULES, RULES_TEST, dashboard, panels, tool

MONITORING = CHART / "ci" / "monitoring-values.yaml"
# The CRD's duration pattern (monitoring.coreos.com/v1 Duration).
DURATION = {"type": "string", "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?"
                                        r"(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"}
STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}


def strict(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "required": list(required)}


METADATA = strict({"name": {"type": "string", "minLength": 1}, "labels": STRINGS,
                   "annotations": STRINGS, "namespace": {"type": "string"}}, ("name",))
SERVICE_MONITOR = strict({
    "apiVersion": {"const": "monitoring.coreos.com/v1"},
    "kind": {"const": "ServiceMonitor"},
    "metadata": METADATA,
    "spec": strict({
        "selector": strict({"matchLabels": STRINGS}),
        "endpoints": {"type": "array", "minItems": 1, "items": strict({
            "port": {"type": "string"},
            "path": {"type": "string"},
            "interval": DURATION,
            "relabelings": {"type": "array", "items": strict({
                "action": {"type": "string"},
                "sourceLabels": {"type": "array", "items": {"type": "string"}},
                "targetLabel": {"type": "string"},
                "replacement": {"type": "string"},
                "regex": {"type": "string"},
            })},
        })},
    }, ("selector", "endpoints")),
}, ("apiVersion", "kind", "metadata", "spec"))
PROMETHEUS_RULE = strict({
    "apiVersion": {"const": "monitoring.coreos.com/v1"},
    "kind": {"const": "PrometheusRule"},
    "metadata": METADATA,
    "spec": strict({"groups": {"type": "array", "items": strict({
        "name": {"type": "string", "minLength": 1},
        "interval": DURATION,
        "rules": {"type": "array", "items": strict({
            "record": {"type": "string"},
            "alert": {"type": "string"},
            "expr": {"type": ["string", "integer"]},
            "for": DURATION,
            "labels": STRINGS,
            "annotations": STRINGS,
        }, ("expr",))},
    }, ("name",))}}),
}, ("apiVersion", "kind", "metadata", "spec"))
SCHEMAS = {"ServiceMonitor": SERVICE_MONITOR, "PrometheusRule": PROMETHEUS_RULE}


def validate_custom_resource(doc: dict[str, Any]) -> None:
    """Checks a monitoring.coreos.com/v1 object against the subset above."""
    jsonschema.validate(doc, SCHEMAS[doc["kind"]])


def test_monitoring_is_off_by_default() -> None:
    docs = render()
    assert not by_kind(docs, "ServiceMonitor") and not by_kind(docs, "PrometheusRule")
    assert "rel-helios-dashboard" not in by_kind(docs, "ConfigMap")


def test_each_object_has_a_value_of_its_own() -> None:
    docs = render("--set", "monitoring.prometheusRules.enabled=true")
    assert by_kind(docs, "PrometheusRule") and not by_kind(docs, "ServiceMonitor")
    assert "rel-helios-dashboard" not in by_kind(docs, "ConfigMap")


def test_a_service_monitor_per_enabled_service_and_the_gateway() -> None:
    docs = render("-f", str(MONITORING), "--set", "components.auction.enabled=false")
    monitors = by_kind(docs, "ServiceMonitor")
    services = by_kind(docs, "Service")

    assert sorted(monitors) == sorted(f"rel-helios-{n}" for n in (*SERVICES, "gateway")
                                      if n != "auction")
    for name, monitor in monitors.items():
        component = name.removeprefix("rel-helios-")
        selector = monitor["spec"]["selector"]["matchLabels"]
        (endpoint,) = monitor["spec"]["endpoints"]
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert endpoint["interval"] == "15s"
        assert endpoint["relabelings"] == [{"targetLabel": "helios_component",
                                            "replacement": component}]
        # The Services it selects: exactly one of them has the port it scrapes.
        selected = [s for s in services.values()
                    if selector.items() <= s["metadata"]["labels"].items()]
        scraped = [s for s in selected
                   if endpoint["port"] in {p["name"] for p in s["spec"]["ports"]}]
        assert len(scraped) == 1, name
        assert endpoint["path"] == ("/stats/prometheus" if component == "gateway"
                                    else "/metrics")


def test_the_gateways_metrics_service_is_internal_and_reaches_envoys_listener() -> None:
    docs = render("--set", "gateway.serviceType=LoadBalancer",
                  "--set", "monitoring.gatewayMetricsPort=9999")
    service = by_kind(docs, "Service")["rel-helios-gateway-metrics"]
    pod = by_kind(docs, "Deployment")["rel-helios-gateway"]["spec"]["template"]["spec"]
    env = {e["name"]: e["value"] for e in pod["initContainers"][0]["env"]}
    ports = {p["name"]: p["containerPort"] for p in pod["containers"][0]["ports"]}

    # The public Service may be a LoadBalancer; Envoy's statistics stay inside the cluster.
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 9999,
                                         "targetPort": "metrics"}]
    assert env["HELIOS_GATEWAY_METRICS_PORT"] == "9999"
    assert ports["metrics"] == 9999
    public = {p["name"] for p in by_kind(docs, "Service")["rel-helios-gateway"]["spec"]["ports"]}
    assert "metrics" not in public


def test_the_rule_is_the_rule_file_as_it_is() -> None:
    (rule,) = by_kind(render("-f", str(MONITORING)), "PrometheusRule").values()
    assert rule["spec"] == yaml.safe_load(RULES.read_text())
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_the_dashboard_configmap_holds_the_file_for_grafanas_sidecar() -> None:
    default = by_kind(render("--set", "monitoring.grafanaDashboard.enabled=true"),
                      "ConfigMap")["rel-helios-dashboard"]
    assert default["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert default["data"]["helios.json"] == DASHBOARD.read_text().rstrip("\n")

    moved = by_kind(render("--set", "monitoring.grafanaDashboard.enabled=true",
                           "--set", "monitoring.grafanaDashboard.labels.dashboards=helios"),
                    "ConfigMap")["rel-helios-dashboard"]
    assert moved["metadata"]["labels"]["dashboards"] == "helios"
    scenario = by_kind(render("-f", str(MONITORING)), "ConfigMap")["rel-helios-dashboard"]
    assert scenario["metadata"]["annotations"] == {
        "k8s-sidecar-target-directory": "/tmp/dashboards/helios"}


def test_the_custom_resource_check_catches_a_misspelt_field() -> None:
    docs = render("-f", str(MONITORING))
    monitor = by_kind(docs, "ServiceMonitor")["rel-helios-bidder"]
    monitor["spec"]["endpoints"][0]["intervall"] = "15s"
    with pytest.raises(jsonschema.ValidationError, match="intervall"):
        validate_custom_resource(monitor)
    rule = next(iter(by_kind(docs, "PrometheusRule").values()))
    rule["spec"]["groups"][0]["rules"][0]["fOr"] = "5m"
    with pytest.raises(jsonschema.ValidationError, match="fOr"):
        validate_custom_resource(rule)


@pytest.mark.parametrize("value", ["monitoring.serviceMonitors.enable=true",
                                   "monitoring.serviceMonitors.interval=fast",
                                   "monitoring.gatewayMetricsPort=0"])
def test_the_schema_rejects_bad_monitoring_values(value: str) -> None:
    result = subprocess.run([helm(), "template", "rel", str(CHART), "--set", value],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "monitoring" in result.stderr


def test_the_gateway_metrics_port_default_is_the_gateways_own() -> None:
    from helios.gateway import settings

    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["monitoring"]["gatewayMetricsPort"] == settings.METRICS_PORT.default


def test_promtool_accepts_the_rules_and_their_unit_tests_pass() -> None:
    checked = subprocess.run([str(tool("promtool")), "check", "rules", str(RULES)],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run([str(tool("promtool")), "test", "rules", str(RULES_TEST)],
                            capture_output=True, text=True, cwd=RULES_TEST.parent)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_unit_test_that_fires_it_and_a_section_in_the_docs() -> None:
    from tests.harness import ROOT
    from tests.monitoring import alerts

    tested = {case["alertname"] for test in yaml.safe_load(RULES_TEST.read_text())["tests"]
              for case in test["alert_rule_test"] if case["exp_alerts"]}
    docs = (ROOT / "docs" / "observability.md").read_text()
    for name, rule in alerts().items():
        assert name in tested, f"{name} never fires in {RULES_TEST.name}"
        assert f"docs/observability.md#{name.lower()}" in rule["annotations"]["description"]
        assert f"\n### {name}\n" in docs, name


def test_the_dashboard_is_well_formed() -> None:
    board = dashboard()
    every = list(panels(board))
    ids = [p["id"] for p in board["panels"]]
    cells: dict[tuple[int, int], str] = {}

    assert board["uid"] and len(ids) == len(set(ids))
    for panel in board["panels"]:
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24, panel["title"]
        for column in range(box["x"], box["x"] + box["w"]):
            for row in range(box["y"], box["y"] + box["h"]):
                assert (column, row) not in cells, (panel["title"], cells.get((column, row)))
                cells[(column, row)] = panel["title"]
    for panel in every:
        assert panel["targets"] and panel["description"], panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"]
            # Every query is narrowed to the chosen namespaces.
            assert 'namespace=~"$namespace"' in target["expr"], (panel["title"], target["refId"])


def test_the_dashboard_file_is_stable_json() -> None:
    """Indented as Grafana exports it, so that a change shows as a readable diff."""
    text = DASHBOARD.read_text()
    assert text == json.dumps(json.loads(text), indent=2) + "\n"
