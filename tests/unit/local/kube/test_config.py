"""The rendered configuration: every template filled in (valid YAML, TOML and JSON), every path
under the state directory, every listener on loopback or the node's own address."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import yaml

from helios.local.kube import config, pki
from helios.local.kube.cluster import ClusterError
from helios.local.network import POD_NETWORK
from tests.unit.local.kube.support import cluster_in


def test_every_file_is_rendered_and_parses(tmp_path: Path) -> None:
    cluster = cluster_in(tmp_path)
    pki.ensure(cluster)  # the metrics API's registration carries the cluster's CA

    config.render(cluster)

    containerd = tomllib.loads((cluster.config / "containerd.toml").read_text())
    cri = containerd["plugins"]["io.containerd.grpc.v1.cri"]
    assert containerd["grpc"]["address"] == str(cluster.socket)
    assert cri["restrict_oom_score_adj"] is True
    assert cri["sandbox_image"] == cluster.versions["PAUSE_IMAGE"]
    kubelet = yaml.safe_load((cluster.config / "kubelet.yaml").read_text())
    assert kubelet["address"] == "192.0.2.2" and kubelet["healthzBindAddress"] == "127.0.0.1"
    assert kubelet["resolvConf"] == ""
    assert kubelet["podLogsDir"].startswith(str(cluster.state))
    proxy = yaml.safe_load((cluster.config / "kube-proxy.yaml").read_text())
    assert proxy["nodePortAddresses"] == ["127.0.0.1/32"]
    coredns = list(yaml.safe_load_all((cluster.config / "coredns.yaml").read_text()))
    assert "forward" not in coredns[3]["data"]["Corefile"]
    cni = json.loads((cluster.cni_config / config.CNI_FILE).read_text())
    assert cni["plugins"][0]["ipam"]["ranges"] == [[{"subnet": POD_NETWORK,
                                                      "gateway": "198.18.0.1"}]]
    assert cni["plugins"][0]["ipam"]["dataDir"].startswith(str(cluster.state))


def test_every_path_in_the_configs_is_under_the_state_directory(tmp_path: Path) -> None:
    cluster = cluster_in(tmp_path)
    pki.ensure(cluster)  # the metrics API's registration carries the cluster's CA
    config.render(cluster)

    for name in ("containerd.toml", "kubelet.yaml", "kube-proxy.yaml", "kube-scheduler.yaml"):
        lines = (cluster.config / name).read_text().splitlines()
        text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
        paths = [word.strip('",') for word in text.split() if word.strip('"').startswith("/")]
        outside = [p for p in paths if not p.startswith(str(cluster.state))
                   and p not in ("/usr/lib/cni", "/usr/sbin/runc", "/")]
        assert outside == [], (name, outside)


def test_no_address_for_the_node_is_named_as_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match="HELIOS_LOCAL_NODE_IP"):
        config.render(cluster_in(tmp_path, node_ip=""))
