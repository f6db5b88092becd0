"""The auction hop's drain rate: how fast a backlog of bids becomes committed outcomes.

1. Pre-load N BidResponse messages (default 200,000; realistic sizes, price tiers, headers)
   into the bid topic of a fresh topic prefix on the local Kafka.
2. Run the auction loop exactly as `helios serve auction` builds it (same client settings,
   rules, batch size) in this process, with a fresh consumer group, until every message has
   been decided, produced, acknowledged and committed.
3. Print the drain rate (messages/s from the first consumed batch to the last commit, and
   including the group join), this process's CPU (all threads, librdkafka's included) and the
   broker's, then check that the outcome topic holds N messages. The topics are deleted after.

    python loadtest/auction_drain.py [--messages 200000] [--batch-size 2000] [--mode first_price]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from confluent_kafka import Consumer, Producer, TopicPartition

from helios.auction.service import build_loop
from helios.auction.settings import Settings
from helios.bidder.v1.bidder_pb2 import BidResponse
from helios.local.scratch import scratch
from helios.platform import kafka
from helios.platform.interests import ranked
from loadtest.common import cpu_seconds, ensure_infra, infra_pids

PRICES = (1.20, 0.85, 0.60, 0.35, 0.35)
INTERESTS = ("sports", "tech", "travel", "fashion", "finance", "food")


def bid(i: int) -> BidResponse:
    scores = {INTERESTS[(i + k) % len(INTERESTS)]: 0.1 + 0.2 * k for k in range(3)}
    message = BidResponse(
        bid_request_id=f"drain-{i:09d}", user_id=f"user-{i % 1000 + 1:03d}",
        bid_price=PRICES[i % len(PRICES)], currency="USD", enriched=i % 5 != 4,
        interest_scores=scores,
        user_interests=ranked(scores),
        winning_interest=INTERESTS[i % len(INTERESTS)], interest_score=0.8,
        site_domain="news.example", device_type="mobile",
        page_url=f"https://news.example/articles/{i % 5000}")
    message.timestamp.GetCurrentTime()
    return message


def preload(bootstrap: str, topic: str, count: int) -> None:
    producer = Producer(kafka.producer_config(bootstrap, **{"linger.ms": 20,
                                                            "batch.size": 1_000_000}))
    content = kafka.content_type(BidResponse.DESCRIPTOR.full_name)
    started = time.perf_counter()
    for i in range(count):
        message = bid(i)
        while True:
            try:
                producer.produce(topic, message.SerializeToString(),
                                 message.bid_request_id.encode(),
                                 headers=[content, ("x-request-id", f"rid-{i}".encode())])
                break
            except BufferError:
                producer.poll(0.1)
        if i % 50_000 == 0 and i:
            print(f"  pre-loaded {i:,}", flush=True)
    producer.flush(60)
    elapsed = time.perf_counter() - started
    print(f"pre-loaded {count:,} messages in {elapsed:.1f}s ({count / elapsed:,.0f} msg/s)")


def broker_cpu_seconds() -> float | None:
    """The local broker's CPU time (None when Kafka is external)."""
    pid = infra_pids().get("kafka")
    return cpu_seconds(pid) if pid else None


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def topic_size(bootstrap: str, topic: str, partitions: int) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"size-{uuid.uuid4()}"})
    try:
        total = 0
        for partition in range(partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), 10)
            total += high - low
        return total
    finally:
        consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--mode", choices=("first_price", "second_price"), default=None)
    args = parser.parse_args()

    ensure_infra()
    with scratch(os.environ, "bench-auction", database=False) as own:
        env = {**os.environ, **own.env(),
               "HELIOS_AUCTION_GROUP_ID": f"bench-auction-{uuid.uuid4().hex[:8]}"}
        if args.batch_size:
            env["HELIOS_AUCTION_BATCH_SIZE"] = str(args.batch_size)
        if args.mode:
            env["HELIOS_AUCTION_MODE"] = args.mode
        settings = Settings.from_env(env)
        topics = settings.topics
        preload(settings.kafka_bootstrap, topics.bid_responses, args.messages)
        drain(settings, args.messages)
        produced = topic_size(settings.kafka_bootstrap, topics.auction_outcomes,
                              topics.partitions()[topics.auction_outcomes])
        print(f"outcome topic holds {produced:,} messages (expected {args.messages:,}): "
              + ("OK" if produced == args.messages else "MISMATCH"))


def drain(settings: Settings, count: int) -> None:
    loop = build_loop(settings)
    stop = threading.Event()

    async def until_stopped() -> None:
        task = asyncio.create_task(loop.run())
        while not stop.is_set() and not task.done():  # noqa: ASYNC110 - stop is a thread's
            await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    worker = threading.Thread(target=asyncio.run, args=(until_stopped(),), name="auction-loop")
    cpu0, broker0, wall0 = own_cpu_seconds(), broker_cpu_seconds(), time.perf_counter()
    worker.start()
    first_seen: tuple[float, float, int] | None = None
    last_print = wall0
    while loop.processed < count:
        if not worker.is_alive():
            raise SystemExit("the auction loop stopped early")
        time.sleep(0.05)
        now = time.perf_counter()
        if first_seen is None and loop.processed:
            first_seen = (now, own_cpu_seconds(), loop.processed)
        if now - last_print >= 1.0:
            print(f"  drained {loop.processed:,} / {count:,}", flush=True)
            last_print = now
    wall1, cpu1, broker1 = time.perf_counter(), own_cpu_seconds(), broker_cpu_seconds()
    stop.set()
    worker.join(30)

    total = wall1 - wall0
    print(f"drained {count:,} messages in {total:.2f}s including the group join: "
          f"{count / total:,.0f} msg/s")
    if first_seen is not None and wall1 > first_seen[0]:
        steady = wall1 - first_seen[0]
        done = count - first_seen[2]
        print(f"steady drain rate (after the first committed batch): {done / steady:,.0f} msg/s "
              f"(batch size {settings.batch_size}, mode {settings.rules.mode})")
    cpu = cpu1 - cpu0
    print(f"auction process CPU: {cpu:.2f}s = {cpu / total:.2f} cores, "
          f"{cpu / count * 1e6:.1f} µs per message")
    if broker0 is not None and broker1 is not None:
        print(f"Kafka broker CPU meanwhile: {broker1 - broker0:.2f}s = "
              f"{(broker1 - broker0) / total:.2f} cores")


if __name__ == "__main__":
    main()
