"""`POST /bid` through Envoy: Helios against the ceiling.

1. Ceiling: the same rendered Envoy config in front of one do-nothing grpc.aio server
   (loadtest/null_bidder.py), as the issue defines it.
2. Helios: the real bid path (bidder processes -> profiles -> Redis, Kafka publish with acks).

Each gets the same treatment. Its maximum throughput is the best of a wrk sweep over several
connection counts (closed loop: with too few connections a system that waits on I/O is measured
by its latency, not its capacity). Then its latency at half of that maximum, with vegeta (open
loop, constant rate). CPU is read (psutil) for every process on the path, Kafka and Redis
included, and from the kernel's accounting for the load generator; it is printed as
microseconds per request, since both systems share the same two cores. Only 127.0.0.1 is
targeted and every run is bounded.

    python loadtest/bid_bench.py [--seconds 8] [--connections 32,64,128,256] [--bidders 1]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helios.gateway.settings import REPO
from helios.local.mesh import Launcher, free_port
from helios.local.process import Process, Spec
from helios.platform import kafka, settings
from loadtest.common import (
    BENCH_DIR,
    cpu_seconds,
    demo_user,
    ensure_infra,
    infra_pids,
    machine_busy_seconds,
    tool,
    wait_healthz,
    write_bid_targets,
)
from loadtest.svg import line_chart

WRK_SCRIPT = r"""
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
local counter = 0
local thread_id = 0
function setup(thread) thread:set("tid", thread_id); thread_id = thread_id + 1 end
function request()
  counter = counter + 1
  local user = string.format("user-%03d", (counter * 7919) % 1000 + 1)
  local body = string.format(
    '{"request_id":"b-%d-%d","user_id":"%s","site":{"domain":"news.example"}}',
                             tid, counter, user)
  return wrk.format(nil, "/bid", nil, body)
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.0f %.0f %.0f %.0f\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max))
end
"""


@dataclass
class Result:
    name: str
    rps: float
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cpu_seconds: dict[str, float]
    seconds: float
    connections: int = 0

    def cpu_row(self) -> str:
        per_request = ", ".join(f"{k} {v / max(self.requests, 1) * 1e6:.0f}"
                                for k, v in self.cpu_seconds.items() if k != "machine")
        busy = self.cpu_seconds.get("machine", 0.0) / self.seconds * 100
        return (f"CPU us/request: {per_request}; machine {busy:.0f}% of "
                f"{(os.cpu_count() or 1) * 100}%")


class CpuMeter:
    """CPU seconds used between two readings by each process on the path (by label), by the
    load generator (finished child processes) and by the whole machine."""

    def __init__(self, procs: list[Process]) -> None:
        self._pids: dict[str, list[int]] = {}
        for proc in procs:
            if proc.pid is not None:
                label = proc.spec.log.stem.rsplit("-", 1)[0]
                self._pids.setdefault(label, []).append(proc.pid)
        # Kafka and Redis when the supervisor runs them (not when they are external).
        for name, pid in infra_pids().items():
            if name in ("kafka", "redis"):
                self._pids[name] = [pid]

    def read(self) -> dict[str, float]:
        used = {label: sum(cpu_seconds(pid) for pid in pids)
                for label, pids in self._pids.items()}
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        used["load generator"] = children.ru_utime + children.ru_stime
        used["machine"] = machine_busy_seconds()
        return used

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {k: after[k] - before.get(k, 0.0) for k in after}


def run_wrk(url: str, seconds: int, connections: int, procs: list[Process], name: str) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    meter = CpuMeter(procs)
    before = meter.read()
    out = subprocess.run([tool("wrk"), "-t1", f"-c{connections}", f"-d{seconds}s",
                          "--timeout", "5s", "-s", script.name, url],
                         capture_output=True, text=True, check=True)
    cpu = meter.spent(before, meter.read())
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\S+) (\S+) (\S+) (\S+)", out.stdout)
    if match is None:
        raise RuntimeError(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    requests, errors, micros, p50, p95, p99, _ = (float(g) for g in match.groups())
    duration = micros / 1e6
    return Result(name, requests / duration, int(requests), int(errors), p50 / 1e3, p95 / 1e3,
                  p99 / 1e3, cpu, duration, connections)


def find_max(url: str, seconds: int, sweep: list[int], procs: list[Process],
             name: str) -> tuple[Result, list[Result]]:
    """The best throughput over the connection counts in ``sweep``, and every point."""
    run_wrk(url, 2, sweep[0], procs, "warm-up")
    points = []
    for connections in sweep:
        point = run_wrk(url, seconds, connections, procs, f"{name}, {connections} connections")
        print_result(point)
        points.append(point)
    return max(points, key=lambda r: r.rps), points


def run_vegeta(url: str, rate: int, seconds: int, procs: list[Process], name: str) -> Result:
    targets = Path(tempfile.mkdtemp()) / "targets.json"
    run = uuid.uuid4().hex[:6]
    write_bid_targets(targets, url, ({"request_id": f"v-{run}-{i}", "user_id": demo_user(i),
                                      "site": {"domain": "news.example"}}
                                     for i in range(rate * seconds + 100)))
    meter = CpuMeter(procs)
    before = meter.read()
    attack = subprocess.run([tool("vegeta"), "attack", "-format=json", f"-targets={targets}",
                             f"-rate={rate}/s", f"-duration={seconds}s", "-timeout=5s"],
                            capture_output=True, check=True)
    cpu = meter.spent(before, meter.read())
    report = json.loads(subprocess.run([tool("vegeta"), "report", "-type=json"],
                                       input=attack.stdout, capture_output=True,
                                       check=True).stdout)
    lat = report["latencies"]
    errors = report["requests"] - int(report["success"] * report["requests"])
    return Result(name, report["throughput"], report["requests"], errors, lat["50th"] / 1e6,
                  lat["95th"] / 1e6, lat["99th"] / 1e6, cpu, float(seconds))


def print_result(r: Result) -> None:
    print(f"  {r.name:<36} {r.rps:>7.0f} req/s  p50 {r.p50_ms:6.2f} ms  p95 {r.p95_ms:6.2f} ms"
          f"  p99 {r.p99_ms:7.2f} ms  errors {r.errors}", flush=True)
    print(f"  {'':<36} {r.cpu_row()}", flush=True)


def measure(url: str, procs: list[Process], name: str,
            args: argparse.Namespace) -> tuple[Result, Result, list[Result]]:
    """The maximum (swept) and the latency at half of it, for one system."""
    peak, points = find_max(url, args.seconds, args.connections, procs, name)
    half = max(1, int(peak.rps / 2))
    print(f"  {name}: maximum {peak.rps:.0f} req/s with {peak.connections} connections; "
          f"now {half} req/s, open loop ...", flush=True)
    steady = run_vegeta(url, half, args.seconds, procs, f"{name} @ {half} req/s")
    print_result(steady)
    return peak, steady, points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="length of each run")
    parser.add_argument("--connections", default="32,64,128,256",
                        type=lambda text: [int(c) for c in text.split(",")],
                        help="wrk connection counts swept for the maximum")
    parser.add_argument("--bidders", type=int,
                        default=int(os.environ.get("HELIOS_BIDDER_PROCESSES", "1")))
    args = parser.parse_args()

    ensure_infra()
    env = dict(os.environ)
    prefix = f"bench-{uuid.uuid4().hex[:6]}-"
    topics = kafka.Topics.from_env({"HELIOS_KAFKA_TOPIC_PREFIX": prefix})
    kafka.ensure_topics(settings.kafka_bootstrap(env), topics.partitions())
    from helios.profiles.seed import run as seed

    seed(settings.redis_url(env))
    env.update({"HELIOS_KAFKA_TOPIC_PREFIX": prefix, "HELIOS_LOG_LEVEL": "WARNING"})
    logs = Path(tempfile.mkdtemp(prefix="helios-bench-"))
    print(f"bid benchmark: {args.seconds}s per run, wrk connections {args.connections}, "
          f"{args.bidders} bidder process(es); logs in {logs}", flush=True)

    launcher = Launcher(env, logs)
    try:
        print("1/2 ceiling: Envoy + a do-nothing grpc.aio server", flush=True)
        port = free_port()
        launcher.adopt(Process(Spec(
            "null-bidder", [sys.executable, str(REPO / "loadtest" / "null_bidder.py"),
                            str(port)], logs / f"null-bidder-{port}.log", env=env))).spawn()
        gateway = launcher.start_gateway([f"127.0.0.1:{port}"], f"127.0.0.1:{free_port()}")
        wait_healthz(gateway.url)
        ceiling, ceiling_half, ceiling_points = measure(gateway.url, launcher.started,
                                                        "ceiling", args)
        launcher.stop_all()

        print("2/2 Helios: bidder -> profiles -> Redis, Kafka publish", flush=True)
        profiles = launcher.start("profiles")
        bidders = [launcher.start("bidder", {"HELIOS_BIDDER_PROFILES_TARGET": profiles.target})
                   for _ in range(args.bidders)]
        gateway = launcher.start_gateway([b.target for b in bidders], f"127.0.0.1:{free_port()}")
        wait_healthz(gateway.url)
        peak, steady, points = measure(gateway.url, launcher.started, "helios", args)
    finally:
        launcher.stop_all()

    share = peak.rps / ceiling.rps * 100
    print("\nsummary")
    for r in (ceiling, ceiling_half, peak, steady):
        print_result(r)
    print(f"  throughput: helios {peak.rps:.0f} req/s = {share:.0f}% of the ceiling's "
          f"{ceiling.rps:.0f} (target >= 60%): {'MET' if share >= 60 else 'NOT MET'}")
    print(f"  p99 at half of the maximum: helios {steady.p99_ms:.2f} ms (target <= 10 ms): "
          f"{'MET' if steady.p99_ms <= 10 else 'NOT MET'}; the do-nothing server "
          f"{ceiling_half.p99_ms:.2f} ms at half of its own")
    out = BENCH_DIR / "bid.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"ceiling": [r.__dict__ for r in ceiling_points],
                               "ceiling_half": ceiling_half.__dict__,
                               "helios": [r.__dict__ for r in points],
                               "helios_half": steady.__dict__}, indent=2))
    chart = out.with_suffix(".svg")
    chart.write_text(line_chart(
        "POST /bid through Envoy: throughput by wrk connections",
        {name: [(r.connections, r.rps) for r in runs]
         for name, runs in (("ceiling", ceiling_points), ("helios", points))},
        x_label="wrk connections", y_label="requests/s", x_ticks=args.connections))
    print(f"  raw figures: {out}; throughput by connections: {chart}")



if __name__ == "__main__":
    main()
