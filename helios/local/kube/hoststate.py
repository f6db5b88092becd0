"""What the cluster changes on the host that is not its own to delete, recorded before the first
daemon starts and put back by the teardown: the sysctls the kubelet, kube-proxy and the bridge
plugin set, and the nft tables that existed (iptables-nft leaves empty tables behind, and only
the new ones are the cluster's).

The record is written once and removed only by a complete teardown, so a second `up` after a
crash cannot overwrite the machine's values with the cluster's. Its presence is also how the
teardown knows there is something to undo.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# The kubelet (vm.*, kernel.*), kube-proxy (route_localnet, conntrack) and the bridge plugin
# (forwarding) change these; the rest are read to show they were left alone.
SYSCTLS = (
    "vm.overcommit_memory", "vm.panic_on_oom", "kernel.panic", "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys", "kernel.keys.root_maxbytes",
    "net.ipv4.conf.all.route_localnet", "net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding",
    "net.ipv6.conf.all.forwarding", "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables", "net.netfilter.nf_conntrack_max",
    "net.netfilter.nf_conntrack_tcp_timeout_established",
    "net.netfilter.nf_conntrack_tcp_timeout_close_wait",
)
PROC_SYS = Path("/proc/sys")


@dataclass(frozen=True)
class Record:
    sysctls: Mapping[str, str]
    nft_tables: tuple[str, ...]

    @classmethod
    def load(cls, path: Path) -> Record | None:
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return cls(data["sysctls"], tuple(data["nft_tables"]))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"sysctls": dict(self.sysctls),
                                    "nft_tables": list(self.nft_tables)}, indent=1) + "\n")


def sysctl_path(name: str, root: Path = PROC_SYS) -> Path:
    return root / name.replace(".", "/")


def read_sysctls(names: tuple[str, ...] = SYSCTLS, root: Path = PROC_SYS) -> dict[str, str]:
    """The values of those that exist here (br_netfilter or conntrack may not be loaded)."""
    values = {}
    for name in names:
        try:
            values[name] = sysctl_path(name, root).read_text().strip()
        except OSError:
            continue
    return values


def restore_sysctls(wanted: Mapping[str, str], root: Path = PROC_SYS) -> tuple[list[str],
                                                                                list[str]]:
    """Writes back each value that differs; returns (restored, failed) names."""
    restored, failed = [], []
    for name, value in wanted.items():
        path = sysctl_path(name, root)
        try:
            if path.read_text().strip() == value:
                continue
            path.write_text(value + "\n")
            restored.append(name)
        except OSError:
            failed.append(name)
    return restored, failed


def nft_tables() -> tuple[str, ...]:
    """``family name`` of every nft table (``nft list tables``)."""
    try:
        listed = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True,
                                timeout=30, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return tuple(" ".join(line.split()[1:3]) for line in listed.splitlines()
                 if line.startswith("table "))


def record(path: Path) -> str:
    """Records the host once; returns what it did."""
    if path.exists():
        return f"host state recorded earlier kept ({path.name}): a teardown has yet to finish"
    Record(read_sysctls(), nft_tables()).save(path)
    return f"host state recorded ({len(read_sysctls())} sysctls, nft tables)"
