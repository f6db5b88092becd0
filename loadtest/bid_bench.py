"""`POST /bid` through Envoy: Helios against the ceiling.

1. Ceiling: the same rendered Envoy config in front of one do-nothing grpc.aio server
   (loadtest/null_bidder.py), as the issue defines it.
2. Helios: the real bid path (bidder processes -> profiles -> Redis, Kafka publish with acks).
For each: the maximum throughput with wrk (closed loop, fixed connections), then, for Helios,
the latency at half of that throughput with vegeta (open loop, constant rate). CPU seconds are
read from /proc for every process involved. Only 127.0.0.1 is targeted; every run is bounded.

    python loadtest/bid_bench.py [--seconds 10] [--connections 32] [--bidders 1]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helios.platform import kafka, settings
from tests.harness import ROOT, Launcher, Proc, free_port

TICKS = os.sysconf("SC_CLK_TCK")
# scripts/install.sh puts the Go tools here; scripts/bench.sh has it on PATH already.
TOOLS_BIN = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "helios" / "bin"


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(TOOLS_BIN))
    if found is None:
        raise SystemExit(f"{name} not found: run scripts/install.sh")
    return found

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
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cpu_seconds: dict[str, float]
    seconds: float

    def cpu_row(self) -> str:
        return ", ".join(f"{k} {v / self.seconds * 100:.0f}%" for k, v in self.cpu_seconds.items())


def cpu_of(procs: list[Proc]) -> dict[str, float]:
    usage: dict[str, float] = {}
    for proc in procs:
        if proc.popen is None:
            continue
        try:
            fields = Path(f"/proc/{proc.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        label = proc.log_path.stem.rsplit("-", 1)[0]
        usage[label] = usage.get(label, 0.0) + (int(fields[11]) + int(fields[12])) / TICKS
    return usage


def machine_busy() -> tuple[float, float]:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))


def run_wrk(url: str, seconds: int, connections: int, procs: list[Proc], name: str) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    before, busy0 = cpu_of(procs), machine_busy()
    out = subprocess.run([tool("wrk"), "-t1", f"-c{connections}", f"-d{seconds}s",
                          "--timeout", "5s", "-s", script.name, url],
                         capture_output=True, text=True, check=True)
    after, busy1 = cpu_of(procs), machine_busy()
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\S+) (\S+) (\S+) (\S+)", out.stdout)
    if match is None:
        raise RuntimeError(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    requests, errors, micros, p50, p95, p99, _ = (float(g) for g in match.groups())
    duration = micros / 1e6
    cpu = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    cpu["machine (of 2 cores)"] = (busy1[0] - busy0[0]) / (busy1[1] - busy0[1]) * 2 * duration
    return Result(name, requests / duration, int(errors), p50 / 1e3, p95 / 1e3, p99 / 1e3, cpu,
                  duration)


def run_vegeta(url: str, rate: int, seconds: int, procs: list[Proc], name: str) -> Result:
    tmp = Path(tempfile.mkdtemp())
    targets = tmp / "targets.json"
    run = uuid.uuid4().hex[:6]
    with targets.open("w") as out:
        for i in range(rate * seconds + 100):
            body = json.dumps({"request_id": f"v-{run}-{i}",
                               "user_id": f"user-{(i * 7919) % 1000 + 1:03d}",
                               "site": {"domain": "news.example"}})
            out.write(json.dumps({"method": "POST", "url": f"{url}/bid",
                                  "header": {"content-type": ["application/json"]},
                                  "body": base64.b64encode(body.encode()).decode()}) + "\n")
    before, busy0 = cpu_of(procs), machine_busy()
    attack = subprocess.run([tool("vegeta"), "attack", "-format=json", f"-targets={targets}",
                             f"-rate={rate}/s", f"-duration={seconds}s", "-timeout=5s"],
                            capture_output=True, check=True)
    after, busy1 = cpu_of(procs), machine_busy()
    report = json.loads(subprocess.run([tool("vegeta"), "report", "-type=json"],
                                       input=attack.stdout, capture_output=True,
                                       check=True).stdout)
    lat = report["latencies"]
    cpu = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    cpu["machine (of 2 cores)"] = (busy1[0] - busy0[0]) / (busy1[1] - busy0[1]) * 2 * seconds
    errors = report["requests"] - int(report["success"] * report["requests"])
    return Result(name, report["throughput"], errors, lat["50th"] / 1e6, lat["95th"] / 1e6,
                  lat["99th"] / 1e6, cpu, float(seconds))


def print_result(r: Result) -> None:
    print(f"  {r.name:<34} {r.rps:>8.0f} req/s  p50 {r.p50_ms:6.2f} ms  p95 {r.p95_ms:6.2f} ms"
          f"  p99 {r.p99_ms:6.2f} ms  errors {r.errors}", flush=True)
    print(f"  {'':<34} CPU: {r.cpu_row()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--bidders", type=int,
                        default=int(os.environ.get("HELIOS_BIDDER_PROCESSES", "1")))
    args = parser.parse_args()

    subprocess.run(["bash", str(ROOT / "scripts" / "infra.sh"), "start"], check=True,
                   stdout=subprocess.DEVNULL)
    env = dict(os.environ)
    prefix = f"bench-{uuid.uuid4().hex[:6]}-"
    topics = kafka.Topics.from_env({"HELIOS_KAFKA_TOPIC_PREFIX": prefix})
    kafka.ensure_topics(settings.kafka_bootstrap(env), topics.partitions())
    from helios.profiles.seed import run as seed

    seed(settings.redis_url(env))
    env.update({"HELIOS_KAFKA_TOPIC_PREFIX": prefix, "HELIOS_LOG_LEVEL": "WARNING"})
    logs = Path(tempfile.mkdtemp(prefix="helios-bench-"))
    print(f"bid benchmark: {args.seconds}s per run, {args.connections} connections, "
          f"{args.bidders} bidder process(es); logs in {logs}", flush=True)

    results: list[Result] = []
    launcher = Launcher(env, logs)
    try:
        print("1/3 ceiling: Envoy + a do-nothing grpc.aio server ...", flush=True)
        nulls = []
        for i in range(1):
            port = free_port()
            proc = Proc(f"null-bidder-{i}", [sys.executable, str(ROOT / "loadtest" /
                        "null_bidder.py"), str(port)], env, logs / f"null-bidder-{port}.log")
            proc.spawn()
            launcher.started.append(proc)
            nulls.append(f"127.0.0.1:{port}")
        time.sleep(1.5)
        gateway = launcher.start_gateway(nulls, f"127.0.0.1:{free_port()}")
        wait_healthz(gateway.url)
        run_wrk(gateway.url, 2, args.connections, launcher.started, "warm-up")
        ceiling = run_wrk(gateway.url, args.seconds, args.connections, launcher.started,
                          "ceiling (do-nothing server)")
        print_result(ceiling)
        results.append(ceiling)
        launcher.stop_all()

        print("2/3 Helios: maximum throughput ...", flush=True)
        profiles = launcher.start("profiles")
        bidders = [launcher.start("bidder", {"HELIOS_BIDDER_PROFILES_TARGET": profiles.target})
                   for _ in range(args.bidders)]
        gateway = launcher.start_gateway([b.target for b in bidders], f"127.0.0.1:{free_port()}")
        wait_healthz(gateway.url)
        run_wrk(gateway.url, 2, args.connections, launcher.started, "warm-up")
        peak = run_wrk(gateway.url, args.seconds, args.connections, launcher.started,
                       "helios (max)")
        print_result(peak)
        results.append(peak)

        half = max(1, int(peak.rps / 2))
        print(f"3/3 Helios: latency at half of its maximum ({half} req/s, open loop) ...",
              flush=True)
        steady = run_vegeta(gateway.url, half, args.seconds, launcher.started,
                            f"helios @ {half} req/s")
        print_result(steady)
        results.append(steady)
    finally:
        launcher.stop_all()

    share = peak.rps / ceiling.rps * 100
    print("\nsummary")
    print(f"  ceiling {ceiling.rps:.0f} req/s; helios {peak.rps:.0f} req/s = {share:.0f}% of it "
          f"(target >= 60%): {'MET' if share >= 60 else 'NOT MET'}")
    print(f"  p99 at {half} req/s: {steady.p99_ms:.2f} ms (target <= 10 ms): "
          f"{'MET' if steady.p99_ms <= 10 else 'NOT MET'}")
    out = ROOT / ".helios" / "bench" / "bid.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([r.__dict__ for r in results], indent=2))
    print(f"  raw figures: {out}")


def wait_healthz(url: str, timeout: float = 30.0) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as reply:
                if reply.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url}/healthz not 200 after {timeout}s")


if __name__ == "__main__":
    main()
