"""The cluster's daemons as processes for the supervisor, each with the probe that says it
serves: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd, the kubelet,
kube-proxy, kube-router (its network-policy controller alone) and metrics-server.

Listeners: etcd, the controller-manager, the scheduler, the kubelet's health and kube-proxy's
health and metrics on 127.0.0.1; the API server and the kubelet's API on the node's address
(pods reach the API through the ``kubernetes`` Service, which kube-proxy sends there); nothing on
0.0.0.0. Every file a daemon writes is under the cluster's state directory.
"""

from __future__ import annotations

from pathlib import Path

from helios.local import network
from helios.local.kube import cluster as facts
from helios.local.kube.cluster import Cluster
from helios.local.probes import Probe, command, http
from helios.local.process import Spec


def specs(cluster: Cluster) -> dict[str, Spec]:
    return {spec.name: spec for spec in (
        etcd(cluster), apiserver(cluster), controller_manager(cluster), scheduler(cluster),
        containerd(cluster), kubelet(cluster), kube_proxy(cluster), kube_router(cluster),
        metrics_server(cluster))}


def _spec(cluster: Cluster, name: str, argv: list[str], ready: Probe, port: int | None,
          *, timeout: float = 60.0, stop_timeout: float = 15.0) -> Spec:
    return Spec(name=name, argv=argv, log=cluster.logs / f"{name}.log", env=dict(cluster.env),
                ready=ready, ready_timeout=timeout, stop_timeout=stop_timeout, port=port,
                cwd=Path("/"))


def etcd(cluster: Cluster) -> Spec:
    """One member on loopback, plain HTTP: nothing but the API server on this machine talks
    to it."""
    client = f"http://127.0.0.1:{facts.ETCD_PORT}"
    peer = f"http://127.0.0.1:{facts.ETCD_PEER_PORT}"
    data = cluster.state / "etcd"
    return _spec(cluster, "etcd", [
        cluster.bin("etcd"), "--name", "helios", "--data-dir", str(data),
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", f"helios={peer}", "--log-level", "warn",
        "--quota-backend-bytes", str(2 * 2**30), "--snapshot-count", "10000",
    ], http(f"{client}/health"), facts.ETCD_PORT, timeout=30.0)


def apiserver(cluster: Cluster) -> Spec:
    pki = cluster.pki
    return _spec(cluster, "kube-apiserver", [
        cluster.bin("kube-apiserver"),
        "--etcd-servers", f"http://127.0.0.1:{facts.ETCD_PORT}",
        "--bind-address", cluster.node_ip, "--secure-port", str(facts.API_PORT),
        "--advertise-address", cluster.node_ip,
        # Its default, /var/run/kubernetes, would be made even with the certificate given.
        "--cert-dir", str(cluster.state / "apiserver"),
        "--service-cluster-ip-range", network.SERVICE_NETWORK,
        "--service-node-port-range", facts.NODE_PORTS,
        "--client-ca-file", f"{pki}/ca.crt",
        "--tls-cert-file", f"{pki}/apiserver.crt", "--tls-private-key-file", f"{pki}/apiserver.key",
        "--kubelet-client-certificate", f"{pki}/apiserver-kubelet-client.crt",
        "--kubelet-client-key", f"{pki}/apiserver-kubelet-client.key",
        "--kubelet-certificate-authority", f"{pki}/ca.crt",
        # The node's name resolves to 127.0.0.1 in /etc/hosts here: use its address.
        "--kubelet-preferred-address-types", "InternalIP,Hostname",
        # The aggregation layer: without it the controller-manager and the scheduler log a
        # missing requestheader CA every few seconds, and an aggregated API cannot be served.
        "--requestheader-client-ca-file", f"{pki}/front-proxy-ca.crt",
        "--requestheader-allowed-names", "front-proxy-client",
        "--requestheader-username-headers", "X-Remote-User",
        "--requestheader-group-headers", "X-Remote-Group",
        "--requestheader-extra-headers-prefix", "X-Remote-Extra-",
        "--proxy-client-cert-file", f"{pki}/front-proxy-client.crt",
        "--proxy-client-key-file", f"{pki}/front-proxy-client.key",
        "--enable-aggregator-routing=true",
        "--service-account-key-file", f"{pki}/sa.pub",
        "--service-account-signing-key-file", f"{pki}/sa.key",
        "--service-account-issuer", f"https://kubernetes.default.svc.{facts.DOMAIN}",
        "--authorization-mode", "Node,RBAC", "--enable-admission-plugins", "NodeRestriction",
        "--allow-privileged=true", "--profiling=false", "--v=1",
    ], http(f"{cluster.api_url}/readyz"), facts.API_PORT, timeout=90.0, stop_timeout=20.0)


def controller_manager(cluster: Cluster) -> Spec:
    pki, kubeconfig = cluster.pki, f"{cluster.pki}/controller-manager.kubeconfig"
    return _spec(cluster, "kube-controller-manager", [
        cluster.bin("kube-controller-manager"),
        "--kubeconfig", kubeconfig, "--authentication-kubeconfig", kubeconfig,
        "--authorization-kubeconfig", kubeconfig,
        "--bind-address", "127.0.0.1", "--secure-port", str(facts.CONTROLLER_MANAGER_PORT),
        "--leader-elect=false",
        "--service-account-private-key-file", f"{pki}/sa.key", "--root-ca-file", f"{pki}/ca.crt",
        "--cluster-signing-cert-file", f"{pki}/ca.crt",
        "--cluster-signing-key-file", f"{pki}/ca.key",
        "--use-service-account-credentials=true",
        "--allocate-node-cidrs=true", "--cluster-cidr", network.POD_NETWORK,
        "--node-cidr-mask-size", "24", "--service-cluster-ip-range", network.SERVICE_NETWORK,
        "--v=1",
    ], http(f"https://127.0.0.1:{facts.CONTROLLER_MANAGER_PORT}/healthz"),
        facts.CONTROLLER_MANAGER_PORT)


def scheduler(cluster: Cluster) -> Spec:
    kubeconfig = f"{cluster.pki}/scheduler.kubeconfig"
    return _spec(cluster, "kube-scheduler", [
        cluster.bin("kube-scheduler"), "--config", str(cluster.config / "kube-scheduler.yaml"),
        "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
        "--bind-address", "127.0.0.1", "--secure-port", str(facts.SCHEDULER_PORT), "--v=1",
    ], http(f"https://127.0.0.1:{facts.SCHEDULER_PORT}/healthz"), facts.SCHEDULER_PORT)


def containerd(cluster: Cluster) -> Spec:
    """Debian's containerd with a config of its own; ready once it answers on its socket."""
    return _spec(cluster, "containerd", [
        "containerd", "--config", str(cluster.config / "containerd.toml"),
    ], command(["ctr", "--address", str(cluster.socket), "version"]), None, timeout=30.0,
        stop_timeout=20.0)


def kubelet(cluster: Cluster) -> Spec:
    kubelet_dir = cluster.state / "kubelet"
    return _spec(cluster, "kubelet", [
        cluster.bin("kubelet"), "--config", str(cluster.config / "kubelet.yaml"),
        "--kubeconfig", f"{cluster.pki}/kubelet.kubeconfig",
        # The default, /var/lib/kubelet, is outside the state directory.
        "--root-dir", str(kubelet_dir), "--cert-dir", str(kubelet_dir / "pki"),
        "--hostname-override", cluster.node_name, "--node-ip", cluster.node_ip, "--v=1",
    ], http(f"http://127.0.0.1:{facts.KUBELET_HEALTH_PORT}/healthz"), facts.KUBELET_PORT,
        stop_timeout=20.0)


def kube_proxy(cluster: Cluster) -> Spec:
    return _spec(cluster, "kube-proxy", [
        cluster.bin("kube-proxy"), "--config", str(cluster.config / "kube-proxy.yaml"), "--v=1",
    ], http(f"http://127.0.0.1:{facts.PROXY_HEALTH_PORT}/healthz"), facts.PROXY_HEALTH_PORT)


def kube_router(cluster: Cluster) -> Spec:
    """The network-policy controller alone (no BGP, no service proxy: kube-proxy has those).
    Its health and metrics servers are off: they would listen on every interface. It is
    ready once its filter chains exist, which it makes on its first full sync."""
    return _spec(cluster, "kube-router", [
        cluster.bin("kube-router"), "--kubeconfig", f"{cluster.pki}/kube-router.kubeconfig",
        "--hostname-override", cluster.node_name,
        "--run-firewall=true", "--run-router=false", "--run-service-proxy=false",
        "--service-cluster-ip-range", network.SERVICE_NETWORK,
        "--service-node-port-range", facts.NODE_PORTS,
        "--health-port", "0", "--metrics-port", "0", "--v=1",
    ], command(["/usr/sbin/iptables", "-w", "5", "-S", "KUBE-ROUTER-FORWARD"]), None)


def metrics_server(cluster: Cluster) -> Spec:
    """The resource metrics API (metrics.k8s.io) that HorizontalPodAutoscalers read: it
    scrapes the kubelet's /metrics/resource and is served through the API server's aggregation
    layer (templates/metrics-server.yaml registers it, at the node's address)."""
    pki = cluster.pki
    kubeconfig = f"{pki}/metrics-server.kubeconfig"
    return _spec(cluster, "metrics-server", [
        cluster.bin("metrics-server"), "--kubeconfig", kubeconfig,
        "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
        "--bind-address", cluster.node_ip, "--secure-port", str(facts.METRICS_SERVER_PORT),
        "--tls-cert-file", f"{pki}/metrics-server-serving.crt",
        "--tls-private-key-file", f"{pki}/metrics-server-serving.key",
        "--kubelet-preferred-address-types", "InternalIP",
        "--kubelet-certificate-authority", f"{pki}/ca.crt",
        "--metric-resolution", "15s",
    ], http(f"https://{cluster.node_ip}:{facts.METRICS_SERVER_PORT}/readyz"),
        facts.METRICS_SERVER_PORT, timeout=90.0)
