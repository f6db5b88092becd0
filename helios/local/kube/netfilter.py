"""The packet-filter state the cluster leaves behind, removed: iptables and ip6tables rules and
chains, ipsets, and the empty nft tables iptables-nft makes.

Run after every daemon stopped and after kube-proxy's and kube-router's own cleanups, it takes
whatever those missed (a crashed run, the CNI plugins' per-pod chains, the portmap chains): in
the built-in chains, each rule that jumps to one of the cluster's chains or carries one of its
comments; then the cluster's chains themselves (``KUBE-*``, ``CNI-*``, ``KUBE-ROUTER-*``),
flushed first so none still refers to another when deleted. Rules are deleted by their own
specification, as ``iptables -S`` prints it (split like a shell would, never evaluated).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

TABLES = ("filter", "nat", "mangle", "raw")
BUILT_IN = frozenset({"INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING"})
CHAINS = re.compile(r"^(KUBE-|CNI-|kube-router)")
# kube-proxy's comments start "kubernetes", kube-router's "kube-router", the CNI plugins' name
# the network ("name: \"helios\" id: ...") or the chain ("CNI portfwd ...").
COMMENTS = re.compile(r'^(kubernetes|kube-router|KUBE-|CNI|name: "helios")')
IPSETS = re.compile(r"^(inet6:)?(KUBE-|kube-router)")


@dataclass
class Plan:
    """What to remove from one table: rules of built-in chains, then chains."""

    rules: list[list[str]] = field(default_factory=list)
    chains: list[str] = field(default_factory=list)


def plan(listing: str) -> Plan:
    """The cluster's part of one table, from ``iptables -t TABLE -S``."""
    result = Plan()
    for line in listing.splitlines():
        words = shlex.split(line)
        if len(words) >= 2 and words[0] == "-N" and CHAINS.match(words[1]):
            result.chains.append(words[1])
        elif len(words) >= 2 and words[0] == "-A" and words[1] in BUILT_IN and ours(words[2:]):
            result.rules.append(words[1:])
    return result


def ours(rule: Sequence[str]) -> bool:
    """A rule that jumps to one of the cluster's chains or carries one of its comments."""
    for flag, value in pairwise(rule):
        if flag in ("-j", "-g") and CHAINS.match(value):
            return True
        if flag == "--comment" and COMMENTS.match(value):
            return True
    return False


def sweep_iptables() -> int:
    """Removes the cluster's rules and chains from both families; returns how many went."""
    removed = 0
    for command in ("iptables", "ip6tables"):
        for table in TABLES:
            listing = _run(command, "-w", "5", "-t", table, "-S")
            if listing is None:
                continue
            todo = plan(listing)
            for rule in todo.rules:
                removed += _run(command, "-w", "5", "-t", table, "-D", *rule) is not None
            for chain in todo.chains:
                _run(command, "-w", "5", "-t", table, "-F", chain)
            for chain in todo.chains:
                removed += _run(command, "-w", "5", "-t", table, "-X", chain) is not None
    return removed


def sweep_ipsets() -> int:
    listed = _run("ipset", "list", "-n") or ""
    names = [name for name in listed.split() if IPSETS.match(name)]
    return sum(_run("ipset", "destroy", name) is not None for name in names)


def has_rules(listing: str) -> bool:
    """Whether ``nft -j list table ...`` shows a rule."""
    try:
        objects = json.loads(listing).get("nftables", [])
    except ValueError:
        return True
    return any("rule" in item for item in objects)


def sweep_nft(kept: Sequence[str]) -> list[str]:
    """Deletes each nft table that was not there before the cluster (``kept``) and holds no
    rule any more; returns their names."""
    listed = _run("nft", "list", "tables") or ""
    deleted = []
    for line in listed.splitlines():
        if not line.startswith("table "):
            continue
        family, name = line.split()[1:3]
        if f"{family} {name}" in kept:
            continue
        listing = _run("nft", "-j", "list", "table", family, name)
        if listing is not None and not has_rules(listing) and \
                _run("nft", "delete", "table", family, name) is not None:
            deleted.append(f"{family} {name}")
    return deleted


def _run(*argv: str) -> str | None:
    """The command's output, or None when it failed (a missing table or chain is expected)."""
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=60,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None
