"""Every daemon's configuration and the cluster's own manifests, rendered on each start from
``templates/`` with the cluster's facts (:mod:`helios.local.kube.cluster`), so a changed address
or path never leaves a stale file behind. ``string.Template.substitute`` fails on a name the
template uses and the facts lack.

    config/containerd.toml, kubelet.yaml, kube-proxy.yaml, kube-scheduler.yaml
    config/rbac.yaml, coredns.yaml, host.yaml, metrics-server.yaml
                                             applied once the API server (or the node) is up
    cni/net.d/10-helios.conflist             bridge + host-local + portmap (Debian's plugins)
"""

from __future__ import annotations

import base64
import json
import string
from pathlib import Path
from urllib.parse import urlsplit

from helios.local import network
from helios.local.kube import cluster as facts
from helios.local.kube.cluster import Cluster
from helios.platform.settings import DATABASE_URL, REDIS_URL

TEMPLATES = Path(__file__).parent / "templates"
FILES = ("containerd.toml", "kubelet.yaml", "kube-proxy.yaml", "kube-scheduler.yaml",
         "rbac.yaml", "coredns.yaml", "host.yaml", "metrics-server.yaml")
CNI_FILE = "10-helios.conflist"


def values(cluster: Cluster) -> dict[str, str]:
    return {
        "state": str(cluster.state), "pki": str(cluster.pki), "socket": str(cluster.socket),
        "cni_config": str(cluster.cni_config), "node_name": cluster.node_name,
        "node_ip": cluster.node_ip, "pod_cidr": network.POD_NETWORK, "dns_ip": facts.DNS_IP,
        "domain": facts.DOMAIN, "pause_image": cluster.versions["PAUSE_IMAGE"],
        "coredns_image": cluster.versions["COREDNS_IMAGE"],
        "kubelet_port": str(facts.KUBELET_PORT),
        "kubelet_health_port": str(facts.KUBELET_HEALTH_PORT),
        "proxy_health_port": str(facts.PROXY_HEALTH_PORT),
        "proxy_metrics_port": str(facts.PROXY_METRICS_PORT),
        "metrics_server_port": str(facts.METRICS_SERVER_PORT),
        "ca_bundle": base64.b64encode((cluster.pki / "ca.crt").read_bytes()).decode(),
        "kafka_port": str(network.CLUSTER_KAFKA_PORT),
        "postgres_port": str(urlsplit(DATABASE_URL.read(cluster.env)).port or 5432),
        "redis_port": str(urlsplit(REDIS_URL.read(cluster.env)).port or 6379),
    }


def cni(cluster: Cluster) -> dict[str, object]:
    """One bridge for every pod, its address the pods' gateway on the host; host-local leases
    under the state directory (the default is /var/lib/cni)."""
    return {
        "cniVersion": "0.4.0",
        "name": "helios",
        "plugins": [
            {"type": "bridge", "bridge": facts.BRIDGE, "isGateway": True, "ipMasq": True,
             # A pod reaching its own Service comes back through the bridge port it left by.
             "hairpinMode": True,
             "ipam": {"type": "host-local", "dataDir": str(cluster.cni_leases),
                      "ranges": [[{"subnet": network.POD_NETWORK, "gateway": facts.POD_GATEWAY}]],
                      "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def render(cluster: Cluster) -> str:
    """Writes every file; returns where."""
    if not cluster.node_ip:
        raise facts.ClusterError("no address for the node: this machine has no IPv4 default "
                                 "route; set HELIOS_LOCAL_NODE_IP to one of its addresses")
    given = values(cluster)
    cluster.config.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        text = string.Template((TEMPLATES / name).read_text()).substitute(given)
        (cluster.config / name).write_text(text)
    cluster.cni_config.mkdir(parents=True, exist_ok=True)
    cluster.cni_leases.mkdir(parents=True, exist_ok=True)
    (cluster.cni_config / CNI_FILE).write_text(json.dumps(cni(cluster), indent=2) + "\n")
    return f"rendered into {cluster.config} (node {cluster.node_name} {cluster.node_ip})"
