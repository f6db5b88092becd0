"""How the local Kubernetes (`make kube-up`) reaches the servers `make up` runs on this machine.

Pods are on their own network (POD_NETWORK) and reach the host at the node's address, this
machine's own address on its default-route device; the node is this machine. A server bound to
127.0.0.1 alone refuses them, so with CLUSTER_ACCESS on (the default) the local servers also
listen on that address: Kafka on its own listener, CLUSTER_KAFKA_PORT, advertised under that
address; PostgreSQL with a password rule for POD_NETWORK; Redis without protected mode (it
has no password, so it refuses every non-loopback client otherwise). These are development
servers: anything that can reach this machine's address can reach them too.
"""

from __future__ import annotations

import socket
from pathlib import Path

import psutil

from helios.platform.settings import Environ, Variable

# Addresses from the benchmarking block 198.18.0.0/15: the cluster's own, never routed.
POD_NETWORK = "198.18.0.0/24"
SERVICE_NETWORK = "198.19.0.0/24"
CLUSTER_KAFKA_PORT = 9094
CLUSTER_ACCESS = Variable(
    "HELIOS_LOCAL_CLUSTER_ACCESS", True,
    "make up: Kafka, PostgreSQL and Redis also listen on this machine's address, for the pods "
    "of the local Kubernetes (docs/kubernetes.md)")
NODE_IP = Variable(
    "HELIOS_LOCAL_NODE_IP", "", "make up and make kube-up: this machine's address that the "
    "node keeps and pods reach the local servers at, one of its own",
    shown="the default route's device's", allow_empty=True)


def node_address(env: Environ) -> str:
    """NODE_IP, else the first IPv4 address of the default route's device; "" without one."""
    if chosen := NODE_IP.read(env):
        return chosen
    try:
        device = default_device(Path("/proc/net/route").read_text())
    except OSError:
        return ""
    for address in psutil.net_if_addrs().get(device or "", []):
        if address.family == socket.AF_INET:
            return str(address.address)
    return ""


def default_device(routes: str) -> str | None:
    """The device of the IPv4 default route with the lowest metric, from /proc/net/route."""
    best: tuple[int, str] | None = None
    for line in routes.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8 or fields[1] != "00000000" or fields[7] != "00000000":
            continue
        metric = int(fields[6])
        if best is None or metric < best[0]:
            best = (metric, fields[0])
    return best[1] if best else None


def cluster_address(env: Environ) -> str | None:
    """The address the local servers add to their loopback one, or None for loopback only."""
    return (node_address(env) or None) if CLUSTER_ACCESS.read(env) else None
