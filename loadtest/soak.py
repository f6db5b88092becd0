"""Soak: the whole mesh under steady `POST /bid` traffic for a bounded time, then the check that
every bid answered 200 is in PostgreSQL exactly once.

The mesh (profiles, bidder, auction, analytics, Envoy) is started for the run on free ports,
with topics and a database of its own (created, migrated, and removed at the end). wrk, paced
(loadtest/wrk.py), sends a constant rate to 127.0.0.1 in 10-second windows, users drawn as
in the bid benchmark (Zipf over 100,000 synthetic profiles plus 10 % unknown users, see
loadtest/traffic.py); after each window one line shows the
throughput, latency, errors, each process's resident memory and CPU, and how many bids
PostgreSQL holds so far. A leak shows as memory that keeps growing; a loss as the final check
failing (exit status 1).

    python loadtest/soak.py [--minutes 5] [--rate 1000] [--profiles 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helios.local.mesh import Launcher
from helios.local.scratch import scratch
from helios.platform import settings
from helios.profiles.seed import run as seed
from helios.profiles.seed import run_synthetic
from loadtest import traffic, wrk
from loadtest.common import (
    BENCH_DIR,
    bidder_metrics,
    cpu_seconds,
    ensure_infra,
    rss_mb,
    wait_healthz,
)
from loadtest.svg import line_chart

WINDOW_SECONDS = 10


@dataclass
class Window:
    started_s: float
    sent: int
    ok: int
    rps: float
    p50_ms: float
    p99_ms: float
    stored: int
    cache_entries: float
    rss_mb: dict[str, float]
    cpu_percent: dict[str, float]


async def sql(url: str, statement: str, *args: object) -> object:
    conn = await asyncpg.connect(settings.libpq_url(url))
    try:
        return await conn.fetchval(statement, *args)
    finally:
        await conn.close()


async def _stored_and_distinct(url: str, site: str) -> tuple[int, int]:
    """Rows of the soak's site and distinct bid ids among them, read together."""
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow("SELECT count(*), count(DISTINCT bid_request_id) "
                                  "FROM auction_outcomes WHERE site_domain = $1", site)
    finally:
        await conn.close()
    return int(row[0]), int(row[1])


def process_stats(pids: dict[str, int]) -> tuple[dict[str, float], dict[str, float]]:
    """Resident memory (MB) and CPU seconds so far, per process."""
    return ({name: rss_mb(pid) for name, pid in pids.items()},
            {name: cpu_seconds(pid) for name, pid in pids.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--rate", type=int, default=1000, help="bids per second")
    parser.add_argument("--profiles", type=int, default=100_000,
                        help="synthetic profiles the users are drawn from")
    args = parser.parse_args()
    windows = max(1, round(args.minutes * 60 / WINDOW_SECONDS))

    ensure_infra()
    env = dict(os.environ)
    run = uuid.uuid4().hex[:8]
    seed(settings.redis_url(env))
    run_synthetic(settings.redis_url(env), args.profiles)
    mix = traffic.UserMix(args.profiles)
    print(traffic.describe(mix), flush=True)
    with scratch(env, "soak") as own:
        report = soak(env, own.env(), own.database_url, run, windows, args.rate, mix)
    report_soak(*report)
    _, sent_total, ok_total, stored, distinct = report
    if not (stored == distinct and ok_total <= stored <= sent_total):
        raise SystemExit(1)


def soak(env: dict[str, str], own: dict[str, str], db_url: str, run: str, windows: int,
         rate: int, mix: traffic.UserMix) -> tuple[list[Window], int, int, int, int]:
    logs = Path(tempfile.mkdtemp(prefix="helios-soak-"))
    print(f"soak: {windows} windows of {WINDOW_SECONDS}s at {rate} bids/s through Envoy; "
          f"topics {own['HELIOS_KAFKA_TOPIC_PREFIX']}*, database {db_url.rsplit('/', 1)[1]}; "
          f"logs in {logs}", flush=True)

    launcher = Launcher({**env, **own, "HELIOS_LOG_LEVEL": "WARNING"}, logs)
    results: list[Window] = []
    ok_total = sent_total = 0
    try:
        profiles = launcher.start("profiles")
        bidder = launcher.start("bidder", {"HELIOS_BIDDER_PROFILES_TARGET": profiles.target},
                                metrics=True)
        launcher.start("auction")
        analytics = launcher.start("analytics")
        gateway = launcher.start_gateway([bidder.target], analytics.target)
        wait_healthz(gateway.url)
        pids = {p.name: p.pid for p in launcher.started if p.pid is not None}
        site = f"soak-{run}.example"
        stored_sql = "SELECT count(*) FROM auction_outcomes WHERE site_domain = $1"

        # "not 200": answers that were not 200 plus failed connections; "cut": requests
        # still in flight when the window's wrk stopped (they may be stored: stored <= sent).
        print(f"  {'time':>5} {'bids/s':>7} {'p50':>8} {'p99':>8} {'not 200':>7} {'cut':>4} "
              f"{'stored':>8} {'cached':>7}  RSS MB / CPU %: {', '.join(pids)}", flush=True)
        started = time.monotonic()
        _, cpu_before = process_stats(pids)
        for window in range(windows):
            window_started = time.monotonic()
            load = wrk.run(gateway.url, mix.take(rate * WINDOW_SECONDS + 100),
                           seconds=WINDOW_SECONDS, connections=64, rate=rate,
                           run_id=f"soak-{run}-{window}", site=site)
            elapsed = time.monotonic() - window_started
            rss, cpu = process_stats(pids)
            sent, ok = load.sent, load.requests - load.errors
            failed = load.errors + load.socket_errors
            entries = bidder_metrics([bidder]).get("entries", 0.0)
            ok_total += ok
            sent_total += sent
            stored = int(str(asyncio.run(sql(db_url, stored_sql, site))))
            result = Window(
                window_started - started, sent, ok, load.rps, load.p50_ms, load.p99_ms, stored,
                entries, rss,
                {k: (cpu[k] - cpu_before.get(k, 0.0)) / elapsed * 100 for k in cpu})
            cpu_before = cpu
            results.append(result)
            memory = ", ".join(f"{rss[k]:.0f}/{result.cpu_percent[k]:.0f}" for k in rss)
            minutes, seconds = divmod(int(result.started_s + WINDOW_SECONDS), 60)
            print(f"  {minutes:>2}:{seconds:02d} {result.rps:>7.0f} {result.p50_ms:>6.1f}ms "
                  f"{result.p99_ms:>6.1f}ms {failed:>7} {sent - load.requests:>4} "
                  f"{stored:>8} {entries:>7.0f}  {memory}", flush=True)

        print("draining: waiting for PostgreSQL to hold every answered bid, and for its count "
              "to settle ...", flush=True)
        deadline = time.monotonic() + 60
        stored, changed = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = int(str(asyncio.run(sql(db_url, stored_sql, site))))
            if count != stored:
                stored, changed = count, time.monotonic()
            # Settled: every answered bid in, and no change for 3 s (cut requests land too).
            elif stored >= ok_total and time.monotonic() - changed >= 3:
                break
            time.sleep(1)
        stored, distinct = asyncio.run(_stored_and_distinct(settings.libpq_url(db_url), site))
    finally:
        launcher.stop_all()
    return results, sent_total, ok_total, stored, distinct


def report_soak(results: list[Window], sent: int, ok: int, stored: int, distinct: int) -> None:
    first, last = results[0], results[-1]
    print("\nsummary")
    print(f"  sent {sent:,}, answered 200: {ok:,}, stored in PostgreSQL: {stored:,} "
          f"({distinct:,} distinct)")
    exact = stored == distinct and ok <= stored <= sent
    print(f"  every answered bid stored exactly once: {'YES' if exact else 'NO'}")
    p99s = sorted(w.p99_ms for w in results)
    print(f"  p99 per window: median {p99s[len(p99s) // 2]:.1f} ms, worst {p99s[-1]:.1f} ms")
    for name in last.rss_mb:
        print(f"  {name:<10} RSS {first.rss_mb[name]:6.1f} MB after the first window, "
              f"{last.rss_mb[name]:6.1f} MB after the last")
    print(f"  the bidder's near cache held {first.cache_entries:,.0f} entries after the first "
          f"window, {last.cache_entries:,.0f} after the last (bounded by "
          f"HELIOS_BIDDER_CACHE_ENTRIES)")
    out = BENCH_DIR / "soak.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([asdict(w) for w in results], indent=2))
    minutes = [(i + 1) * WINDOW_SECONDS / 60 for i in range(len(results))]
    (out.with_name("soak-latency.svg")).write_text(line_chart(
        "Soak: latency per 10 s window",
        {"p99": list(zip(minutes, [w.p99_ms for w in results], strict=True)),
         "p50": list(zip(minutes, [w.p50_ms for w in results], strict=True))},
        x_label="minutes", y_label="ms"))
    (out.with_name("soak-memory.svg")).write_text(line_chart(
        "Soak: resident memory per process",
        {name: list(zip(minutes, [w.rss_mb[name] for w in results], strict=True))
         for name in last.rss_mb},
        x_label="minutes", y_label="MB"))
    print(f"  raw figures: {out}; charts: soak-latency.svg, soak-memory.svg beside it")


if __name__ == "__main__":
    main()
