"""`helios local down kube` (`make kube-down`) puts the machine back: no KUBE-/CNI- rules or
chains, no ipsets, no bridge or veth, no mount under the state directory, no daemon, shim or
pod cgroup, the sysctls as recorded before the first daemon, no nft table but the ones that
were there. And a second `up` starts an empty cluster, which comes down clean again.

This module runs after test_cluster.py and leaves the cluster down."""

from __future__ import annotations

import subprocess
from pathlib import Path

from helios.local.kube import guard, hoststate, netfilter, teardown
from helios.local.kube.cluster import BRIDGE, Cluster
from tests.kube.conftest import Kube, cluster, local


def output(*argv: str) -> str:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=60,
                          check=False).stdout


def rules() -> list[str]:
    """Every rule and chain of both families that names the cluster's chains or comments."""
    saved = output("iptables-save") + output("ip6tables-save")
    return [line for line in saved.splitlines() if "KUBE-" in line or "CNI-" in line
            or "kube-router" in line]


def links() -> list[str]:
    return [line.split(": ")[1].split("@")[0]
            for line in output("ip", "-o", "link").splitlines()]


def mounts(of: Cluster) -> list[str]:
    return teardown.mounts_under(Path("/proc/self/mountinfo").read_text(), of.state)


def assert_clean(of: Cluster, record: hoststate.Record) -> None:
    assert rules() == []
    assert [name for name in output("ipset", "list", "-n").split()
            if netfilter.IPSETS.match(name)] == []
    assert BRIDGE not in links() and not [n for n in links() if n.startswith("veth")]
    assert mounts(of) == []
    assert teardown.our_processes(of) == []
    assert list(Path("/sys/fs/cgroup").glob("*/kubepods*")) == []
    assert hoststate.read_sysctls() == dict(record.sysctls)
    assert set(hoststate.nft_tables()) <= set(record.nft_tables)
    assert not (of.state / "etcd").exists()
    assert not teardown.record_path(of).exists()


def test_down_puts_the_host_back(kube: Kube) -> None:
    record = hoststate.Record.load(teardown.record_path(kube.cluster))
    assert record is not None
    # What the teardown must remove is there now: without it this test would prove nothing.
    assert rules() and BRIDGE in links() and mounts(kube.cluster)
    assert f"{guard.FAMILY} {guard.TABLE}" in hoststate.nft_tables()

    down = local("down", "kube")

    assert down.returncode == 0, down.stdout + down.stderr
    assert_clean(kube.cluster, record)


def test_a_second_up_starts_empty_and_comes_down_clean() -> None:
    up = local("up", "kube")
    assert up.returncode == 0, up.stdout + up.stderr
    again = Kube(cluster())
    record = hoststate.Record.load(teardown.record_path(again.cluster))
    assert record is not None

    namespaces = again.kubectl("get", "namespaces", "-o", "name").split()
    pods = again.kubectl("get", "pods", "-A", "-o", "name").split()

    # The last run's test namespace and pods went with the last cluster's etcd.
    assert not [n for n in namespaces if n.startswith("namespace/helios-test-")], namespaces
    assert len(pods) == 1 and pods[0].startswith("pod/coredns-"), pods
    down = local("down", "kube")
    assert down.returncode == 0, down.stdout + down.stderr
    assert_clean(again.cluster, record)
