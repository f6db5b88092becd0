"""Fixtures for the auction's integration tests. The auction needs only Kafka, so these start
just Kafka through the project's script (not the whole `infra`) and give each test topics and
a consumer group of its own: the tests read whole topics and must not see other tests' bids."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from helios.local.mesh import HELIOS, Launcher, launched
from helios.platform import kafka, settings
from helios.platform.kafka import delete_topics
from tests.integration.auction.support import AuctionKafka

SEED = "integration-seed"


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    subprocess.run([str(HELIOS), "local", "up", "infra"], check=True)
    return settings.kafka_bootstrap(os.environ)


@pytest.fixture
def auction_kafka(kafka_bootstrap: str) -> Iterator[AuctionKafka]:
    name = uuid.uuid4().hex[:8]
    prefix = f"test-auction-{name}-"
    topics = kafka.Topics.from_env({"HELIOS_KAFKA_TOPIC_PREFIX": prefix})
    kafka.ensure_topics(kafka_bootstrap, topics.partitions())
    group_id = f"test-auction-{name}"
    env = {**os.environ, "HELIOS_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "HELIOS_KAFKA_TOPIC_PREFIX": prefix, "HELIOS_AUCTION_GROUP_ID": group_id,
           "HELIOS_AUCTION_SEED": SEED}
    yield AuctionKafka(kafka_bootstrap, topics, group_id, env)
    delete_topics(kafka_bootstrap, list(topics.partitions()))


@pytest.fixture
def auction_launcher(auction_kafka: AuctionKafka, tmp_path: Path) -> Iterator[Launcher]:
    """Starts `helios serve auction` on free ports against this test's topics."""
    with launched(auction_kafka.env, tmp_path) as launcher:
        yield launcher
