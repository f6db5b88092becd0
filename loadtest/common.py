"""What every benchmark shares: the local infrastructure through the supervisor, CPU and memory
of the processes it measures (psutil), and the tools.
Every benchmark aims at 127.0.0.1 only and is bounded in time or count."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import psutil
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helios.gateway.settings import REPO
from helios.local.layout import Layout
from helios.local.mesh import HELIOS, Service
from helios.local.probes import http, wait
from helios.local.process import usage
from helios.local.supervisor import request

BENCH_DIR = REPO / ".helios" / "bench"


def layout() -> Layout:
    return Layout.from_env(os.environ)


def ensure_infra() -> None:
    """Kafka, PostgreSQL and Redis, started by the supervisor unless they run already."""
    subprocess.run([str(HELIOS), "local", "up", "infra"], check=True,
                   stdout=subprocess.DEVNULL)


def infra_pids() -> dict[str, int]:
    """The pids of the local servers the supervisor runs (none for external ones)."""
    (event,) = request(layout(), {"cmd": "status"})
    return {row["name"]: row["pid"] for row in event["rows"]
            if row["name"] in ("kafka", "postgres", "redis") and row.get("pid")}


def cpu_seconds(pid: int) -> float:
    """CPU time so far of a process and its children (PostgreSQL's backends, say)."""
    return usage(pid)[1]


def rss_mb(pid: int) -> float:
    return usage(pid)[0]


def machine_busy_seconds() -> float:
    """CPU time the whole machine has spent busy (all but idle and iowait), every core."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def tool(name: str) -> str:
    return layout().tool(name)


def wait_healthz(url: str, timeout: float = 30.0) -> None:
    """The gateway has a healthy bidder (Envoy is ready before its first health check)."""
    if not wait(http(f"{url}/healthz"), timeout):
        raise RuntimeError(f"{url}/healthz not 200 after {timeout}s")


def bidder_metrics(bidders: list[Service]) -> dict[str, float]:
    """What the bidder processes' /metrics say, summed over them: ``cache:<result>`` (near-cache
    lookups by result), ``<stage>:sum`` and ``<stage>:count`` of the stage timings
    (profile_lookup, publish), and ``entries`` (the near caches' entries now)."""
    values: dict[str, float] = {}
    for bidder in bidders:
        with urllib.request.urlopen(f"http://127.0.0.1:{bidder.metrics_port}/metrics",
                                    timeout=5) as response:
            text = response.read().decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if family.name == "helios_bidder_cache_lookups" and sample.name.endswith(
                        "_total"):
                    key = f"cache:{sample.labels['result']}"
                elif family.name == "helios_bidder_stage_seconds" and sample.name.endswith(
                        ("_sum", "_count")):
                    key = f"{sample.labels['stage']}:{sample.name.rsplit('_', 1)[1]}"
                elif family.name == "helios_bidder_cache_entries":
                    key = "entries"
                else:
                    continue
                values[key] = values.get(key, 0.0) + sample.value
    return values
