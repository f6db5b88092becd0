"""`POST /bid` through Envoy: Helios against the ceiling, at its maximum and at fixed rates.

1. Ceiling: the same rendered Envoy config in front of one do-nothing grpc.aio server
   (loadtest/null_bidder.py).
2. Helios: the real bid path (bidder with its near cache -> profiles -> Redis, Kafka publish
   with acks).
3. Freshness: the whole mesh (auction and analytics too) at the middle fixed rate, with probe
   bids timed from their 200 to their outcome in the analytics API (loadtest/freshness.py).

Both systems get the same traffic: `helios seed-profiles --count 100000` profiles, users drawn
Zipf (s = 1.1) over them plus 10 % unknown users (loadtest/traffic.py), every request a body of
its own. Each system's maximum is the best of a closed-loop wrk sweep over connection counts;
its latency is taken at the same fixed offered rates for both (wrk paced by loadtest/bid.lua,
which costs a few tens of microseconds per request, so the machine keeps its headroom). Every
run prints its achieved rate, p50/p95/p99/max, CPU per request of each process on the path
(Kafka and Redis included, and wrk), the machine's CPU and each process's memory. Only
127.0.0.1 is targeted and every run is bounded.

    python loadtest/bid_bench.py [--seconds 10] [--connections 32,64,128,256]
                                 [--rates 500,1000,2000] [--profiles 100000] [--bidders 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helios.gateway.settings import REPO
from helios.local.mesh import Launcher, Service, free_port
from helios.local.process import Process, Spec
from helios.local.scratch import scratch
from helios.platform import settings
from helios.profiles.seed import run as seed_demo
from helios.profiles.seed import run_synthetic
from loadtest import traffic, wrk
from loadtest.common import (
    BENCH_DIR,
    bidder_metrics,
    cpu_seconds,
    ensure_infra,
    infra_pids,
    machine_busy_seconds,
    rss_mb,
    wait_healthz,
)
from loadtest.freshness import Freshness, Prober
from loadtest.svg import line_chart

CORES = os.cpu_count() or 1
# Targets of the issue, printed against the figures.
TARGET_RATIO = 0.60
TARGET_P99_MS = 10.0
TARGET_P50_ABOVE_CEILING_MS = 2.0
TARGET_FRESHNESS_P99_S = 2.0
TARGET_BIDDER_RSS_MB = 200.0


@dataclass
class Step:
    """One wrk run against one system, with what it cost each process."""

    name: str
    load: wrk.Run
    cpu_seconds: dict[str, float]
    rss_mb: dict[str, float]
    # The bidders' metrics over this run (loadtest.common.bidder_metrics); Helios only.
    bidder: dict[str, float] = field(default_factory=dict)

    def stage_ms(self, stage: str) -> float | None:
        """The mean time a bid spent in ``stage`` in this run."""
        count = self.bidder.get(f"{stage}:count", 0.0)
        return self.bidder[f"{stage}:sum"] / count * 1000 if count else None

    @property
    def machine_pct(self) -> float:
        return self.cpu_seconds.get("machine", 0.0) / self.load.seconds * 100

    def print(self) -> None:
        r = self.load
        offered = f"offered {r.offered:>5.0f}/s " if r.offered else "closed loop  "
        print(f"  {self.name:<28} {offered} achieved {r.rps:>6.0f}/s  p50 {r.p50_ms:6.2f}  "
              f"p95 {r.p95_ms:6.2f}  p99 {r.p99_ms:7.2f}  max {r.max_ms:7.1f} ms  "
              f"errors {r.errors + r.socket_errors}"
              + (f"  LATE {r.late}" if r.offered and r.late else ""),
              flush=True)
        per_request = ", ".join(f"{k} {v / max(r.requests, 1) * 1e6:.0f}"
                                for k, v in self.cpu_seconds.items() if k != "machine")
        print(f"  {'':<28} CPU us/request: {per_request}; machine {self.machine_pct:.0f}% of "
              f"{CORES * 100}%", flush=True)
        memory = ", ".join(f"{k} {v:.0f}" for k, v in self.rss_mb.items())
        print(f"  {'':<28} RSS MB: {memory}", flush=True)
        lookups = sum(v for k, v in self.bidder.items() if k.startswith("cache:"))
        if lookups:
            stages = ", ".join(f"{stage} {ms:.2f} ms" for stage in ("profile_lookup", "publish")
                               if (ms := self.stage_ms(stage)) is not None)
            print(f"  {'':<28} near cache hits {self.bidder.get('cache:hit', 0) / lookups:.1%}"
                  f" of {lookups:,.0f} lookups; mean per bid: {stages}", flush=True)
        if r.offered and not r.kept_rate:
            print(f"  {'':<28} the offered rate was NOT kept: a latency figure at a lower "
                  f"rate than asked", flush=True)


class Meter:
    """CPU seconds used between two readings by each process on the path (by label), by wrk
    (finished child processes) and by the whole machine; memory of each process."""

    def __init__(self, procs: list[Process]) -> None:
        self._pids: dict[str, list[int]] = {}
        for proc in procs:
            if proc.pid is not None:
                label = proc.spec.log.stem.rsplit("-", 1)[0]
                self._pids.setdefault(label, []).append(proc.pid)
        # Kafka, Redis and PostgreSQL (its backends are its children) when the supervisor runs
        # them, not when they are external.
        for name, pid in infra_pids().items():
            self._pids[name] = [pid]

    def read(self) -> dict[str, float]:
        used = {label: sum(cpu_seconds(pid) for pid in pids)
                for label, pids in self._pids.items()}
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        used["wrk"] = children.ru_utime + children.ru_stime
        used["machine"] = machine_busy_seconds()
        return used

    def rss(self) -> dict[str, float]:
        return {label: sum(rss_mb(pid) for pid in pids) for label, pids in self._pids.items()}


class System:
    """One system behind the gateway, measured with the benchmark's user mix."""

    def __init__(self, name: str, url: str, launcher: Launcher, mix: traffic.UserMix,
                 sent: list[str], bidders: list[Service] | None = None) -> None:
        self.name, self.url, self.launcher, self.mix = name, url, launcher, mix
        self.sent = sent
        self.bidders = bidders or []

    def step(self, label: str, seconds: float, connections: int, rate: float = 0) -> Step:
        # Enough fresh users for the run (a closed loop's count is a generous guess).
        users = self.mix.take(int((rate or 12_000) * seconds) + 1_000)
        meter = Meter(self.launcher.started)
        counters_before = bidder_metrics(self.bidders)
        before = meter.read()
        load = wrk.run(self.url, users, seconds=seconds, connections=connections, rate=rate)
        after = meter.read()
        counters_after = bidder_metrics(self.bidders)
        self.sent.extend(users[:load.sent])
        step = Step(f"{self.name}, {label}", load,
                    {k: after[k] - before.get(k, 0.0) for k in after}, meter.rss(),
                    {k: v - counters_before.get(k, 0.0) for k, v in counters_after.items()})
        step.print()
        return step

    def measure(self, args: argparse.Namespace) -> tuple[list[Step], list[Step]]:
        """The closed-loop sweep, then each fixed rate."""
        # As long as a run: a Kafka that `make bench` has just started is still compiling (JIT)
        # its produce path, and a 3 s warm-up left Helios's first runs at a third of its rate.
        self.step("warm-up", args.seconds, args.connections[0])
        sweep = [self.step(f"{c} connections", args.seconds, c) for c in args.connections]
        best = max(sweep, key=lambda s: s.load.rps)
        print(f"  {self.name}: maximum {best.load.rps:.0f} req/s with "
              f"{best.load.connections} connections; now the fixed rates", flush=True)
        rates = [self.step(f"{rate} bids/s", args.seconds, args.paced_connections, rate)
                 for rate in args.rates]
        return sweep, rates


def start_helios(launcher: Launcher, processes: int,
                 analytics_target: str | None = None) -> tuple[str, list[Service]]:
    """Profiles, the bidders (their /metrics on) and a gateway in front; the gateway's URL."""
    profiles = launcher.start("profiles")
    bidders = [launcher.start("bidder", {"HELIOS_BIDDER_PROFILES_TARGET": profiles.target},
                              metrics=True) for _ in range(processes)]
    gateway = launcher.start_gateway([b.target for b in bidders],
                                     analytics_target or f"127.0.0.1:{free_port()}")
    wait_healthz(gateway.url)
    return gateway.url, bidders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each run")
    parser.add_argument("--connections", default="32,64,128,256", type=_ints,
                        help="wrk connection counts swept for the maximum")
    parser.add_argument("--rates", default="500,1000,2000", type=_ints,
                        help="fixed offered rates, bids/s, the same for both systems")
    parser.add_argument("--paced-connections", type=int, default=64,
                        help="wrk connections for the fixed rates (enough to keep the rate)")
    parser.add_argument("--profiles", type=int, default=100_000,
                        help="synthetic profiles the users are drawn from")
    parser.add_argument("--freshness-seconds", type=float, default=30)
    parser.add_argument("--bidders", type=int,
                        default=int(os.environ.get("HELIOS_BIDDER_PROCESSES", "1")))
    args = parser.parse_args()

    ensure_infra()
    env = dict(os.environ)
    redis = settings.redis_url(env)
    seed_demo(redis)
    written = run_synthetic(redis, args.profiles)
    print(f"profiles: {args.profiles:,} synthetic ({written:,} written now, the rest there "
          f"already) and the demo users", flush=True)
    mix = traffic.UserMix(args.profiles, seed=int(uuid.uuid4().int % 2**31))
    print(f"  {traffic.describe(mix)}", flush=True)
    logs = Path(tempfile.mkdtemp(prefix="helios-bench-"))
    print(f"bid benchmark: {args.seconds:g} s per run, wrk connections {args.connections} "
          f"(closed loop), rates {args.rates} with {args.paced_connections} connections, "
          f"{args.bidders} bidder process(es); logs in {logs}", flush=True)

    sent: list[str] = []
    with scratch(env, "bench", database=False) as own:
        launcher = Launcher({**env, **own.env(), "HELIOS_LOG_LEVEL": "WARNING"}, logs)
        try:
            print("1/3 ceiling: Envoy + a do-nothing grpc.aio server", flush=True)
            port = free_port()
            launcher.adopt(Process(Spec(
                "null-bidder", [sys.executable, str(REPO / "loadtest" / "null_bidder.py"),
                                str(port)], logs / f"null-bidder-{port}.log", env=env))).spawn()
            gateway = launcher.start_gateway([f"127.0.0.1:{port}"], f"127.0.0.1:{free_port()}")
            wait_healthz(gateway.url)
            ceiling = System("ceiling", gateway.url, launcher, mix, []).measure(args)
            launcher.stop_all()

            print("2/3 Helios: bidder (near cache) -> profiles -> Redis, Kafka publish",
                  flush=True)
            url, bidders = start_helios(launcher, args.bidders)
            helios = System("helios", url, launcher, mix, sent, bidders).measure(args)
        finally:
            launcher.stop_all()

    # Topics and a database of its own: no backlog of the steps above for the auction to drain.
    rate = args.rates[len(args.rates) // 2]
    print(f"3/3 freshness: the whole mesh (+ auction, analytics), {rate} bids/s for "
          f"{args.freshness_seconds:g} s with probe bids", flush=True)
    with scratch(env, "bench") as own:
        launcher = Launcher({**env, **own.env(), "HELIOS_LOG_LEVEL": "WARNING"}, logs)
        try:
            launcher.start("auction")
            analytics = launcher.start("analytics")
            url, bidders = start_helios(launcher, args.bidders, analytics.target)
            prober = Prober(url, analytics.target, uuid.uuid4().hex[:8]).start()
            mesh = System("whole mesh", url, launcher, mix, sent, bidders).step(
                f"{rate} bids/s", args.freshness_seconds, args.paced_connections, rate)
            freshness = prober.finish()
            print(f"  {freshness.text()}", flush=True)
        finally:
            launcher.stop_all()

    report(args, mix, sent, ceiling, helios, mesh, freshness)


def report(args: argparse.Namespace, mix: traffic.UserMix, sent: list[str],
           ceiling: tuple[list[Step], list[Step]], helios: tuple[list[Step], list[Step]],
           mesh: Step, freshness: Freshness) -> None:
    (ceiling_sweep, ceiling_rates), (helios_sweep, helios_rates) = ceiling, helios
    ceiling_max = max(s.load.rps for s in ceiling_sweep)
    helios_max = max(s.load.rps for s in helios_sweep)
    ratio = helios_max / ceiling_max
    print("\nsummary")
    print(f"  users sent to Helios: {traffic.observed(sent, mix.profiles).text()}")
    print(f"  throughput: helios {helios_max:.0f} req/s = {ratio:.0%} of the ceiling's "
          f"{ceiling_max:.0f} (target >= {TARGET_RATIO:.0%}): "
          f"{_verdict(ratio >= TARGET_RATIO)}")
    fixed = []
    print(f"  {'offered':>8} {'ceiling p50/p99':>18} {'helios p50/p99':>18} {'machine CPU':>12}"
          f"   helios mean per bid: profile lookup / Kafka publish")
    for c, h in zip(ceiling_rates, helios_rates, strict=True):
        busiest = max(c.machine_pct, h.machine_pct)
        fixed.append({"rate": h.load.offered,
                      "ceiling": {"p50_ms": c.load.p50_ms, "p99_ms": c.load.p99_ms},
                      "helios": {"p50_ms": h.load.p50_ms, "p99_ms": h.load.p99_ms},
                      "machine_cpu_pct": round(busiest, 1)})
        lookup, publish = (h.stage_ms(stage) or float("nan")
                           for stage in ("profile_lookup", "publish"))
        print(f"  {h.load.offered:>8.0f} {c.load.p50_ms:>8.2f}/{c.load.p99_ms:<8.2f} ms "
              f"{h.load.p50_ms:>8.2f}/{h.load.p99_ms:<8.2f} ms {busiest:>10.0f} %   "
              f"{lookup:.2f} / {publish:.2f} ms")
    at_1000 = [(c, h) for c, h in zip(ceiling_rates, helios_rates, strict=True)
               if h.load.offered == 1000]
    for c, h in at_1000:
        print(f"  at 1,000 bids/s: helios p99 {h.load.p99_ms:.2f} ms (target <= "
              f"{TARGET_P99_MS:g}): {_verdict(h.load.p99_ms <= TARGET_P99_MS)}; p50 "
              f"{h.load.p50_ms:.2f} ms against the ceiling's {c.load.p50_ms:.2f} (target <= "
              f"+{TARGET_P50_ABOVE_CEILING_MS:g} ms): "
              f"{_verdict(h.load.p50_ms <= c.load.p50_ms + TARGET_P50_ABOVE_CEILING_MS)}")
    print(f"  {freshness.text()} (target p99 <= {TARGET_FRESHNESS_P99_S:g} s): "
          f"{_verdict(freshness.p99_s <= TARGET_FRESHNESS_P99_S)}")
    bidder_rss = max(s.rss_mb.get("bidder", 0.0) for s in [*helios_sweep, *helios_rates, mesh])
    print(f"  bidder RSS at most {bidder_rss:.0f} MB (target < {TARGET_BIDDER_RSS_MB:g}): "
          f"{_verdict(bidder_rss < TARGET_BIDDER_RSS_MB)}")

    out = BENCH_DIR / "bid.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "summary": {"ceiling_max_rps": round(ceiling_max, 1),
                    "helios_max_rps": round(helios_max, 1), "ratio": round(ratio, 4),
                    "fixed_rates": fixed, "freshness": asdict(freshness)},
        "mix": {"promised": asdict(mix.describe()),
                "observed": asdict(traffic.observed(sent, mix.profiles))},
        "ceiling": [_raw(s) for s in ceiling_sweep + ceiling_rates],
        "helios": [_raw(s) for s in helios_sweep + helios_rates],
        "whole_mesh": _raw(mesh)}, indent=2))
    throughput = out.with_name("bid-throughput.svg")
    throughput.write_text(line_chart(
        "POST /bid through Envoy: throughput by wrk connections (closed loop)",
        {name: [(s.load.connections, s.load.rps) for s in sweep]
         for name, sweep in (("ceiling", ceiling_sweep), ("helios", helios_sweep))},
        x_label="wrk connections", y_label="requests/s", x_ticks=args.connections))
    latency = out.with_name("bid-latency.svg")
    latency.write_text(line_chart(
        "POST /bid through Envoy: latency by offered rate",
        {f"{name} {q}": [(s.load.offered, getattr(s.load, f"{q}_ms")) for s in rates]
         for name, rates in (("ceiling", ceiling_rates), ("helios", helios_rates))
         for q in ("p50", "p99")},
        x_label="offered bids/s", y_label="ms", x_ticks=args.rates))
    print(f"  raw figures: {out}; charts: {throughput.name}, {latency.name} beside it")


def _raw(step: Step) -> dict[str, object]:
    return {"name": step.name, **asdict(step.load), "rps": step.load.rps,
            "machine_cpu_pct": step.machine_pct, "cpu_seconds": step.cpu_seconds,
            "rss_mb": step.rss_mb, "bidder_counters": step.bidder}


def _verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


if __name__ == "__main__":
    main()
