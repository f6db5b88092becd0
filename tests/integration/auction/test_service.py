"""`helios serve auction` as a real process against the real Kafka."""

from __future__ import annotations

import time

from helios.auction.outcomes import OUTCOME_CONTENT_TYPE
from helios.auction.rules import Rules, to_cents
from helios.auction.settings import RuleSettings
from helios.bidder.v1.bidder_pb2 import BidResponse
from helios.local.mesh import Launcher
from tests.harness import eventually
from tests.integration.auction.conftest import SEED
from tests.integration.auction.support import (
    BID_CONTENT_TYPE,
    AuctionKafka,
    a_bid,
    collect,
    committed,
    header,
    outcome_of,
    produce,
    produce_bids,
    reset_group,
)
from tests.scrape import value

RULES = Rules(RuleSettings(seed=SEED))
PRICES = (1.20, 0.85, 0.60, 0.35, 0.29)


def test_bids_become_outcomes_keyed_by_id_with_the_decision(
        auction_kafka: AuctionKafka, auction_launcher: Launcher) -> None:
    bids = [a_bid(f"req-{i}", PRICES[i % len(PRICES)]) for i in range(60)]
    produce_bids(auction_kafka.bootstrap, auction_kafka.topics.bid_responses, bids)
    started = time.time()
    auction_launcher.start("auction")

    outcomes = collect(auction_kafka.bootstrap, auction_kafka.topics.auction_outcomes, len(bids),
                       linger=1.0)
    assert len(outcomes) == len(bids)
    by_id = {}
    for msg in outcomes:
        outcome = outcome_of(msg)
        assert msg.key() == outcome.bid_request_id.encode()
        assert header(msg, "content-type") == OUTCOME_CONTENT_TYPE[1]
        assert header(msg, "x-request-id") == f"rid-{outcome.bid_request_id}".encode()
        by_id[outcome.bid_request_id] = outcome
    assert set(by_id) == {b.bid_request_id for b in bids}

    for bid in bids:
        outcome = by_id[bid.bid_request_id]
        for field in BidResponse.DESCRIPTOR.fields:
            assert getattr(outcome, field.name) == getattr(bid, field.name), field.name
        decision = RULES.decide(bid.bid_request_id, bid.bid_price)
        assert (outcome.win_status, outcome.win_price) == (decision.won, decision.win_price)
        assert started - 1 <= outcome.auction_timestamp.ToNanoseconds() / 1e9 <= time.time()
    # The fixed seed and these ids give both results, and the 0.29 bids never win.
    assert {o.win_status for o in by_id.values()} == {True, False}
    assert not any(o.win_status for o in by_id.values() if o.bid_price < 0.30)


def test_the_money_metrics_add_up_to_the_decisions(
        auction_kafka: AuctionKafka, auction_launcher: Launcher) -> None:
    """Win rate, average bid and revenue on a dashboard come from these sums: each must be
    what the outcomes themselves say, to the cent."""
    bids = [a_bid(f"money-{i}", PRICES[i % len(PRICES)]) for i in range(50)]
    decisions = [RULES.decide(b.bid_request_id, b.bid_price) for b in bids]
    auction = auction_launcher.start("auction", metrics=True)
    url = f"http://127.0.0.1:{auction.metrics_port}/metrics"
    assert value(url, "helios_auction_win_price_usd_total") == 0
    assert value(url, "helios_auction_outcomes_produced_total", win_status="won") == 0

    produce_bids(auction_kafka.bootstrap, auction_kafka.topics.bid_responses, bids)
    collect(auction_kafka.bootstrap, auction_kafka.topics.auction_outcomes, len(bids))

    def cents(name: str, **labels: str) -> int:
        return round((value(url, name, **labels) or 0.0) * 100)

    won = [(b, d) for b, d in zip(bids, decisions, strict=True) if d.won]
    lost = [b for b, d in zip(bids, decisions, strict=True) if not d.won]
    assert won and lost

    def added_up() -> bool:
        assert value(url, "helios_auction_outcomes_produced_total",
                     win_status="won") == len(won)
        assert value(url, "helios_auction_outcomes_produced_total",
                     win_status="lost") == len(lost)
        assert cents("helios_auction_bid_price_usd_total", win_status="won") == sum(
            to_cents(b.bid_price) for b, _ in won)
        assert cents("helios_auction_bid_price_usd_total", win_status="lost") == sum(
            to_cents(b.bid_price) for b in lost)
        assert cents("helios_auction_win_price_usd_total") == sum(
            d.price_cents for _, d in won)
        return True

    eventually(added_up)


def test_poison_messages_go_to_the_dlq_and_the_next_bid_is_still_decided(
        auction_kafka: AuctionKafka, auction_launcher: Launcher) -> None:
    topics = auction_kafka.topics
    good = a_bid("req-after-poison", 0.85)
    produce(auction_kafka.bootstrap, topics.bid_responses, [
        (b"poison-1", b"\xff\xfe not protobuf", [BID_CONTENT_TYPE, ("x-request-id", b"rid-p1")]),
        (b"poison-2", BidResponse(user_id="u", bid_price=0.5).SerializeToString(), []),
        (b"poison-3", b'{"bid_request_id": "json"}', [("content-type", b"application/json")]),
        (good.bid_request_id.encode(), good.SerializeToString(), [BID_CONTENT_TYPE]),
    ])
    auction = auction_launcher.start("auction")

    outcomes = collect(auction_kafka.bootstrap, topics.auction_outcomes, 1, linger=1.0)
    assert [outcome_of(m).bid_request_id for m in outcomes] == [
        "req-after-poison"]
    dead = sorted(collect(auction_kafka.bootstrap, topics.bid_responses_dlq, 3, linger=1.0),
                  key=lambda m: m.key() or b"")
    assert [m.key() for m in dead] == [b"poison-1", b"poison-2", b"poison-3"]
    assert dead[0].value() == b"\xff\xfe not protobuf"  # as received
    assert (header(dead[0], "error") or b"").startswith(
        b"cannot decode helios.bidder.v1.BidResponse")
    assert header(dead[0], "x-request-id") == b"rid-p1"
    assert header(dead[1], "error") == b"bid_request_id is empty"
    assert b"application/json" in (header(dead[2], "error") or b"")
    assert [header(m, "original-offset") for m in dead] == [b"0", b"1", b"2"]
    assert {header(m, "original-topic") for m in dead} == {topics.bid_responses.encode()}
    assert {header(m, "original-partition") for m in dead} == {b"0"}
    assert auction.alive
    # Everything, poison included, is committed: a restart does not dead-letter them twice.
    eventually(lambda: committed(auction_kafka.bootstrap, auction_kafka.group_id,
                                 topics.bid_responses, 3)[0] == 4)


def test_reprocessing_after_a_rewind_publishes_the_same_decisions(
        auction_kafka: AuctionKafka, auction_launcher: Launcher) -> None:
    topics = auction_kafka.topics
    bids = [a_bid(f"again-{i}", PRICES[i % 4]) for i in range(40)]
    produce_bids(auction_kafka.bootstrap, topics.bid_responses, bids)
    auction = auction_launcher.start("auction")
    collect(auction_kafka.bootstrap, topics.auction_outcomes, len(bids))
    assert auction.stop() == 0
    assert committed(auction_kafka.bootstrap, auction_kafka.group_id,
                     topics.bid_responses, 3)[0] == len(bids)

    # Restarted with its offsets committed: nothing is decided twice...
    auction.spawn()
    auction.wait_healthy()
    marker = a_bid("marker", 0.85)
    produce_bids(auction_kafka.bootstrap, topics.bid_responses, [marker])
    after_restart = collect(auction_kafka.bootstrap, topics.auction_outcomes, len(bids) + 1,
                            linger=2.0)
    assert len(after_restart) == len(bids) + 1
    assert auction.stop() == 0

    # ...and rewound, as after a crash before the commit, every bid is decided the same way.
    reset_group(auction_kafka.bootstrap, auction_kafka.group_id, topics.bid_responses, 3)
    auction.spawn()
    auction.wait_healthy()
    everything = collect(auction_kafka.bootstrap, topics.auction_outcomes, 2 * len(bids) + 2,
                         linger=2.0)
    decisions: dict[str, set[tuple[bool, float]]] = {}
    for msg in everything:
        outcome = outcome_of(msg)
        decisions.setdefault(outcome.bid_request_id, set()).add(
            (outcome.win_status, outcome.win_price))
    assert len(everything) == 2 * len(bids) + 2
    assert set(decisions) == {b.bid_request_id for b in bids} | {"marker"}
    assert all(len(seen) == 1 for seen in decisions.values()), decisions
    assert {won for seen in decisions.values() for won, _ in seen} == {True, False}
