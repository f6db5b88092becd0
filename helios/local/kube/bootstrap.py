"""The one-off steps of the cluster's `up`, between its daemons: the host checked and recorded,
the images imported, the cluster's own manifests applied, and the waits for the node to
register and to be Ready with CoreDNS serving.

Each returns a line saying what it did, or raises :class:`ClusterError` saying what to do.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

from helios.local.kube import guard, hoststate, teardown
from helios.local.kube.cluster import Cluster, ClusterError
from helios.local.probes import wait

# The binaries scripts/kube-install.sh builds into the cache.
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet",
            "kube-proxy", "kube-router", "kubectl", "crictl")


def prepare_host(cluster: Cluster) -> str:
    """Root, the binaries and images there, a previous cluster that was never torn down
    cleaned first (its daemons gone, its mounts and rules still here), then the record and
    the guard that keeps the cluster's addresses on this machine."""
    if os.geteuid() != 0:
        raise ClusterError("the local Kubernetes needs root (it mounts, sets sysctls and "
                           "writes packet-filter rules)")
    missing = [name for name in BINARIES if not os.access(cluster.bin(name), os.X_OK)]
    missing += [image.archive.name for image in cluster.images if not image.archive.exists()]
    if missing:
        raise ClusterError(f"missing from {cluster.cache}: {', '.join(missing)}; run "
                           "`bash scripts/kube-install.sh` (make kube-up does)")
    said = ""
    if teardown.record_path(cluster).exists() and not teardown.our_processes(cluster):
        said = f"a cluster left running was cleaned first ({teardown.host(cluster)}); "
    said += hoststate.record(teardown.record_path(cluster))
    return f"{said}; {guard.install()}"


def import_images(cluster: Cluster) -> str:
    """Imports each image containerd lacks from its docker-archive; containerd's store is kept
    across `down`, so only the first start imports."""
    present = set(cluster.ctr("images", "ls", "-q").split())
    imported = []
    for image in cluster.images:
        if image.ref not in present:
            cluster.ctr("images", "import", str(image.archive), timeout=300)
            imported.append(image.ref)
    return f"imported {', '.join(imported)}" if imported else "all present"


def apply(cluster: Cluster, manifest: str) -> Callable[[], str]:
    def run() -> str:
        path = cluster.config / manifest
        applied = cluster.kubectl("apply", "--server-side", "--force-conflicts",
                                  "--field-manager", "helios-local", "-f", str(path))
        return f"applied {manifest} ({len(applied.splitlines())} objects)"
    return run


def _node(cluster: Cluster) -> dict[str, object] | None:
    try:
        node: dict[str, object] = json.loads(cluster.kubectl(
            "get", "node", cluster.node_name, "-o", "json", timeout=10))
    except ClusterError:
        return None
    return node


def _ready(item: dict[str, object]) -> bool:
    status = item.get("status")
    conditions = status.get("conditions", []) if isinstance(status, dict) else []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def wait_registered(cluster: Cluster, timeout: float = 60.0) -> str:
    """kube-router reads the node's object at start: it must exist first."""
    if not wait(lambda: _node(cluster) is not None, timeout, interval=0.5):
        raise ClusterError(f"node {cluster.node_name} did not register in {timeout:.0f}s "
                           f"(see {cluster.logs}/kubelet.log)")
    return f"{cluster.node_name} registered"


def wait_ready(cluster: Cluster, timeout: float = 120.0) -> str:
    """The node Ready, then the CoreDNS pod Ready: its Deployment says Available at once with
    one replica and maxUnavailable 1, which proves nothing."""
    started = time.monotonic()

    def node_ready() -> bool:
        node = _node(cluster)
        return node is not None and _ready(node)

    def dns_ready() -> bool:
        try:
            listed = json.loads(cluster.kubectl("-n", "kube-system", "get", "pods", "-l",
                                                "k8s-app=kube-dns", "-o", "json", timeout=10))
        except ClusterError:
            return False
        return any(_ready(pod) for pod in listed.get("items", []))

    if not wait(node_ready, timeout, interval=0.5):
        raise ClusterError(f"node {cluster.node_name} not Ready after {timeout:.0f}s "
                           f"(see {cluster.logs}/kubelet.log)")
    node_seconds = time.monotonic() - started
    if not wait(dns_ready, timeout, interval=0.5):
        raise ClusterError(f"CoreDNS not Ready after {timeout:.0f}s: kubectl -n kube-system "
                           "describe pod -l k8s-app=kube-dns")
    return (f"node Ready in {node_seconds:.1f}s, CoreDNS in {time.monotonic() - started:.1f}s; "
            f"export KUBECONFIG={cluster.kubeconfig}")
