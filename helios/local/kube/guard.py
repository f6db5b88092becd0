"""The cluster's addresses never leave this machine: an nft table of the cluster's own drops
every packet about to go out by a device other than the bridge or loopback with a pod's source
address or a pod or Service destination.

Without it a pod's packet to a Service port nobody defined, or to anywhere outside, is routed
by the default route and masqueraded out of the machine (a pod's GET to 198.19.0.1:80 was
answered from beyond the default gateway). With it such a packet is dropped, and counted.

It is a table of its own at the postrouting hook, not an iptables rule: kube-proxy and
kube-router own the iptables chains (and kube-router ACCEPTs what its policies allow), while a
drop in any base chain of a hook is final. Its priority runs it before NAT rewrites the source.
"""

from __future__ import annotations

import json
import subprocess

from helios.local.kube.cluster import BRIDGE, ClusterError
from helios.local.network import POD_NETWORK, SERVICE_NETWORK

FAMILY, TABLE = "ip", "helios-kube"


def ruleset() -> str:
    keep = f'{{ "{BRIDGE}", "lo" }}'
    ranges = f"{{ {POD_NETWORK}, {SERVICE_NETWORK} }}"
    return f"""table {FAMILY} {TABLE} {{
  chain stay-local {{
    type filter hook postrouting priority filter; policy accept;
    oifname != {keep} ip saddr {POD_NETWORK} counter drop comment "a pod's packet"
    oifname != {keep} ip daddr {ranges} counter drop comment "to the cluster"
  }}
}}
"""


def install() -> str:
    """(Re)writes the table; a restart of `up` does not duplicate its rules."""
    remove()
    done = subprocess.run(["nft", "-f", "-"], input=ruleset(), capture_output=True, text=True,
                          timeout=30, check=False)
    if done.returncode != 0:
        raise ClusterError(f"nft: cannot add table {FAMILY} {TABLE}: {done.stderr.strip()}")
    return f"nft table {FAMILY} {TABLE}: cluster addresses stay on this machine"


def remove() -> bool:
    """Deletes the table; True if there was one."""
    return subprocess.run(["nft", "delete", "table", FAMILY, TABLE], capture_output=True,
                          timeout=30, check=False).returncode == 0


def dropped() -> int:
    """Packets the table has dropped so far (0 when it is not there)."""
    listed = subprocess.run(["nft", "-j", "list", "table", FAMILY, TABLE], capture_output=True,
                            text=True, timeout=30, check=False)
    if listed.returncode != 0:
        return 0
    total = 0
    for item in json.loads(listed.stdout).get("nftables", []):
        for statement in item.get("rule", {}).get("expr", []):
            if "counter" in statement:
                total += int(statement["counter"]["packets"])
    return total
