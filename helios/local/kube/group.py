"""The supervisor's ``kube`` group: `helios local up kube` runs its steps in order, `helios
local down kube` undoes them newest first, running each :class:`Teardown` at its place.

    up                                   down (read from the bottom)
    kube-host     root, binaries, record the host      <- teardown: the host sweep, last
    kube-pki      certificates, kubeconfigs
    kube-config   every daemon's config, the manifests
    etcd, kube-apiserver
    kube-rbac     kube-router's ClusterRole
    kube-controller-manager, kube-scheduler, containerd
                                         kube-pods: pod sandboxes through the CRI, with
                                         containerd still up and the kubelet stopped
    kube-images   import what containerd lacks
    kubelet, kube-proxy
    kube-node     the node registered (kube-router reads it at start)
    kube-router
    coredns       the Deployment and the kube-dns Service
    kube-host-service  `host`: this machine's Kafka, PostgreSQL and Redis, as pods reach them
    kube-metrics  the metrics API registered, then metrics-server (HorizontalPodAutoscalers)
    kube-ready    the node Ready, CoreDNS Ready
"""

from __future__ import annotations

from helios.local.kube import bootstrap, config, daemons, pki, teardown
from helios.local.kube.cluster import Cluster
from helios.local.layout import Layout
from helios.local.supervisor import Step, Task, Teardown
from helios.platform.settings import Environ


def steps(layout: Layout, env: Environ) -> list[Step]:
    cluster = Cluster.from_env(layout, env)
    spec = daemons.specs(cluster)
    return [
        Task("kube-host", lambda: bootstrap.prepare_host(cluster)),
        Teardown("kube-host", lambda: teardown.host(cluster)),
        Task("kube-pki", lambda: pki.ensure(cluster)),
        Task("kube-config", lambda: config.render(cluster)),
        spec["etcd"], spec["kube-apiserver"],
        Task("kube-rbac", bootstrap.apply(cluster, "rbac.yaml")),
        spec["kube-controller-manager"], spec["kube-scheduler"], spec["containerd"],
        Teardown("kube-pods", lambda: teardown.pods(cluster)),
        Task("kube-images", lambda: bootstrap.import_images(cluster)),
        spec["kubelet"], spec["kube-proxy"],
        Task("kube-node", lambda: bootstrap.wait_registered(cluster)),
        spec["kube-router"],
        Task("coredns", bootstrap.apply(cluster, "coredns.yaml")),
        Task("kube-host-service", bootstrap.apply(cluster, "host.yaml")),
        Task("kube-metrics", bootstrap.apply(cluster, "metrics-server.yaml")),
        spec["metrics-server"],
        Task("kube-ready", lambda: bootstrap.wait_ready(cluster)),
    ]
