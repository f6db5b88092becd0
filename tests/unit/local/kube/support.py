"""A cluster's facts with its state under a test's own folder (no traffic: the addresses only
end up in files)."""

from __future__ import annotations

from pathlib import Path

from helios.local.kube.cluster import HERE, Cluster, read_versions


def cluster_in(folder: Path, *, node_ip: str = "192.0.2.2", name: str = "node-a") -> Cluster:
    return Cluster(state=folder / "kube", cache=folder / "cache", logs=folder / "logs",
                   node_name=name, node_ip=node_ip,
                   versions=read_versions((HERE / "versions.env").read_text()),
                   env={"PATH": "/usr/bin:/bin"})
