"""`helm install` of the chart on the local cluster (`make kube-up`), as a platform team runs
it: against the Kafka, PostgreSQL and Redis `make up` runs on this machine (the chart's
production shape: infrastructure outside the cluster, reached through the `host` Service that
`make kube-up` points at this machine's address), with charts/helios/ci/local-cluster-values.yaml,
the image `make image` built (imported into the node first), and a topic prefix and database of
this run's own. In file order: the install and its hooks,
`helm test`, a bid through the in-cluster gateway read back from the analytics API, what the
pods are held to (probes, security context, disruption budget, network policies), an install
that cannot reach its infrastructure failing fast, then upgrade and uninstall.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import itertools
import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from confluent_kafka.admin import AdminClient

from helios.gateway import credentials
from helios.gateway.settings import GatewaySettings
from helios.local.kube.cluster import Cluster
from helios.local.layout import Layout
from helios.local.mesh import free_port
from helios.local.scratch import Scratch, scratch
from helios.platform.kafka import delete_topics
from helios.platform.settings import KAFKA_BOOTSTRAP, libpq_url
from tests.conftest import Infra
from tests.harness import ROOT, eventually

CHART = ROOT / "charts" / "helios"
VALUES = CHART / "ci" / "local-cluster-values.yaml"
RELEASE = "helios"
# What the `host` Service of `make kube-up` is called from a pod.
HOST = "host.default.svc.cluster.local"
SERVICES = ("profiles", "bidder", "auction", "analytics")
IMAGE = Layout.from_env(os.environ).state / "images" / "helios.docker.tar"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(method: str, url: str, body: dict[str, Any] | None = None, *,
            params: dict[str, str] | None = None,
            headers: dict[str, str] | None = None) -> Reply:
    if params:
        url = f"{url}?{urllib.parse.urlencode(params)}"
    data = json.dumps(body).encode() if body is not None else None
    sent = urllib.request.Request(url, data=data, method=method, headers={
        "content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(sent, timeout=10) as reply:
            return Reply(reply.status, reply.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, err.read())


@dataclass(frozen=True)
class Release:
    cluster: Cluster
    namespace: str
    own: Scratch
    gateway: GatewaySettings

    def kubectl(self, *args: str, timeout: float = 120) -> str:
        return self.cluster.kubectl("-n", self.namespace, *args, timeout=timeout)

    def json(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json"))

    def helm(self, *args: str, timeout: float = 600,
             check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [Layout.from_env(os.environ).tool("helm"), "--kubeconfig", str(self.cluster.kubeconfig),
             "-n", self.namespace, *args], capture_output=True, text=True, timeout=timeout,
            check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)}: {result.stderr or result.stdout}")
        return result

    def pods(self, component: str) -> list[dict[str, Any]]:
        return list(self.json("pods", "-l", f"app.kubernetes.io/component={component}")["items"])

    def pod(self, component: str) -> str:
        (pod,) = [p for p in self.pods(component) if not p["metadata"].get("deletionTimestamp")]
        return str(pod["metadata"]["name"])


def in_cluster(url: str) -> str:
    """A URL of this machine's servers as the pods reach them."""
    return url.replace("localhost", HOST).replace("127.0.0.1", HOST)


def install_args(prefix: str) -> list[str]:
    return ["-f", str(VALUES), "--set", f"infrastructure.kafkaTopicPrefix={prefix}"]


@pytest.fixture(scope="module")
def release(infra: Infra) -> Iterator[Release]:
    """The release, installed with its hooks; the servers are the tests' own (`infra`)."""
    env = os.environ
    cluster = Cluster.from_env(Layout.from_env(env), env)
    namespace = f"helios-{uuid.uuid4().hex[:6]}"
    gateway = GatewaySettings.from_env(env)
    credentials.ensure(gateway)
    assert IMAGE.exists(), f"no {IMAGE}: run `make image`"
    # Imported on every run: a rebuilt image keeps its name, and containerd keeps the old one.
    cluster.ctr("images", "import", str(IMAGE), timeout=300)
    # Topics left to the chart's create-topics hook; the database is created, not migrated: the
    # migrate hook does that.
    with scratch(env, "kube", topics=False, migrate=False) as own:
        cluster.kubectl("create", "namespace", namespace)
        try:
            made = Release(cluster, namespace, own, gateway)
            made.kubectl("create", "secret", "generic", "helios-database",
                         f"--from-literal=url={in_cluster(own.database_url)}")
            made.kubectl("create", "secret", "generic", "helios-jwks",
                         f"--from-file=jwks.json={gateway.jwks}")
            started = time.monotonic()
            made.helm("install", RELEASE, str(CHART), *install_args(own.prefix), "--wait",
                      "--timeout", "8m")
            print(f"helm install --wait: {time.monotonic() - started:.0f} s")
            yield made
        finally:
            cluster.kubectl("delete", "namespace", namespace, "--wait=true", timeout=300)
            delete_topics(KAFKA_BOOTSTRAP.read(env), own.topics.partitions())


# ---- the install ----

def test_the_hooks_made_the_topics_and_the_schema_and_every_pod_is_ready(
        release: Release) -> None:
    admin = AdminClient({"bootstrap.servers": KAFKA_BOOTSTRAP.read(os.environ)})
    topics = set(admin.list_topics(timeout=10).topics)
    assert set(release.own.topics.partitions()) <= topics

    async def tables() -> set[str]:
        connection = await asyncpg.connect(libpq_url(release.own.database_url))
        try:
            rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE "
                                          "schemaname = 'public'")
            return {row["tablename"] for row in rows}
        finally:
            await connection.close()

    assert {"auction_outcomes", "auction_outcomes_daily", "alembic_version"} <= asyncio.run(
        tables())
    for component in (*SERVICES, "gateway"):
        (pod,) = release.pods(component)
        ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}["Ready"]
        assert ready == "True", component
    # The hooks are gone once they succeeded.
    assert not release.json("jobs")["items"]


def test_helm_test_checks_every_services_health(release: Release) -> None:
    # Without --logs: the test pod is deleted once it succeeds (hook-succeeded), before helm
    # could read them; its phase is the verdict.
    result = release.helm("test", RELEASE, "--timeout", "3m")
    assert f"TEST SUITE:     {RELEASE}-test-health" in result.stdout, result.stdout
    assert "Phase:          Succeeded" in result.stdout, result.stdout


def test_a_bid_through_the_in_cluster_gateway_reaches_the_analytics_api(
        release: Release) -> None:
    with port_forward(release) as url:
        request_id = f"kube-{uuid.uuid4().hex[:8]}"
        bid = request("POST", f"{url}/bid", {"request_id": request_id, "user_id": "user-001"})
        assert bid.status == 200, bid.body
        # Enriched: the bidder reached the profile service, which read the seeded Redis.
        assert (bid.json()["bid_price"], bid.json()["enriched"]) == (1.2, True), bid.body
        token = credentials.token(release.gateway)

        def stored() -> dict[str, Any]:
            reply = request("GET", f"{url}/api/outcomes", params={"user_id": "user-001"},
                            headers={"authorization": f"Bearer {token}"})
            assert reply.status == 200, reply.body
            found = [o for o in reply.json()["results"] if o["bid_request_id"] == request_id]
            assert found, "not stored yet"
            return dict(found[0])

        outcome = eventually(stored, timeout=60, interval=0.5)
        assert isinstance(outcome, dict) and outcome["bid_price"] == 1.2
        assert request("GET", f"{url}/api/outcomes").status == 401


@contextlib.contextmanager
def port_forward(release: Release) -> Iterator[str]:
    """The in-cluster gateway's HTTP port on a local one, as `kubectl port-forward` gives it."""
    port = free_port()
    forward = subprocess.Popen(
        [release.cluster.bin("kubectl"), "--kubeconfig", str(release.cluster.kubeconfig),
         "-n", release.namespace, "port-forward", f"svc/{RELEASE}-gateway", f"{port}:8080"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        eventually(lambda: answers(f"{url}/healthz"), timeout=30, interval=0.5)
        yield url
    finally:
        forward.terminate()
        forward.wait(10)


def answers(url: str) -> bool:
    try:
        return request("GET", url).status == 200
    except OSError as exc:  # the port-forward is not listening yet
        raise AssertionError(f"{url}: {exc}") from exc


# ---- what the pods are held to ----

def test_the_pods_run_as_10001_read_only_without_capabilities(release: Release) -> None:
    pod = release.pod("bidder")
    script = ("import os; print(os.getuid(), os.getgid()); "
              "print([l for l in open('/proc/1/status') if l.startswith('CapEff')][0].split()[1]);"
              "\ntry: open('/etc/x', 'w')\nexcept OSError as e: print(e.errno)")
    out = release.kubectl("exec", pod, "--", "python3", "-c", script).split()
    assert out == ["10001", "10001", "0000000000000000", "30"]  # 30: EROFS


def test_a_hung_service_is_taken_out_of_service_then_restarted_by_its_grpc_probes(
        release: Release) -> None:
    pod = release.pod("profiles")
    # From the host: inside its PID namespace the service is PID 1, which ignores SIGSTOP.
    container = release.json("pod", pod)["status"]["containerStatuses"][0]["containerID"]
    inspected = json.loads(release.cluster.crictl("inspect", container.split("://")[-1]))
    os.kill(int(inspected["info"]["pid"]), signal.SIGSTOP)

    def state() -> tuple[str, int]:
        status = release.json("pod", pod)["status"]
        ready = {c["type"]: c["status"] for c in status["conditions"]}["Ready"]
        return ready, int(status["containerStatuses"][0]["restartCount"])

    eventually(lambda: state()[0] == "False", timeout=40, interval=1)
    eventually(lambda: state() == ("True", 1), timeout=120, interval=1)


def test_the_disruption_budget_refuses_an_eviction_past_it(release: Release) -> None:
    """Two profile pods, at most one unavailable: evicting one is allowed, evicting the other
    while the first one's replacement is not ready yet is refused."""
    deployment = f"deployment/{RELEASE}-profiles"
    release.kubectl("scale", deployment, "--replicas=2")
    try:
        release.kubectl("rollout", "status", deployment, "--timeout=120s", timeout=150)
        eventually(lambda: release.json("pdb", f"{RELEASE}-profiles")["status"][
            "disruptionsAllowed"] == 1, timeout=60, interval=0.5)
        first, second = (p["metadata"]["name"] for p in release.pods("profiles"))
        evict(release, first)
        refused = evict(release, second, check=False)
        assert "violate the pod's disruption budget" in refused, refused
    finally:
        release.kubectl("scale", deployment, "--replicas=1")
        release.kubectl("rollout", "status", deployment, "--timeout=120s", timeout=150)


def evict(release: Release, pod: str, *, check: bool = True) -> str:
    body = json.dumps({"apiVersion": "policy/v1", "kind": "Eviction",
                       "metadata": {"name": pod, "namespace": release.namespace}})
    path = f"/api/v1/namespaces/{release.namespace}/pods/{pod}/eviction"
    try:
        return release.cluster.kubectl("create", "--raw", path, "-f", "-", stdin=body)
    except Exception as exc:
        if check:
            raise
        return str(exc)


INTRUDER = """
import socket, sys
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
        print("reach", target, "open")
    except OSError as exc:
        print("reach", target, type(exc).__name__)
"""


def test_network_policies_let_only_the_callers_in(release: Release) -> None:
    """From a pod that is none of the callers, each service's gRPC port is closed while the
    gateway answers; the callers' own connections work (the enriched bid above went gateway ->
    bidder -> profiles, and the API call gateway -> analytics)."""
    image = release.json("deployment", f"{RELEASE}-bidder")["spec"]["template"]["spec"][
        "containers"][0]["image"]
    overrides = json.dumps({"spec": {"automountServiceAccountToken": False,
                                     "securityContext": {"runAsNonRoot": True,
                                                         "runAsUser": 10001}}})
    targets = [f"{RELEASE}-gateway:8080", f"{RELEASE}-profiles:50051",
               f"{RELEASE}-analytics:50054", f"{RELEASE}-auction:50053"]
    # Not `kubectl run -i --rm`: its attach races a pod this short, and the output can be lost.
    intruder = f"intruder-{uuid.uuid4().hex[:4]}"
    release.kubectl("run", intruder, "--restart=Never", f"--image={image}",
                    "--image-pull-policy=Never", f"--overrides={overrides}", "--command", "--",
                    "python3", "-c", INTRUDER, *targets)
    try:
        release.kubectl("wait", f"pod/{intruder}", "--for=jsonpath={.status.phase}=Succeeded",
                        "--timeout=120s", timeout=130)
        out = release.kubectl("logs", intruder)
    finally:
        release.kubectl("delete", "pod", intruder, "--wait=false")
    reached = dict(line.split()[1:3] for line in out.splitlines() if line.startswith("reach "))
    assert reached[targets[0]] == "open", out
    for target in targets[1:]:
        assert reached[target] in ("TimeoutError", "ConnectionRefusedError"), out


def test_the_bidders_autoscaler_adds_a_pod_under_load(release: Release) -> None:
    """The HorizontalPodAutoscaler reads the bidder's CPU from metrics-server; bids through the
    gateway push it past its target (50 % of the 50m request, in the local values), and a
    second bidder pod becomes Ready."""
    hpa = f"{RELEASE}-bidder"

    def measured() -> bool:
        return any(m.get("resource", {}).get("current", {}).get("averageUtilization") is not None
                   for m in release.json("hpa", hpa).get("status", {}).get("currentMetrics")
                   or [])

    eventually(measured, timeout=120, interval=2)
    stop = threading.Event()
    with port_forward(release) as url:
        address = urllib.parse.urlsplit(url)
        numbers = itertools.count()

        def load() -> None:
            connection = http.client.HTTPConnection(address.hostname or "", address.port,
                                                    timeout=10)
            try:
                while not stop.is_set():
                    body = json.dumps({"request_id": f"scale-{next(numbers)}",
                                       "user_id": "user-001"})
                    connection.request("POST", "/bid", body,
                                       {"content-type": "application/json"})
                    connection.getresponse().read()
            finally:
                connection.close()

        senders = [threading.Thread(target=load, daemon=True) for _ in range(4)]
        for sender in senders:
            sender.start()
        try:
            eventually(lambda: release.json("deployment", hpa)["status"].get(
                "readyReplicas") == 2, timeout=240, interval=2)
        finally:
            stop.set()
            for sender in senders:
                sender.join(15)
    status = release.json("hpa", hpa)["status"]
    assert status["desiredReplicas"] == 2, status


def test_an_install_that_cannot_reach_kafka_fails_fast_naming_it(release: Release) -> None:
    name = "unreachable"
    started = time.monotonic()
    result = release.helm("install", name, str(CHART), *install_args("never-"),
                          # Nothing listens on the pod's own port 9: refused at once.
                          "--set", "infrastructure.kafkaBootstrapServers=127.0.0.1:9",
                          "--set", "jobs.preflightTimeoutSeconds=10", "--wait",
                          "--timeout", "3m", check=False)
    seconds = time.monotonic() - started
    try:
        assert result.returncode != 0
        assert "preflight" in result.stderr, result.stderr
        assert seconds < 120, seconds
        logs = release.kubectl("logs", f"job/{name}-helios-preflight")
        assert "helios: cannot reach Kafka (127.0.0.1:9)" in logs, logs
    finally:
        release.helm("uninstall", name, check=False)


# ---- upgrade and uninstall ----

def test_an_upgrade_reruns_the_hooks_and_rolls_the_pods(release: Release) -> None:
    before = release.pod("auction")
    release.helm("upgrade", RELEASE, str(CHART), *install_args(release.own.prefix),
                 "--set", "logLevel=DEBUG", "--wait", "--timeout", "8m")
    after = release.pod("auction")
    assert after != before
    env = {e["name"]: e.get("value") for e in release.json("pod", after)["spec"][
        "containers"][0]["env"]}
    assert env["HELIOS_LOG_LEVEL"] == "DEBUG"
    assert release.helm("history", RELEASE, "-o", "json").stdout.count('"deployed"') == 1


def test_uninstall_leaves_only_what_the_user_made(release: Release) -> None:
    release.helm("uninstall", RELEASE, "--wait", "--timeout", "3m")
    kinds = ("deployments,services,pods,jobs,secrets,configmaps,networkpolicies,"
             "poddisruptionbudgets,horizontalpodautoscalers,endpoints")
    # Pods go after their Deployment, a moment later.
    eventually(lambda: release.json(kinds, "-l", f"app.kubernetes.io/instance={RELEASE}")[
        "items"] == [], timeout=120, interval=1)
    secrets = {s["metadata"]["name"] for s in release.json("secrets")["items"]}
    assert secrets == {"helios-database", "helios-jwks"}
