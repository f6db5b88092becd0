"""Kafka -> PostgreSQL through the real analytics service: end to end, exactly once under
re-delivery, and surviving a PostgreSQL outage with nothing lost."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from confluent_kafka import Consumer, TopicPartition

from helios.analytics.v1 import analytics_pb2 as pb
from helios.local.mesh import HELIOS, Launcher
from helios.platform import kafka
from helios.platform.kafka import delete_topics
from tests.conftest import Infra
from tests.harness import eventually
from tests.integration.analytics.support import (
    TcpProxy,
    analytics_stub,
    db_fetch,
    outcome,
    produce,
    produce_outcomes,
    stored_ids,
    unique,
)
from tests.integration.auction.support import collect, header

START = datetime(2026, 4, 1, 12, tzinfo=UTC)


def outcomes_for(site: str, count: int) -> list[object]:
    return [outcome(f"{site}-{i}", at=START + timedelta(minutes=i), site=site,
                    bid=0.5 + i / 100, win=i % 3 != 0) for i in range(count)]


@pytest.fixture
def own() -> tuple[str, kafka.Topics]:
    """Topics of this test's own: no other analytics process of the session (the mesh's)
    consumes them, so what lands in PostgreSQL is this test's service's doing."""
    prefix = unique("ingest") + "-"
    return prefix, kafka.Topics.from_env({"HELIOS_KAFKA_TOPIC_PREFIX": prefix})


@pytest.fixture
def topics(infra: Infra, own: tuple[str, kafka.Topics]) -> Iterator[kafka.Topics]:
    kafka.ensure_topics(infra.kafka_bootstrap, own[1].partitions())
    yield own[1]
    delete_topics(infra.kafka_bootstrap, list(own[1].partitions()))


def group_done(infra: Infra, topic: str, group: str) -> bool:
    """True when ``group`` has committed up to the end of every partition of ``topic``."""
    consumer = Consumer({"bootstrap.servers": infra.kafka_bootstrap, "group.id": group})
    try:
        partitions = [TopicPartition(topic, p) for p in range(3)]
        committed = consumer.committed(partitions, timeout=10)
        for tp in committed:
            _, high = consumer.get_watermark_offsets(tp, timeout=10)
            # An empty partition has nothing to commit (its committed offset stays unset).
            if high > 0 and tp.offset < high:
                return False
        return True
    finally:
        consumer.close()


def test_outcomes_are_stored_and_poison_goes_to_the_dlq(infra: Infra, launcher: Launcher,
                                                         own: tuple[str, kafka.Topics],
                                                         topics: kafka.Topics) -> None:
    site = unique("ingest") + ".example"
    analytics = launcher.start("analytics", {"HELIOS_ANALYTICS_CONSUMER_GROUP": unique("g"),
                                             "HELIOS_KAFKA_TOPIC_PREFIX": own[0]})
    messages = outcomes_for(site, 40)
    topic = topics.auction_outcomes
    produce_outcomes(infra.kafka_bootstrap, topic, messages[:20])  # type: ignore[arg-type]
    produce(infra.kafka_bootstrap, topic, [("poison-1", b"\xff\x00not protobuf"),
                                           ("poison-2", b"")])
    produce_outcomes(infra.kafka_bootstrap, topic, messages[20:])  # type: ignore[arg-type]
    ids = [f"{site}-{i}" for i in range(40)]

    eventually(lambda: len(stored_ids(infra.database_url, ids)) == 40, timeout=30)
    assert analytics.alive
    dead = sorted(collect(infra.kafka_bootstrap, topics.auction_outcomes_dlq, 2, linger=1.0),
                  key=lambda m: m.key() or b"")
    assert [(m.key(), m.value()) for m in dead] == [(b"poison-1", b"\xff\x00not protobuf"),
                                                    (b"poison-2", b"")]
    assert (header(dead[0], "error") or b"").startswith(b"undecodable: not an AuctionOutcome")
    assert header(dead[1], "error") == b"undecodable: empty payload"
    assert header(dead[0], "original-topic") == topic.encode()
    rows = {r["bid_request_id"]: r for r in db_fetch(
        infra.database_url, "SELECT * FROM auction_outcomes WHERE site_domain = $1", site)}
    win, loss = rows[f"{site}-1"], rows[f"{site}-3"]
    assert (win["win_status"], win["win_price"], win["bid_price"]) == (
        True, Decimal("0.5100"), Decimal("0.5100"))
    assert (loss["win_status"], loss["win_price"]) == (False, None)
    assert win["auction_timestamp"] == START + timedelta(minutes=1)
    assert win["currency"] == "USD" and win["user_id"] == "user-001"


def test_redelivery_stores_each_outcome_once(infra: Infra, launcher: Launcher,
                                             own: tuple[str, kafka.Topics],
                                             topics: kafka.Topics) -> None:
    site = unique("redeliver") + ".example"
    group = unique("g")
    topic = topics.auction_outcomes
    first = launcher.start("analytics", {"HELIOS_ANALYTICS_CONSUMER_GROUP": group,
                                         "HELIOS_KAFKA_TOPIC_PREFIX": own[0]})
    messages = outcomes_for(site, 30)
    ids = [f"{site}-{i}" for i in range(30)]
    produce_outcomes(infra.kafka_bootstrap, topic, messages)  # type: ignore[arg-type]
    eventually(lambda: len(stored_ids(infra.database_url, ids)) == 30, timeout=30)

    # The same messages again (a producer retry, an auction replay) ...
    produce_outcomes(infra.kafka_bootstrap, topic, messages)  # type: ignore[arg-type]
    eventually(lambda: group_done(infra, topic, group), timeout=30)
    # ... and the whole topic consumed again from the start (offsets reset: a new group).
    second_group = unique("g")
    launcher.start("analytics", {"HELIOS_ANALYTICS_CONSUMER_GROUP": second_group,
                                 "HELIOS_KAFKA_TOPIC_PREFIX": own[0]})
    eventually(lambda: group_done(infra, topic, second_group), timeout=60)

    assert stored_ids(infra.database_url, ids) == dict.fromkeys(ids, 1)
    with analytics_stub(first.target) as stub:
        stats = stub.GetStats(pb.GetStatsRequest(site_domain=site))
        daily = stub.GetDailyStats(pb.GetDailyStatsRequest(site_domain=site))
    # The rollup, too, counted each outcome once.
    assert (stats.total, stats.wins) == (30, 20)
    assert [(d.date, d.total, d.wins) for d in daily.results] == [("2026-04-01", 30, 20)]


def test_a_postgresql_outage_loses_nothing(infra: Infra, launcher: Launcher,
                                           own: tuple[str, kafka.Topics],
                                           topics: kafka.Topics) -> None:
    """PostgreSQL disappears from the service's view (a proxy it connects through is cut):
    the service keeps running and retrying, and stores everything once the proxy is back."""
    url = infra.database_url
    host_port = url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    proxy = TcpProxy("127.0.0.1" if host == "localhost" else host, int(port))
    proxy.start()
    try:
        via_proxy = url.replace(f"@{host_port}/", f"@127.0.0.1:{proxy.port}/")
        site = unique("outage") + ".example"
        prefix = own[0]
        analytics = launcher.start("analytics", {
            "HELIOS_ANALYTICS_CONSUMER_GROUP": unique("g"),
            "HELIOS_KAFKA_TOPIC_PREFIX": prefix,
            "HELIOS_DATABASE_URL": via_proxy,
            "HELIOS_ANALYTICS_RETRY_MAX_SECONDS": "0.5",
        })
        messages = outcomes_for(site, 60)
        ids = [f"{site}-{i}" for i in range(60)]
        produce_outcomes(infra.kafka_bootstrap, topics.auction_outcomes, messages[:20])  # type: ignore[arg-type]
        eventually(lambda: len(stored_ids(url, ids)) == 20, timeout=30)

        proxy.cut()
        produce_outcomes(infra.kafka_bootstrap, topics.auction_outcomes, messages[20:])  # type: ignore[arg-type]
        eventually(lambda: "retrying the same batch" in analytics.log_text(), timeout=30)
        time.sleep(3)
        assert analytics.alive
        assert len(stored_ids(url, ids)) == 20

        proxy.restore()
        eventually(lambda: len(stored_ids(url, ids)) == 60, timeout=60)
        assert stored_ids(url, ids) == dict.fromkeys(ids, 1)
        assert "batch handled after retrying; resuming" in analytics.log_text()
        with analytics_stub(analytics.target) as stub:
            assert stub.GetStats(pb.GetStatsRequest(site_domain=site)).total == 60
    finally:
        proxy.close()


def test_a_postgresql_restart_loses_nothing(infra: Infra, launcher: Launcher,
                                            own: tuple[str, kafka.Topics],
                                            topics: kafka.Topics) -> None:
    """The PostgreSQL the supervisor runs is really stopped and started again while outcomes
    keep arriving: the service survives and every outcome is stored once."""
    assert not os.environ.get("HELIOS_DATABASE_URL"), (
        "this test restarts the PostgreSQL the supervisor runs; unset HELIOS_DATABASE_URL")
    site = unique("restart") + ".example"
    analytics = launcher.start("analytics", {
        "HELIOS_ANALYTICS_CONSUMER_GROUP": unique("g"),
        "HELIOS_KAFKA_TOPIC_PREFIX": own[0],
        "HELIOS_ANALYTICS_RETRY_MAX_SECONDS": "0.5",
    })
    messages = outcomes_for(site, 60)
    ids = [f"{site}-{i}" for i in range(60)]
    produce_outcomes(infra.kafka_bootstrap, topics.auction_outcomes, messages[:20])  # type: ignore[arg-type]
    eventually(lambda: len(stored_ids(infra.database_url, ids)) == 20, timeout=30)

    local = [str(HELIOS), "local"]
    subprocess.run([*local, "stop", "postgres"], check=True, capture_output=True)
    try:
        produce_outcomes(infra.kafka_bootstrap, topics.auction_outcomes, messages[20:])  # type: ignore[arg-type]
        eventually(lambda: "retrying the same batch" in analytics.log_text(), timeout=30)
        assert analytics.alive
    finally:
        subprocess.run([*local, "start", "postgres"], check=True, capture_output=True)

    eventually(lambda: len(stored_ids(infra.database_url, ids)) == 60, timeout=60)
    assert stored_ids(infra.database_url, ids) == dict.fromkeys(ids, 1)
    assert analytics.alive
