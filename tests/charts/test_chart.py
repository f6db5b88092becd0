"""The Helm chart, rendered by the real helm for each scenario under charts/helios/ci/."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.harness import ROOT

CHART = ROOT / "charts" / "helios"
SCENARIOS = sorted((CHART / "ci").glob("*-values.yaml"))
SERVICES = ("profiles", "bidder", "auction", "analytics")
# Validated against the oldest and the newest Kubernetes the chart is meant for.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")


def helm() -> str:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "helios" / "bin"
    found = shutil.which("helm") or str(cache / "helm")
    assert Path(found).exists(), "helm is missing: run scripts/install.sh"
    return found


def render(*args: str) -> list[dict[str, Any]]:
    out = subprocess.run([helm(), "template", "rel", str(CHART), *args], capture_output=True,
                         text=True, check=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.mark.parametrize("values", SCENARIOS, ids=lambda p: p.stem)
def test_lint_is_clean(values: Path) -> None:
    subprocess.run([helm(), "lint", "--strict", str(CHART), "-f", str(values)], check=True,
                   capture_output=True)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("values", SCENARIOS, ids=lambda p: p.stem)
def test_every_manifest_matches_the_kubernetes_schema(values: Path, version: str) -> None:
    """Strict: an unknown or misspelt field anywhere in a manifest fails, as kubectl would.
    The Prometheus Operator's kinds have no schema in kubernetes-validate: test_monitoring.py
    checks them."""
    from tests.charts.test_monitoring import validate_custom_resource

    docs = render("-f", str(values))
    assert docs
    for doc in docs:
        if doc["apiVersion"] == "monitoring.coreos.com/v1":
            validate_custom_resource(doc)
        else:
            kubernetes_validate.validate(doc, version, strict=True)


def test_the_schema_check_catches_a_misspelt_field() -> None:
    deployment = by_kind(render(), "Deployment")["rel-helios-bidder"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def test_every_service_gets_a_deployment_a_service_and_grpc_probes() -> None:
    docs = render()
    deployments, services = by_kind(docs, "Deployment"), by_kind(docs, "Service")
    for name in SERVICES:
        container = deployments[f"rel-helios-{name}"]["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["serve", name]
        port = container["ports"][0]["containerPort"]
        assert container["readinessProbe"]["grpc"]["port"] == port
        assert f"rel-helios-{name}" in services
    assert services["rel-helios-bidder"]["spec"]["clusterIP"] == "None"


def test_gateway_renders_its_config_from_the_release_service_names() -> None:
    gateway = by_kind(render(), "Deployment")["rel-helios-gateway"]["spec"]["template"]["spec"]
    init = gateway["initContainers"][0]
    env = {e["name"]: e["value"] for e in init["env"]}
    assert init["args"][0] == "render-gateway"
    assert env["HELIOS_GATEWAY_BIDDER_TARGETS"] == "rel-helios-bidder:50052"
    assert env["HELIOS_GATEWAY_ANALYTICS_TARGET"] == "rel-helios-analytics:50054"


def test_helm_test_checks_every_enabled_service() -> None:
    pods = by_kind(render("--set", "components.auction.enabled=false"), "Pod")
    args = pods["rel-helios-test-health"]["spec"]["containers"][0]["args"]
    assert args[:3] == ["wait-healthy", "--timeout", "60"]
    assert sorted(args[3:]) == ["rel-helios-analytics:50054", "rel-helios-bidder:50052",
                                "rel-helios-profiles:50051"]


def test_scenario_values_reach_the_pods() -> None:
    docs = render("-f", str(CHART / "ci" / "second-price-values.yaml"))
    auction = by_kind(docs, "Deployment")["rel-helios-auction"]
    env = {e["name"]: e.get("value") for e in
           auction["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["HELIOS_AUCTION_MODE"] == "second_price"
    assert env["HELIOS_KAFKA_TOPIC_PREFIX"] == "staging-"
    assert "rel-helios-seed-profiles" in by_kind(docs, "Job")


def test_schema_rejects_unknown_keys() -> None:
    result = subprocess.run([helm(), "template", "rel", str(CHART), "--set",
                             "components.bidder.replica=3"], capture_output=True, text=True)
    assert result.returncode != 0
    assert "additional properties 'replica' not allowed" in result.stderr


def test_the_gateway_serves_https_and_checks_tokens_with_the_jwks_secret() -> None:
    docs = render()
    pod = by_kind(docs, "Deployment")["rel-helios-gateway"]["spec"]["template"]["spec"]
    env = {e["name"]: e["value"] for e in pod["initContainers"][0]["env"]}
    volumes = {v["name"]: v for v in pod["volumes"]}

    assert env["HELIOS_GATEWAY_TLS_PORT"] == "8443"
    assert env["HELIOS_GATEWAY_AUTH"] == "true"
    assert volumes["tls"]["secret"]["secretName"] == "rel-helios-gateway-tls"
    assert volumes["jwks"]["secret"]["secretName"] == "helios-jwks"
    assert by_kind(docs, "Secret")["rel-helios-gateway-tls"]["type"] == "kubernetes.io/tls"
    ports = {p["name"]: p["port"] for p in by_kind(docs, "Service")["rel-helios-gateway"][
        "spec"]["ports"]}
    assert ports == {"http": 8080, "https": 8443}


def test_a_certificate_of_ones_own_replaces_the_generated_one() -> None:
    docs = render("--set", "gateway.tls.secretName=my-cert")
    pod = by_kind(docs, "Deployment")["rel-helios-gateway"]["spec"]["template"]["spec"]

    assert {v["name"]: v for v in pod["volumes"]}["tls"]["secret"]["secretName"] == "my-cert"
    assert "rel-helios-gateway-tls" not in by_kind(docs, "Secret")


def test_auth_without_a_jwks_secret_fails_naming_the_value() -> None:
    result = subprocess.run([helm(), "template", "rel", str(CHART), "--set",
                             "gateway.auth.jwksSecret="], capture_output=True, text=True)
    assert result.returncode != 0
    assert "gateway.auth.jwksSecret must name a Secret" in result.stderr


def test_the_charts_defaults_are_the_services_own() -> None:
    """values.yaml restates some defaults for the templates (a port is a Service's too):
    each must be the settings' default, written in the code once."""
    from helios.analytics import settings as analytics
    from helios.auction import settings as auction
    from helios.bidder import settings as bidder
    from helios.gateway import settings as gateway
    from helios.profiles import settings as profiles

    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for name, module in (("profiles", profiles), ("bidder", bidder), ("auction", auction),
                         ("analytics", analytics)):
        component = values["components"][name]
        defaults = module.Settings()
        assert (component["grpcPort"], component["metricsPort"]) == (
            defaults.grpc_port, defaults.metrics_port), name
    chart = values["gateway"]
    assert (chart["port"], chart["tlsPort"], chart["adminPort"]) == (
        gateway.PORT.default, gateway.TLS_PORT.default, gateway.ADMIN_PORT.default)
    assert (chart["auth"]["enabled"], chart["auth"]["issuer"], chart["auth"]["audience"]) == (
        gateway.AUTH.default, gateway.JWT_ISSUER.default, gateway.JWT_AUDIENCE.default)
    limits = chart["rateLimit"]
    assert (limits["apiPerSecond"], limits["apiBurst"], limits["bidPerSecond"],
            limits["bidBurst"]) == (gateway.API_RATE.default, gateway.API_BURST.default,
                                    gateway.BID_RATE.default, gateway.BID_BURST.default)


def pod_specs(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every pod template the chart makes (Deployments, Jobs, the test Pod), by object name."""
    specs = {}
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            specs[doc["metadata"]["name"]] = doc["spec"]["template"]["spec"]
        elif doc["kind"] == "Pod":
            specs[doc["metadata"]["name"]] = doc["spec"]
    return specs


def test_every_pod_runs_locked_down() -> None:
    specs = pod_specs(render("--set", "jobs.seedProfiles=true"))
    assert len(specs) == 10  # 4 services, the gateway, 4 jobs, the test pod
    for name, spec in specs.items():
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001,
                                           "runAsGroup": 10001,
                                           "seccompProfile": {"type": "RuntimeDefault"}}, name
        for container in spec.get("initContainers", []) + spec["containers"]:
            assert container["securityContext"] == {
                "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]}}, name
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], name
            assert container["resources"]["requests"], name


def test_preflight_runs_first_and_nothing_waits_forever() -> None:
    jobs = by_kind(render("--set", "jobs.preflightTimeoutSeconds=45"), "Job")
    order = sorted(jobs.values(), key=lambda j: int(j["metadata"]["annotations"][
        "helm.sh/hook-weight"]))
    assert [j["metadata"]["name"] for j in order] == [
        "rel-helios-preflight", "rel-helios-migrate", "rel-helios-create-topics"]
    preflight = order[0]["spec"]
    assert preflight["template"]["spec"]["containers"][0]["args"] == [
        "preflight", "--timeout", "45"]
    assert preflight["backoffLimit"] == 0
    assert all(j["spec"]["activeDeadlineSeconds"] == 285 for j in jobs.values())


def test_the_bidder_scales_on_cpu_and_its_deployment_leaves_the_count_to_it() -> None:
    docs = render()
    (hpa,) = by_kind(docs, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "rel-helios-bidder"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    deployments = by_kind(docs, "Deployment")
    assert "replicas" not in deployments["rel-helios-bidder"]["spec"]
    assert deployments["rel-helios-profiles"]["spec"]["replicas"] == 1
    off = render("--set", "components.bidder.autoscaling.enabled=false")
    assert not by_kind(off, "HorizontalPodAutoscaler")
    assert by_kind(off, "Deployment")["rel-helios-bidder"]["spec"]["replicas"] == 2


def test_a_disruption_budget_for_every_component_and_the_gateway() -> None:
    budgets = by_kind(render("--set", "components.auction.enabled=false"), "PodDisruptionBudget")
    assert {name: b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
            for name, b in budgets.items()} == {
        f"rel-helios-{n}": n for n in ("gateway", "profiles", "bidder", "analytics")}
    assert {b["spec"]["maxUnavailable"] for b in budgets.values()} == {1}


def test_network_policies_let_each_service_be_called_only_by_its_callers() -> None:
    policies = by_kind(render(), "NetworkPolicy")

    def callers(name: str) -> list[str]:
        grpc, metrics = policies[f"rel-helios-{name}"]["spec"]["ingress"]
        assert grpc["ports"] == [{"port": "grpc"}] and metrics == {"ports": [{"port": "metrics"}]}
        return [peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
                for peer in grpc["from"]]

    assert callers("bidder") == ["gateway", "helm-test"]
    assert callers("analytics") == ["gateway", "helm-test"]
    assert callers("profiles") == ["bidder", "helm-test"]
    assert callers("auction") == ["helm-test"]
    assert "rel-helios-gateway" not in policies
    test_pod = by_kind(render(), "Pod")["rel-helios-test-health"]
    assert test_pod["metadata"]["labels"]["app.kubernetes.io/component"] == "helm-test"
    assert not by_kind(render("--set", "networkPolicy.enabled=false"), "NetworkPolicy")
