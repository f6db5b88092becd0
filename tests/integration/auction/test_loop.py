"""The auction loop in-process with real Kafka clients: offsets wait for the broker's acks."""

from __future__ import annotations

import threading

from confluent_kafka import Consumer, Producer
from prometheus_client import REGISTRY

from helios.auction.consumer import AuctionLoop
from helios.auction.rules import Rules
from helios.auction.service import CONSUMER_OVERRIDES, PRODUCER_OVERRIDES
from helios.auction.settings import RuleSettings
from helios.local.mesh import free_port
from helios.platform.kafka import consumer_config, producer_config
from tests.harness import eventually
from tests.integration.auction.support import (
    AuctionKafka,
    a_bid,
    collect,
    committed,
    outcome_of,
    produce_bids,
)


def a_loop(kafka: AuctionKafka, producer: Producer) -> AuctionLoop:
    # Short session and poll limits: a member that could not leave the group cleanly (its
    # LeaveGroup can be held behind a JoinGroup in flight) stops blocking the next one soon.
    consumer = Consumer(consumer_config(kafka.bootstrap, kafka.group_id, **CONSUMER_OVERRIDES,
                                        **{"session.timeout.ms": 6000,
                                           "max.poll.interval.ms": 10000}))
    return AuctionLoop(consumer, producer, kafka.topics, Rules(RuleSettings()),
                       batch_size=100, poll_seconds=0.2, retry_seconds=0.2,
                       shutdown_seconds=1.0)


def failures() -> float:
    return REGISTRY.get_sample_value("helios_auction_delivery_failures_total") or 0.0


def test_unacknowledged_outcomes_leave_the_offsets_uncommitted_and_nothing_is_lost(
        auction_kafka: AuctionKafka) -> None:
    topics = auction_kafka.topics
    bids = [a_bid(f"ack-{i}", 0.85) for i in range(25)]
    produce_bids(auction_kafka.bootstrap, topics.bid_responses, bids)

    # A producer whose broker never answers: every delivery times out.
    nowhere = Producer(producer_config(f"127.0.0.1:{free_port()}", **PRODUCER_OVERRIDES,
                                       **{"message.timeout.ms": 1000}))
    doomed = a_loop(auction_kafka, nowhere)
    stop = threading.Event()
    before = failures()
    worker = threading.Thread(target=doomed.run, args=(stop,))
    worker.start()
    try:
        # Two failed rounds: the batch was rewound and taken again, still not committed.
        eventually(lambda: failures() >= before + 2, timeout=30)
    finally:
        stop.set()
        worker.join(30)
    assert not worker.is_alive()
    assert doomed.processed == 0
    assert all(offset < 0 for offset in committed(
        auction_kafka.bootstrap, auction_kafka.group_id, topics.bid_responses, 3).values())

    healthy = a_loop(auction_kafka, Producer(producer_config(auction_kafka.bootstrap,
                                                             **PRODUCER_OVERRIDES)))
    stop = threading.Event()
    worker = threading.Thread(target=healthy.run, args=(stop,))
    worker.start()
    try:
        outcomes = collect(auction_kafka.bootstrap, topics.auction_outcomes, len(bids))
        eventually(lambda: healthy.processed == len(bids), timeout=15)
    finally:
        stop.set()
        worker.join(30)
    assert {outcome_of(m).bid_request_id for m in outcomes} == {
        b.bid_request_id for b in bids}
    assert committed(auction_kafka.bootstrap, auction_kafka.group_id,
                     topics.bid_responses, 3)[0] == len(bids)
