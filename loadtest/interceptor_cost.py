"""What the platform's server interceptor costs per call.

Every Helios service runs one grpc.aio ServiceInterceptor (request ids, metrics, error mapping),
and grpc.aio resolves interceptors on every call. This runs the do-nothing BidService of the
ceiling (loadtest/null_bidder.py) without and with it, and sends each the same constant rate of
SubmitBid calls with ghz straight to its port (no Envoy), alternating the two a few times so
that drift of the machine hits both. It prints the server's CPU per call and ghz's latency. Only
127.0.0.1 is targeted and every run is bounded.

    python loadtest/interceptor_cost.py [--rates 500,1000] [--seconds 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helios.gateway.settings import REPO
from helios.local.mesh import free_port
from helios.local.probes import grpc_serving
from helios.local.process import Process, Spec
from loadtest.common import BENCH_DIR, cpu_seconds, tool

DESCRIPTOR = REPO / "gateway" / "helios.binpb"
REQUEST = json.dumps({"request_id": "cost", "user_id": "user-001"})


def measure(intercepted: bool, rate: int, seconds: float) -> dict[str, float]:
    port = free_port()
    target = f"127.0.0.1:{port}"
    argv = [sys.executable, str(REPO / "loadtest" / "null_bidder.py"), str(port)]
    server = Process(Spec("null-bidder", argv + (["--interceptor"] if intercepted else []),
                          Path(tempfile.mkdtemp(prefix="helios-cost-")) / "null-bidder.log",
                          ready=grpc_serving(target), ready_timeout=30))
    server.start()
    assert server.pid is not None
    try:
        before = cpu_seconds(server.pid)
        with tempfile.NamedTemporaryFile(suffix=".json") as report:
            subprocess.run([tool("ghz"), "--insecure", "--protoset", str(DESCRIPTOR),
                            "--call", "helios.bidder.v1.BidService.SubmitBid", "-d", REQUEST,
                            "--rps", str(rate), "-z", f"{seconds:g}s", "-c", "16",
                            "--connections", "1", "--format", "json", "-o", report.name,
                            target], check=True, stdout=subprocess.DEVNULL)
            used = cpu_seconds(server.pid) - before
            result = json.loads(Path(report.name).read_text())
    finally:
        server.stop()
    latency = {int(p["percentage"]): p["latency"] / 1e6
               for p in result.get("latencyDistribution") or []}
    return {"calls": result["count"], "rps": result["rps"],
            "cpu_us_per_call": used / max(result["count"], 1) * 1e6,
            "p50_ms": latency.get(50, float("nan")), "p99_ms": latency.get(99, float("nan"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="500,1000",
                        type=lambda text: [int(r) for r in text.split(",")])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"interceptor cost: ghz at {args.rates} calls/s, {args.seconds:g} s each, "
          f"{args.rounds} rounds, without and with the platform's interceptor", flush=True)
    figures: dict[str, dict[str, list[dict[str, float]]]] = {}
    for round_ in range(1, args.rounds + 1):
        for rate in args.rates:
            for intercepted in (False, True):
                name = "interceptor" if intercepted else "plain"
                run = measure(intercepted, rate, args.seconds)
                figures.setdefault(str(rate), {}).setdefault(name, []).append(run)
                print(f"  round {round_} {rate:>5}/s {name:<12} {run['rps']:>6.0f} calls/s  "
                      f"server CPU {run['cpu_us_per_call']:5.0f} us/call  p50 "
                      f"{run['p50_ms']:5.2f} ms  p99 {run['p99_ms']:5.2f} ms", flush=True)
    print("\nsummary (server CPU per call, mean over rounds)")
    for rate, runs in figures.items():
        plain, with_it = (sum(r["cpu_us_per_call"] for r in runs[k]) / len(runs[k])
                          for k in ("plain", "interceptor"))
        print(f"  {rate:>5}/s: plain {plain:.0f} us, with the interceptor {with_it:.0f} us: "
              f"+{with_it - plain:.0f} us per call ({(with_it - plain) / plain:+.0%})")
    out = BENCH_DIR / "interceptor.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    print(f"  raw figures: {out}")


if __name__ == "__main__":
    main()
