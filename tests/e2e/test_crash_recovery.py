"""No data loss across crashes: a bid accepted into Kafka ends in PostgreSQL exactly once even
when the auction and the analytics processes are killed with SIGKILL (no drain, no flush, no
offset commit) while bids are flowing, and started again.

bid_responses -> auction -> auction_outcomes -> analytics -> PostgreSQL, on topics and consumer
groups of this test's own, so that no other process of the session takes part.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer

from helios.local.mesh import Launcher
from helios.platform import kafka
from helios.platform.kafka import delete_topics
from tests.conftest import Infra
from tests.harness import eventually
from tests.integration.analytics.support import db_fetch, stored_ids, unique
from tests.integration.auction.support import BID_CONTENT_TYPE, a_bid

BIDS = 3000
PER_SECOND = 500


@pytest.fixture
def topics(infra: Infra) -> Iterator[tuple[str, kafka.Topics]]:
    prefix = unique("crash") + "-"
    own = kafka.Topics.from_env({"HELIOS_KAFKA_TOPIC_PREFIX": prefix})
    kafka.ensure_topics(infra.kafka_bootstrap, own.partitions())
    yield prefix, own
    delete_topics(infra.kafka_bootstrap, list(own.partitions()))


def send_bids(bootstrap: str, topic: str, site: str, sent: list[str]) -> None:
    """``BIDS`` bids at ``PER_SECOND``, each acknowledged by the broker before it counts as
    sent (acks=all, as the bidder publishes)."""
    producer = Producer(kafka.producer_config(bootstrap))
    for start in range(0, BIDS, PER_SECOND // 10):
        chunk = [f"{site}-{i}" for i in range(start, min(start + PER_SECOND // 10, BIDS))]
        for request_id in chunk:
            bid = a_bid(request_id)
            bid.site_domain = site
            producer.produce(topic, bid.SerializeToString(), request_id.encode(),
                             headers=[BID_CONTENT_TYPE])
        assert producer.flush(30) == 0, "bids not acknowledged by Kafka"
        sent.extend(chunk)
        time.sleep(0.1)


def test_sigkilled_auction_and_analytics_lose_and_duplicate_nothing(
        infra: Infra, launcher: Launcher, topics: tuple[str, kafka.Topics]) -> None:
    prefix, own = topics
    site = unique("crash") + ".example"
    env = {"HELIOS_KAFKA_TOPIC_PREFIX": prefix,
           "HELIOS_AUCTION_GROUP_ID": unique("auction"),
           "HELIOS_ANALYTICS_CONSUMER_GROUP": unique("analytics")}
    auction = launcher.start("auction", env)
    analytics = launcher.start("analytics", env)

    sent: list[str] = []
    sender = threading.Thread(target=send_bids,
                              args=(infra.kafka_bootstrap, own.bid_responses, site, sent))
    sender.start()
    try:
        # Each process is killed while it has work in hand: bids it consumed but whose
        # offsets it has not committed, outcomes produced but not yet stored.
        for victim in (auction, analytics):
            before = len(stored_ids(infra.database_url, list(sent)))
            eventually(lambda before=before: len(stored_ids(infra.database_url,
                                                            list(sent))) > before + 200,
                       timeout=30)
            victim.kill()
            time.sleep(1.0)  # bids keep arriving while it is down
            victim.spawn()
            victim.wait_healthy()
    finally:
        sender.join()

    ids = [f"{site}-{i}" for i in range(BIDS)]
    assert sent == ids
    # A consumer group notices a killed member after its session timeout, then rebalances.
    eventually(lambda: len(stored_ids(infra.database_url, ids)) == BIDS, timeout=90)
    assert stored_ids(infra.database_url, ids) == dict.fromkeys(ids, 1)
    # Re-delivered outcomes must not be counted twice by the rollup the statistics read.
    rollup = db_fetch(infra.database_url, "SELECT coalesce(sum(total), 0) AS n "
                      "FROM auction_outcomes_daily WHERE site_domain = $1", site)
    assert rollup[0]["n"] == BIDS
    assert auction.alive and analytics.alive
