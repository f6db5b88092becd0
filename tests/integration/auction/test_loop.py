"""The auction loop in-process with real Kafka clients: offsets wait for the broker's acks."""

from __future__ import annotations

import asyncio
from typing import Any

from confluent_kafka import Consumer, Producer
from prometheus_client import REGISTRY

from helios.auction.consumer import Auction
from helios.auction.rules import Rules
from helios.auction.service import PRODUCER_OVERRIDES
from helios.auction.settings import RuleSettings
from helios.local.mesh import free_port
from helios.platform.consumer import FETCH, Backoff, ConsumerLoop
from helios.platform.kafka import DeadLetters, consumer_config, producer_config
from tests.integration.auction.support import (
    AuctionKafka,
    a_bid,
    collect,
    committed,
    outcome_of,
    produce_bids,
)


def a_loop(kafka: AuctionKafka, producer: Producer) -> ConsumerLoop:
    # Short session and poll limits: a member that could not leave the group cleanly (its
    # LeaveGroup can be held behind a JoinGroup in flight) stops blocking the next one soon.
    consumer = Consumer(consumer_config(kafka.bootstrap, kafka.group_id, **FETCH,
                                        **{"session.timeout.ms": 6000,
                                           "max.poll.interval.ms": 10000}))
    return ConsumerLoop("auction", consumer,
                        Auction(producer, kafka.topics, Rules(RuleSettings())),
                        DeadLetters(producer, kafka.topics.bid_responses_dlq),
                        kafka.topics.bid_responses, batch_size=100, linger_seconds=0.005,
                        backoff=Backoff(0.2, 0.5))


def lag() -> float | None:
    return REGISTRY.get_sample_value("helios_consumer_lag_messages", {"consumer": "auction"})


def failures() -> float:
    return REGISTRY.get_sample_value("helios_consumer_retries_total",
                                     {"consumer": "auction", "step": "handler"}) or 0.0


async def until(condition: Any, seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - the condition is another loop's counter
            await asyncio.sleep(0.1)


async def stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


async def test_unacknowledged_outcomes_leave_the_offsets_uncommitted_and_nothing_is_lost(
        auction_kafka: AuctionKafka) -> None:
    topics = auction_kafka.topics
    bids = [a_bid(f"ack-{i}", 0.85) for i in range(25)]
    produce_bids(auction_kafka.bootstrap, topics.bid_responses, bids)

    # A producer whose broker never answers: every delivery times out.
    nowhere = Producer(producer_config(f"127.0.0.1:{free_port()}", **{
        **PRODUCER_OVERRIDES, "message.timeout.ms": 1000}))
    doomed = a_loop(auction_kafka, nowhere)
    before = failures()
    task = asyncio.create_task(doomed.run())
    # Two failed rounds: the batch was handled again, still not committed.
    await until(lambda: failures() >= before + 2, seconds=30)
    # The group never committed: every bid is lag, measured from the broker while retrying.
    await until(lambda: lag() == len(bids), seconds=10)
    await stopped(task)
    assert doomed.processed == 0
    assert all(offset < 0 for offset in committed(
        auction_kafka.bootstrap, auction_kafka.group_id, topics.bid_responses, 3).values())

    healthy = a_loop(auction_kafka, Producer(producer_config(auction_kafka.bootstrap,
                                                             **PRODUCER_OVERRIDES)))
    task = asyncio.create_task(healthy.run())
    outcomes = await asyncio.to_thread(collect, auction_kafka.bootstrap,
                                       topics.auction_outcomes, len(bids))
    await until(lambda: healthy.processed == len(bids), seconds=15)
    await stopped(task)
    assert lag() == 0
    assert {outcome_of(m).bid_request_id for m in outcomes} == {
        b.bid_request_id for b in bids}
    assert committed(auction_kafka.bootstrap, auction_kafka.group_id,
                     topics.bid_responses, 3)[0] == len(bids)
