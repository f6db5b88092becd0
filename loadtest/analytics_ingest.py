"""Analytics ingest drain rate: Kafka `auction_outcomes` -> PostgreSQL.

Pre-loads N outcomes into a fresh prefixed topic, then starts the real analytics service
(`helios serve analytics`, free ports) against a fresh database and measures how fast the rows
appear in PostgreSQL. Prints progress, the drain rate and the CPU used by the service and by
PostgreSQL. Everything it creates (topics, database) is removed at the end.

    python loadtest/analytics_ingest.py [--count 200000] [--batch-size 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from confluent_kafka import Producer

from helios.auction.v1.auction_pb2 import AuctionOutcome
from helios.local.mesh import Launcher
from helios.local.scratch import scratch
from helios.platform import kafka, settings
from loadtest.common import cpu_seconds, ensure_infra, infra_pids

SITES = ("news.example", "sports.example", "tech.example", "travel.example", "food.example")


def preload(bootstrap: str, topic: str, count: int) -> float:
    producer = Producer(kafka.producer_config(bootstrap, **{"linger.ms": 20,
                                                            "batch.size": 1_000_000}))
    start = datetime.now(UTC) - timedelta(days=7)
    message = AuctionOutcome(currency="USD", device_type="mobile", user_interests=[
        "sports", "tech"], interest_scores={"sports": 0.8, "tech": 0.4},
        winning_interest="sports", interest_score=0.8,
        enriched=True)
    started = time.perf_counter()
    for i in range(count):
        message.bid_request_id = f"bench-{i}"
        message.user_id = f"user-{i % 1000:03d}"
        message.site_domain = SITES[i % len(SITES)]
        message.page_url = f"https://{message.site_domain}/article/{i % 500}"
        message.bid_price = (35, 60, 85, 120)[i % 4] / 100
        message.win_status = i % 10 < 7
        message.win_price = message.bid_price if message.win_status else 0.0
        at = start + timedelta(seconds=i * 3)
        message.timestamp.FromDatetime(at)
        message.auction_timestamp.FromDatetime(at)
        while True:
            try:
                producer.produce(topic, message.SerializeToString(), message.bid_request_id)
                break
            except BufferError:
                producer.poll(0.05)
        if i % 10_000 == 0:
            producer.poll(0)
    if producer.flush(120):
        raise SystemExit("pre-load: messages left undelivered")
    return time.perf_counter() - started


async def count_rows(url: str) -> int:
    # The rollup counts exactly the stored rows, and reading it does not compete with the
    # ingest the way count(*) over the table would.
    conn = await asyncpg.connect(settings.libpq_url(url))
    try:
        return int(await conn.fetchval(
            "SELECT coalesce(sum(total), 0) FROM auction_outcomes_daily"))
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()

    ensure_infra()
    env = os.environ
    bootstrap = settings.kafka_bootstrap(env)
    with scratch(env, "bench-ingest") as own:
        launcher = Launcher({**env, **own.env(), "HELIOS_LOG_LEVEL": "WARNING",
                             "HELIOS_ANALYTICS_BATCH_SIZE": str(args.batch_size),
                             "HELIOS_ANALYTICS_CONSUMER_GROUP": f"bench-{uuid.uuid4().hex[:8]}"},
                            Path(tempfile.mkdtemp(prefix="analytics-ingest-")))
        try:
            measure(launcher, bootstrap, own.topics.auction_outcomes, own.database_url, args)
        finally:
            launcher.stop_all()


def measure(launcher: Launcher, bootstrap: str, topic: str, db_url: str,
            args: argparse.Namespace) -> None:
    seconds = preload(bootstrap, topic, args.count)
    print(f"pre-loaded {args.count:,} outcomes into {topic} in {seconds:.1f} s "
          f"({args.count / seconds:,.0f} msg/s)")
    postgres = infra_pids().get("postgres")
    pg_before = cpu_seconds(postgres) if postgres else 0.0
    service = launcher.start("analytics", wait=False)
    assert service.pid is not None
    started = time.perf_counter()
    first_row_at: float | None = None
    stored = 0
    last_print = 0.0
    while stored < args.count:
        if time.perf_counter() - started > args.timeout:
            raise SystemExit(f"timed out with {stored:,} of {args.count:,} rows stored")
        if not service.alive:
            raise SystemExit("service exited:\n" + service.log_tail())
        time.sleep(0.2)
        stored = asyncio.run(count_rows(db_url))
        now = time.perf_counter()
        if stored and first_row_at is None:
            first_row_at = now
        if now - last_print >= 2 or stored >= args.count:
            last_print = now
            print(f"  {now - started:6.1f} s  {stored:>9,} rows")
    finished = time.perf_counter()
    service_cpu = cpu_seconds(service.pid)
    # The postmaster with its backends (the service's pool keeps them for the whole run).
    pg_cpu = cpu_seconds(postgres) - pg_before if postgres else float("nan")
    assert first_row_at is not None
    drain = finished - first_row_at
    print(f"drained {args.count:,} outcomes in {drain:.2f} s after the first row "
          f"({finished - started:.2f} s including start-up): "
          f"{args.count / drain:,.0f} msg/s (target >= 50,000)")
    print(f"CPU: analytics service {service_cpu:.1f} s (incl. start-up), "
          f"PostgreSQL {pg_cpu:.1f} s; {os.cpu_count()} cores")

if __name__ == "__main__":
    main()
