"""The local Kubernetes works as a cluster must for the chart's tests: the node is Ready, a Job
runs to Succeeded, a pod's logs and exec work, a Service answers from the host (a NodePort on
127.0.0.1 alone, and kubectl port-forward) and from a pod, CoreDNS resolves Services (and
nothing outside the cluster), and a NetworkPolicy is enforced: a denied pod's connection is
refused while an allowed one passes."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from helios.local.kube import guard
from helios.local.kube.cluster import API_SERVICE_IP, DNS_IP, ClusterError
from helios.local.mesh import free_port
from helios.local.network import POD_NETWORK, SERVICE_NETWORK
from tests.harness import eventually
from tests.kube.conftest import SLEEP, TESTBOX, WEB, Kube, pod


def in_range(address: str, cidr: str) -> bool:
    from ipaddress import ip_address, ip_network

    return ip_address(address) in ip_network(cidr)


@pytest.fixture(scope="module")
def workloads(kube: Kube, namespace: str) -> Iterator[str]:
    """Everything the tests look at, applied at once and waited for: a Deployment of two web
    pods behind a ClusterIP and a NodePort Service, a client pod, a Job, and the policy
    scenario's server and its allowed and denied clients."""
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": pod("x", namespace, WEB, port=8080)["spec"]}}}
    services = [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
         "spec": {"type": kind, "selector": {"app": app},
                  "ports": [{"port": 80, "targetPort": 8080}]}}
        for name, kind, app in (("web", "ClusterIP", "web"), ("web-nodeport", "NodePort", "web"),
                                ("server", "ClusterIP", "server"))]
    job = {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "sum", "namespace": namespace},
        "spec": {"backoffLimit": 0, "activeDeadlineSeconds": 120,
                 "template": {"spec": {"restartPolicy": "Never", "containers": [{
                     "name": "main", "image": TESTBOX, "imagePullPolicy": "Never",
                     "command": ["sh", "-c", "echo sum=$(seq -s + 1 100 | bc)"]}]}}}}
    kube.apply(
        deployment, *services, job,
        pod("client", namespace, "echo hello from the client pod; " + SLEEP),
        pod("server", namespace, WEB, labels={"app": "server"}, port=8080),
        pod("allowed", namespace, SLEEP, labels={"role": "allowed"}),
        pod("denied", namespace, SLEEP, labels={"role": "denied"}))
    # The Job's pod is left out: it completes, and is never Ready.
    for selector in (["-l", "app=web"], ["client", "server", "allowed", "denied"]):
        try:
            kube.kubectl("-n", namespace, "wait", "--for=condition=Ready", "pod", *selector,
                         "--timeout=120s", timeout=130)
        except ClusterError as exc:
            raise AssertionError(f"{exc}\n{kube.kubectl('-n', namespace, 'describe', 'pods')}"
                                 ) from exc
    yield namespace


def test_the_node_is_ready_on_this_machines_address(kube: Kube) -> None:
    node = kube.get("node", kube.cluster.node_name)

    ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]
    addresses = {a["type"]: a["address"] for a in node["status"]["addresses"]}
    assert ready == "True"
    assert addresses["InternalIP"] == kube.cluster.node_ip
    assert node["status"]["nodeInfo"]["kubeletVersion"] == kube.cluster.versions[
        "KUBERNETES_VERSION"]
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")


def test_a_job_runs_to_succeeded(kube: Kube, workloads: str) -> None:
    kube.kubectl("-n", workloads, "wait", "--for=condition=Complete", "job/sum",
                 "--timeout=90s", timeout=100)

    job = kube.get("-n", workloads, "job", "sum")
    assert job["status"]["succeeded"] == 1
    assert kube.kubectl("-n", workloads, "logs", "job/sum").strip() == "sum=5050"


def test_a_pods_logs_and_exec(kube: Kube, workloads: str) -> None:
    logs = kube.kubectl("-n", workloads, "logs", "client")
    done = kube.exec(workloads, "client", "echo $((6 * 7)) as $(id -u)")

    assert "hello from the client pod" in logs
    assert (done.returncode, done.stdout.strip()) == (0, "42 as 65534")


def test_pods_and_services_get_the_clusters_ranges(kube: Kube, workloads: str) -> None:
    pods = kube.get("-n", workloads, "pods", "-l", "app=web")["items"]
    service = kube.get("-n", workloads, "service", "web")

    assert len(pods) == 2
    assert all(in_range(p["status"]["podIP"], POD_NETWORK) for p in pods)
    assert in_range(service["spec"]["clusterIP"], SERVICE_NETWORK)


# busybox's wget crashes when a connection fails under -T: timeout bounds it instead.
WGET = "timeout 10 wget -q -O -"


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return str(reply.read().decode().strip())


def test_a_nodeport_answers_on_loopback_only(kube: Kube, workloads: str) -> None:
    port = kube.get("-n", workloads, "service", "web-nodeport")["spec"]["ports"][0]["nodePort"]

    answers = {http_get(f"http://127.0.0.1:{port}/") for _ in range(20)}

    # Both replicas answer through the Service.
    assert len(answers) == 2 and all(a.startswith("web web-") for a in answers), answers
    with pytest.raises(OSError):
        socket.create_connection((kube.cluster.node_ip, port), timeout=2).close()


def test_kubectl_port_forward_reaches_a_service(kube: Kube, workloads: str) -> None:
    port = free_port()
    forward = subprocess.Popen(
        [kube.cluster.bin("kubectl"), "--kubeconfig", str(kube.cluster.kubeconfig), "-n",
         workloads, "port-forward", "svc/web", f"{port}:80", "--address", "127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        answer = eventually(lambda: _try_get(f"http://127.0.0.1:{port}/"), timeout=20)
    finally:
        forward.terminate()
        forward.wait(10)
    assert str(answer).startswith("web web-")


def _try_get(url: str) -> str | None:
    try:
        return http_get(url)
    except OSError:
        return None


def test_a_service_answers_from_a_pod_by_its_name(kube: Kube, workloads: str) -> None:
    short = kube.exec(workloads, "client", f"{WGET} http://web/")
    full = kube.exec(workloads, "client", f"{WGET} http://web.{workloads}.svc.cluster.local/")

    assert short.stdout.startswith("web web-"), short.stderr
    assert full.stdout.startswith("web web-"), full.stderr


def test_coredns_resolves_services_and_nothing_outside(kube: Kube, workloads: str) -> None:
    ip = kube.get("-n", workloads, "service", "web")["spec"]["clusterIP"]

    found = kube.exec(workloads, "client", f"nslookup web.{workloads}.svc.cluster.local")
    api = kube.exec(workloads, "client", "nslookup kubernetes.default.svc.cluster.local")
    outside = kube.exec(workloads, "client", "nslookup example.com")

    assert found.stdout.startswith(f"Server:\t\t{DNS_IP}\n"), found.stdout
    assert f"Address: {ip}\n" in found.stdout, found.stdout
    assert f"Address: {API_SERVICE_IP}\n" in api.stdout, api.stdout
    # No forwarder: a name outside the cluster is not resolved, and no query leaves.
    assert outside.returncode != 0 and "SERVFAIL" in outside.stdout, outside.stdout


def test_a_packet_for_an_address_nobody_serves_stays_on_the_machine(
        kube: Kube, workloads: str) -> None:
    before = guard.dropped()

    # No Service has port 80 on the API's address: without the guard the default route would
    # carry this out of the machine.
    stray = connect(kube, workloads, "client", API_SERVICE_IP, 80)

    assert stray == "timeout"
    assert guard.dropped() > before


def connect(kube: Kube, namespace: str, client: str, host: str, port: int) -> str:
    """'ok', 'refused' or 'timeout': an HTTP request from ``client`` to ``host:port`` with nc
    (busybox's wget crashes when a connection fails under -T)."""
    done = kube.exec(namespace, client,
                     f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {host} {port}")
    if "web server" in done.stdout:
        return "ok"
    if "refused" in done.stderr:
        return "refused"
    if "timed out" in done.stderr:
        return "timeout"
    return f"other: {done.stdout.strip()} {done.stderr.strip()}"


def test_a_network_policy_denies_ingress_and_lets_the_allowed_in(
        kube: Kube, workloads: str) -> None:
    server = kube.get("-n", workloads, "pod", "server")["status"]["podIP"]
    policy: dict[str, Any] = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "server-ingress", "namespace": workloads},
        "spec": {"podSelector": {"matchLabels": {"app": "server"}}, "policyTypes": ["Ingress"],
                 "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "allowed"}}}],
                              "ports": [{"protocol": "TCP", "port": 8080}]}]}}
    # Without a policy both get in: what follows is the policy's doing.
    assert connect(kube, workloads, "denied", server, 8080) == "ok"

    kube.apply(policy)
    # kube-router applies the policy on its event, within a few seconds.
    started = time.monotonic()
    def blocked() -> str | None:
        result = connect(kube, workloads, "denied", server, 8080)
        return None if result == "ok" else result

    denied = eventually(blocked, timeout=30, interval=0.5)
    enforced_after = time.monotonic() - started

    assert denied in ("refused", "timeout"), denied
    assert connect(kube, workloads, "allowed", server, 8080) == "ok"
    assert connect(kube, workloads, "denied", "server", 80) in ("refused", "timeout")
    assert connect(kube, workloads, "allowed", "server", 80) == "ok"
    assert enforced_after < 30

    kube.kubectl("-n", workloads, "delete", "networkpolicy", "server-ingress")
    assert eventually(lambda: connect(kube, workloads, "denied", server, 8080) == "ok", timeout=30,
                      interval=0.5)
