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

import json
import subprocess
from typing import Any

from helios.platform.settings import Environ, Variable

# Addresses from the benchmarking block 198.18.0.0/15: the cluster's own, never routed.
POD_NETWORK = "198.18.0.0/24"
SERVICE_NETWORK = "198.19.0.0/24"
CLUSTER_KAFKA_PORT = 9094
CLUSTER_ACCESS = Variable(
    "HELIOS_LOCAL_CLUSTER_ACCESS", True,
    "make up: Kafka, PostgreSQL and Redis also listen on this machine's address, for the pods "
    "of the local Kubernetes (docs/kubernetes.md)")


def node_address() -> str | None:
    """This machine's IPv4 address on the device of its default route, or None without one."""
    try:
        routes = _ip("route", "show", "default")
        device = next(route["dev"] for route in routes if "dev" in route)
        (link,) = _ip("addr", "show", "dev", device)
    except (OSError, subprocess.CalledProcessError, StopIteration, ValueError):
        return None
    addresses = [info["local"] for info in link.get("addr_info", [])
                 if info.get("family") == "inet" and info.get("scope") == "global"]
    return addresses[0] if addresses else None


def cluster_address(env: Environ) -> str | None:
    """The address the local servers add to their loopback one, or None for loopback only."""
    return node_address() if CLUSTER_ACCESS.read(env) else None


def _ip(*args: str) -> list[dict[str, Any]]:
    out = subprocess.run(["ip", "-j", "-4", *args], capture_output=True, text=True,
                         check=True).stdout
    return list(json.loads(out or "[]"))
