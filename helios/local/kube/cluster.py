"""The local cluster's facts: where its state, binaries and images are, its addresses and ports,
and the three command-line clients (kubectl, crictl, ctr) aimed at it and nothing else.

Every address is this machine's own or the cluster's: the node keeps the address of the default
route's device, pods and Services get ranges from the benchmarking block 198.18.0.0/15, and
NodePorts answer on 127.0.0.1 only. Every port lies below Linux's ephemeral range and away from
the mesh's fixed ports, so neither `make up` nor a test's free port can collide with it.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from helios.local.layout import Layout
from helios.local.network import node_address
from helios.platform.settings import Environ

HERE = Path(__file__).parent
POD_GATEWAY = "198.18.0.1"  # the bridge's address on the host
API_SERVICE_IP = "198.19.0.1"  # the `kubernetes` Service: the range's first address
DNS_IP = "198.19.0.10"
DOMAIN = "cluster.local"
BRIDGE = "helios0"
NODE_PORTS = "30000-30100"

API_PORT = 6443
ETCD_PORT, ETCD_PEER_PORT = 2379, 2380
KUBELET_PORT, KUBELET_HEALTH_PORT = 10250, 10248
PROXY_METRICS_PORT, PROXY_HEALTH_PORT = 10249, 10256
CONTROLLER_MANAGER_PORT, SCHEDULER_PORT = 10257, 10259
METRICS_SERVER_PORT = 10262

# What a system directory holds that the daemons call by name: runc and the containerd shim,
# iptables, ipset, conntrack, mount.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ClusterError(RuntimeError):
    """The cluster cannot be set up or reached; the message says what to do."""


@dataclass(frozen=True)
class Image:
    ref: str
    archive: Path


@dataclass(frozen=True)
class Cluster:
    state: Path
    cache: Path
    logs: Path
    node_name: str
    # Empty when this machine has no default route and HELIOS_LOCAL_NODE_IP is unset: the first
    # step of `up` says so (building the steps must not fail for `helios local up infra`).
    node_ip: str
    versions: Mapping[str, str]
    env: Mapping[str, str]

    @classmethod
    def from_env(cls, layout: Layout, env: Environ) -> Cluster:
        node_ip = node_address(env)
        path = env.get("PATH", "")
        return cls(state=layout.state / "kube", cache=layout.cache / "kube", logs=layout.logs,
                   node_name=socket.gethostname().lower(), node_ip=node_ip,
                   versions=read_versions((HERE / "versions.env").read_text()),
                   env={**env, "PATH": f"{path}:{SYSTEM_PATH}" if path else SYSTEM_PATH})

    # ---- where things are ----

    def bin(self, name: str) -> str:
        return str(self.cache / "bin" / name)

    @property
    def pki(self) -> Path:
        return self.state / "pki"

    @property
    def config(self) -> Path:
        return self.state / "config"

    @property
    def kubeconfig(self) -> Path:
        """The admin's: `export KUBECONFIG=.helios/kube/kubeconfig`."""
        return self.state / "kubeconfig"

    @property
    def socket(self) -> Path:
        """containerd's: every CRI and ctr call names it, so another containerd on this
        machine is never touched."""
        return self.state / "containerd" / "containerd.sock"

    @property
    def cni_config(self) -> Path:
        return self.state / "cni" / "net.d"

    @property
    def cni_leases(self) -> Path:
        return self.state / "cni" / "networks"

    @property
    def images(self) -> list[Image]:
        folder = self.cache / "images"
        return [Image(self.versions["PAUSE_IMAGE"], folder / "pause.tar"),
                Image(self.versions["COREDNS_IMAGE"], folder / "coredns.tar"),
                Image(self.versions["TESTBOX_IMAGE"], folder / "testbox.tar")]

    @property
    def api_url(self) -> str:
        return f"https://{self.node_ip}:{API_PORT}"

    # ---- clients ----

    def kubectl(self, *args: str, stdin: str | None = None, timeout: float = 60) -> str:
        return self._run([self.bin("kubectl"), "--kubeconfig", str(self.kubeconfig)], args,
                         stdin, timeout)

    def crictl(self, *args: str, timeout: float = 60) -> str:
        endpoint = f"unix://{self.socket}"
        return self._run([self.bin("crictl"), "--runtime-endpoint", endpoint,
                          "--image-endpoint", endpoint, "--timeout", "30s"], args, None, timeout)

    def ctr(self, *args: str, timeout: float = 120) -> str:
        return self._run(["ctr", "--address", str(self.socket), "--namespace", "k8s.io"], args,
                         None, timeout)

    def _run(self, command: Sequence[str], args: Sequence[str], stdin: str | None,
             timeout: float) -> str:
        """The command's output; ClusterError naming it (without its fixed flags) when it
        fails."""
        shown = f"{Path(command[0]).name} {' '.join(args)}"
        try:
            done = subprocess.run([*command, *args], input=stdin, capture_output=True,
                                  text=True, timeout=timeout, env=dict(self.env), check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClusterError(f"{shown}: {exc}") from exc
        if done.returncode != 0:
            raise ClusterError(f"{shown}: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout


def read_versions(text: str) -> dict[str, str]:
    """versions.env's KEY=VALUE lines (the shell sources the same file)."""
    pairs = (line.split("=", 1) for line in text.splitlines()
             if "=" in line and not line.lstrip().startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}
