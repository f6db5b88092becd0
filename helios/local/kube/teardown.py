"""Putting the machine back after the cluster, in two steps the supervisor runs at their place
in `down` (a group's steps are undone newest first):

:func:`pods`, after the kubelet stopped and while containerd still runs: every pod sandbox
removed through the CRI, so the CNI plugins release their addresses, veths and NAT chains
themselves (with containerd gone they never would).

:func:`host`, after every daemon stopped: what is left, in this order -- containerd's shims for
our socket and any process still in a pod's cgroup; kube-proxy's and kube-router's own rule
cleanups, then a sweep of rules, chains, ipsets and empty nft tables
(:mod:`helios.local.kube.netfilter`) and the guard's table (:mod:`helios.local.kube.guard`);
every mount under the state directory, deepest first (the
kubelet's projected and secret tmpfs, network namespaces, overlay root filesystems); the veths
on the bridge and the bridge; the kubelet's cgroups; the sysctls recorded before the first
daemon (:mod:`helios.local.kube.hoststate`); and the cluster's data, so the next `up` starts an
empty cluster. The certificates, the rendered configs and containerd's image store are kept:
the next `up` reuses them.

Everything is scoped to this cluster: our socket, our state directory, our bridge. Each step
checks before it acts, so a teardown after a crash, or a second one, is safe.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import psutil

from helios.local.kube import guard, hoststate, netfilter
from helios.local.kube.cluster import BRIDGE, Cluster, ClusterError

CGROUP_ROOT = Path("/sys/fs/cgroup")
# Removed at teardown: what the next `up` must not find (the cluster's objects, pods, leases).
DATA = ("etcd", "kubelet", "pod-logs", "apiserver", "containerd/state", "containerd/runc",
        "cni/networks")
# Written outside the state directory whatever the flags say: the kubelet's device-plugin
# socket (a path compiled in) and libcni's result cache (containerd 1.6 cannot move it; each
# pod's entry goes with the pod). Removed when nothing else is in them.
OUTSIDE_FILES = (Path("/var/lib/kubelet/device-plugins/kubelet.sock"),)
OUTSIDE_FOLDERS = (Path("/var/lib/kubelet/device-plugins"), Path("/var/lib/kubelet"),
                   Path("/var/lib/cni/results"), Path("/var/lib/cni"))


def record_path(cluster: Cluster) -> Path:
    return cluster.state / "host-before.json"


def pods(cluster: Cluster) -> str:
    if not record_path(cluster).exists():
        return "nothing to remove (no cluster since the last teardown)"
    try:
        cluster.ctr("version", timeout=10)
    except ClusterError:
        return "containerd is not running: the host sweep removes what pods left"
    listed = cluster.crictl("pods", "-q").split()
    if not listed:
        return "no pod sandboxes"
    try:
        cluster.crictl("rmp", "--all", "--force", timeout=120)
    except ClusterError:
        # A sandbox being torn down by the CRI at that moment fails once; the second pass
        # finds it gone.
        cluster.crictl("rmp", "--all", "--force", timeout=120)
    return f"removed {len(listed)} pod sandbox(es) through the CRI"


def host(cluster: Cluster) -> str:
    path = record_path(cluster)
    record = hoststate.Record.load(path)
    if record is None:
        return "nothing to put back (no cluster since the last teardown)"
    said = []
    killed = kill_leftovers(cluster)
    if killed:
        said.append(f"killed {killed} leftover process(es)")
    own_cleanups(cluster)
    rules = netfilter.sweep_iptables()
    sets = netfilter.sweep_ipsets()
    guard.remove()
    tables = netfilter.sweep_nft(record.nft_tables)
    said.append(f"{rules} rules/chains, {sets} ipsets, {len(tables)} nft tables removed")
    mounts, left = unmount_under(cluster.state)
    said.append(f"{mounts} mounts removed" + (f" ({len(left)} LEFT: {left[:3]})" if left else ""))
    links = remove_links()
    said.append(f"{links} links removed")
    remove_cgroups()
    restored, failed = hoststate.restore_sysctls(record.sysctls)
    said.append(f"sysctls restored: {', '.join(restored) or 'none changed'}")
    for name in DATA:
        shutil.rmtree(cluster.state / name, ignore_errors=True)
    _remove_outside()
    if left or failed:
        raise ClusterError(f"teardown incomplete: mounts left {left}, sysctls not restored "
                           f"{failed}; run `make kube-down` again ({'; '.join(said)})")
    path.unlink()
    return "; ".join(said)


def our_processes(cluster: Cluster) -> list[psutil.Process]:
    """The cluster's daemons and shims still running: a binary from its cache, containerd
    with its config, a shim serving its socket."""
    bins, socket, config = str(cluster.cache / "bin") + "/", str(cluster.socket), str(
        cluster.config / "containerd.toml")
    found = []
    for process in psutil.process_iter(["cmdline"]):
        argv = process.info["cmdline"] or []
        if argv and (argv[0].startswith(bins) or config in argv or
                     ("containerd-shim" in argv[0] and socket in argv)):
            found.append(process)
    return found


def pod_processes(proc: Path = Path("/proc")) -> list[int]:
    """Processes in one of the kubelet's pod cgroups (a container a dead shim left running)."""
    pids = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if "/kubepods" in (entry / "cgroup").read_text():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def kill_leftovers(cluster: Cluster) -> int:
    victims = [p.pid for p in our_processes(cluster)] + pod_processes()
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    psutil.wait_procs([p for p in map(_process, victims) if p is not None], timeout=10)
    return len(victims)


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def own_cleanups(cluster: Cluster) -> None:
    """kube-proxy's and kube-router's own removal of their rules (they know their ipsets and
    nftables objects best); failures are left to the sweep that follows."""
    commands = [[cluster.bin("kube-proxy"), "--config", str(cluster.config / "kube-proxy.yaml"),
                 "--cleanup"],
                [cluster.bin("kube-router"), "--cleanup-config", "--run-router=false",
                 "--run-service-proxy=false"]]
    for argv in commands:
        if Path(argv[0]).exists():
            subprocess.run(argv, capture_output=True, timeout=60, check=False,
                           env=dict(cluster.env))


def mounts_under(mountinfo: str, root: Path) -> list[str]:
    """Mount points at or below ``root``, deepest first (``/proc/self/mountinfo``'s fifth
    field, octal escapes undone)."""
    prefix = str(root).rstrip("/") + "/"
    points = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
        if point.startswith(prefix) or point == prefix.rstrip("/"):
            points.append(point)
    return sorted(set(points), key=lambda p: (p.count("/"), p), reverse=True)


def unmount_under(root: Path) -> tuple[int, list[str]]:
    """Unmounts everything under ``root`` (lazily when busy); returns (count, still there)."""
    count = 0
    for _ in range(3):
        points = mounts_under(Path("/proc/self/mountinfo").read_text(), root)
        if not points:
            break
        for point in points:
            if subprocess.run(["umount", point], capture_output=True, check=False).returncode:
                subprocess.run(["umount", "-l", point], capture_output=True, check=False)
            count += 1
    return count, mounts_under(Path("/proc/self/mountinfo").read_text(), root)


def remove_links() -> int:
    """The veths still on the cluster's bridge, then the bridge."""
    shown = subprocess.run(["ip", "-o", "link", "show", "master", BRIDGE], capture_output=True,
                           text=True, check=False)
    if shown.returncode != 0:
        return 0
    names = [line.split(": ")[1].split("@")[0] for line in shown.stdout.splitlines()
             if ": " in line]
    for name in [*names, BRIDGE]:
        subprocess.run(["ip", "link", "del", name], capture_output=True, check=False)
    return len(names) + 1


def remove_cgroups(root: Path = CGROUP_ROOT) -> None:
    """The kubelet's ``kubepods`` trees under each cgroup v1 controller (and the unified
    tree), innermost first; a cgroup with a process left in it stays."""
    for tree in [*root.glob("*/kubepods"), *root.glob("*/kubepods.slice"), root / "kubepods"]:
        if not tree.is_dir():
            continue
        for folder, _, _ in sorted(os.walk(tree), key=lambda entry: -entry[0].count("/")):
            try:
                os.rmdir(folder)
            except OSError:
                continue


def _remove_outside() -> None:
    """What the cluster had to write outside its state directory, where nothing else is left
    in it. containerd 1.6 also puts shim sockets in /run/containerd/s whatever its state
    directory; that folder is shared with any other containerd here, so it goes only when
    empty and no containerd runs."""
    for path in OUTSIDE_FILES:
        path.unlink(missing_ok=True)
    folders = list(OUTSIDE_FOLDERS)
    if not any(p.info["name"] == "containerd" for p in psutil.process_iter(["name"])):
        folders += [Path("/run/containerd/s"), Path("/run/containerd")]
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            continue
