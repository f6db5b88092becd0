"""Every AnalyticsService method over gRPC against the real service, fed through real Kafka and
stored in the session's real PostgreSQL database. Each test filters on this module's own site
domain, so rows written by other tests do not disturb the figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from helios.analytics.v1 import analytics_pb2 as pb
from helios.analytics.v1.analytics_pb2_grpc import AnalyticsServiceStub
from helios.local.mesh import Service, launched
from tests.harness import eventually
from tests.integration.analytics.support import (
    analytics_stub,
    outcome,
    produce_outcomes,
    unique,
)

SITE = unique("queries") + ".example"
D1, D2, D3 = (datetime(2026, 3, day, tzinfo=UTC) for day in (1, 2, 3))
# (id, time, user, bid, win, enriched)
DATA = [
    ("q-1", D1.replace(hour=9), "user-001", 1.20, True, True),
    ("q-2", D1.replace(hour=10), "user-001", 0.60, True, False),
    ("q-3", D1.replace(hour=11), "user-001", 0.30, False, False),
    ("q-4", D2.replace(hour=8), "user-002", 0.85, True, True),
    ("q-5", D2.replace(hour=12), "user-001", 0.20, False, True),
    ("q-6", D3.replace(hour=23, minute=59, second=59), "user-002", 0.35, True, False),
]
IDS = {name: f"{SITE}-{name}" for name, *_ in DATA}


@pytest.fixture(scope="module")
def service(infra: object, service_env: dict[str, str], log_dir: Path,
            ) -> Iterator[Service]:
    with launched(service_env, log_dir) as launcher:
        analytics = launcher.start("analytics",
                                   {"HELIOS_ANALYTICS_CONSUMER_GROUP": unique("queries")})
        produce_outcomes(service_env["HELIOS_KAFKA_BOOTSTRAP_SERVERS"],
                         service_env["HELIOS_KAFKA_TOPIC_PREFIX"] + "auction_outcomes",
                         [outcome(IDS[n], at=at, site=SITE, user=u, bid=b, win=w, enriched=e)
                          for n, at, u, b, w, e in DATA])
        with analytics_stub(analytics.target) as stub:
            eventually(lambda: stub.GetStats(pb.GetStatsRequest(site_domain=SITE)).total
                       == len(DATA), timeout=30)
        yield analytics


@pytest.fixture
def stub(service: Service) -> Iterator[AnalyticsServiceStub]:
    with analytics_stub(service.target) as client:
        yield client


def ids(results: object) -> list[str]:
    return [r.bid_request_id.removeprefix(f"{SITE}-") for r in results]  # type: ignore[attr-defined]


def test_list_is_newest_first_with_count_and_pages(stub: AnalyticsServiceStub) -> None:
    reply = stub.ListOutcomes(pb.ListOutcomesRequest(site_domain=SITE, page_size="4"))
    assert (reply.count, reply.page, reply.page_size, reply.total_pages) == (6, 1, 4, 2)
    assert ids(reply.results) == ["q-6", "q-5", "q-4", "q-3"]
    second = stub.ListOutcomes(pb.ListOutcomesRequest(site_domain=SITE, page_size="4",
                                                      page="2"))
    assert ids(second.results) == ["q-2", "q-1"]
    beyond = stub.ListOutcomes(pb.ListOutcomesRequest(site_domain=SITE, page="9"))
    assert (beyond.count, list(beyond.results)) == (6, [])


def test_list_returns_every_field(stub: AnalyticsServiceStub) -> None:
    reply = stub.ListOutcomes(pb.ListOutcomesRequest(site_domain=SITE,
                                                     ordering="auction_timestamp"))
    first, loss = reply.results[0], reply.results[2]
    assert (first.bid_request_id, first.user_id, first.currency) == (IDS["q-1"], "user-001", "USD")
    assert (first.bid_price, first.win_price, first.win_status) == (1.20, 1.20, True)
    assert list(first.user_interests) == ["sports", "music"]
    assert dict(first.interest_scores) == {"sports": 0.8, "music": 0.3}
    assert (first.winning_interest, first.interest_score, first.enriched) == ("sports", 0.8, True)
    assert (first.site_domain, first.device_type) == (SITE, "mobile")
    assert first.auction_timestamp.ToDatetime(UTC) == D1.replace(hour=9)
    assert first.timestamp.ToDatetime(UTC) == D1.replace(hour=9)
    assert (loss.win_status, loss.win_price, loss.enrichment_reason) == (False, 0.0, "no profile")


@pytest.mark.parametrize(("ordering", "expected"), [
    ("auction_timestamp", ["q-1", "q-2", "q-3", "q-4", "q-5", "q-6"]),
    ("-auction_timestamp", ["q-6", "q-5", "q-4", "q-3", "q-2", "q-1"]),
    ("bid_price", ["q-5", "q-3", "q-6", "q-2", "q-4", "q-1"]),
    ("-bid_price", ["q-1", "q-4", "q-2", "q-6", "q-3", "q-5"]),
])
def test_ordering(stub: AnalyticsServiceStub, ordering: str, expected: list[str]) -> None:
    reply = stub.ListOutcomes(pb.ListOutcomesRequest(site_domain=SITE, ordering=ordering))
    assert ids(reply.results) == expected


@pytest.mark.parametrize("ordering", ["auction_timestamp", "-auction_timestamp", "win_price",
                                      "-win_price", "bid_price", "-bid_price"])
@pytest.mark.parametrize("method", ["ListOutcomes", "ListWinners"])
def test_page_tokens_walk_every_ordering_as_the_page_numbers_do(
        stub: AnalyticsServiceStub, method: str, ordering: str) -> None:
    request_type = getattr(pb, f"{method}Request")
    numbered = [ids(getattr(stub, method)(request_type(
        site_domain=SITE, ordering=ordering, page_size="2", page=str(n))).results)
        for n in (1, 2, 3)]
    walked: list[list[str]] = []
    numbers: list[int] = []
    token = ""
    while True:
        reply = getattr(stub, method)(request_type(site_domain=SITE, ordering=ordering,
                                                   page_size="2", page_token=token))
        walked.append(ids(reply.results))
        numbers.append(reply.page)
        token = reply.next_page_token
        if not token:
            break
    expected = [page for page in numbered if page]
    assert walked == expected
    assert numbers == list(range(1, len(expected) + 1))
    every = [row for page in walked for row in page]
    assert len(every) == len(set(every)) == reply.count


def test_a_token_sent_with_other_filters_is_refused_naming_it(stub: AnalyticsServiceStub,
                                                              ) -> None:
    token = stub.ListOutcomes(pb.ListOutcomesRequest(site_domain=SITE, page_size="2")
                              ).next_page_token
    assert token
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListOutcomes(pb.ListOutcomesRequest(site_domain=SITE, page_size="2",
                                                 win_status="true", page_token=token))
    assert (caught.value.code(), caught.value.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT, "page_token: was issued for other filters, ordering "
                                          "or page_size: send it with the query that returned it")


def test_ordering_by_win_price_sorts_a_loss_as_zero(stub: AnalyticsServiceStub) -> None:
    ascending = ids(stub.ListOutcomes(pb.ListOutcomesRequest(
        site_domain=SITE, ordering="win_price")).results)
    assert (set(ascending[:2]), ascending[2:]) == ({"q-3", "q-5"}, ["q-6", "q-2", "q-4", "q-1"])
    descending = ids(stub.ListOutcomes(pb.ListOutcomesRequest(
        site_domain=SITE, ordering="-win_price")).results)
    assert (descending[:4], set(descending[4:])) == (["q-1", "q-4", "q-2", "q-6"],
                                                     {"q-3", "q-5"})


@pytest.mark.parametrize(("fields", "expected"), [
    ({"user_id": "user-002"}, {"q-4", "q-6"}),
    ({"win_status": "false"}, {"q-3", "q-5"}),
    ({"win_status": "1"}, {"q-1", "q-2", "q-4", "q-6"}),
    ({"enriched": "true"}, {"q-1", "q-4", "q-5"}),
    ({"min_price": "0.6", "max_price": "1.0"}, {"q-2", "q-4"}),
    ({"min_price": "0.85"}, {"q-1", "q-4"}),
    ({"from": "2026-03-02", "to": "2026-03-03"}, {"q-4", "q-5"}),
    ({"from": "2026-03-01T10:00:00Z", "to": "2026-03-02T08:00:00Z"}, {"q-2", "q-3"}),
    ({"from": "2026-03-03T00:59:59+01:00"}, {"q-6"}),
    # Partial days at both ends around a whole day: the count mixes rollup and rows.
    ({"from": "2026-03-01T10:00:00Z", "to": "2026-03-03T12:00:00Z"},
     {"q-2", "q-3", "q-4", "q-5"}),
    ({"user_id": "user-001", "enriched": "false", "win_status": "true"}, {"q-2"}),
])
def test_filters(stub: AnalyticsServiceStub, fields: dict[str, str], expected: set[str]) -> None:
    reply = stub.ListOutcomes(pb.ListOutcomesRequest(site_domain=SITE, **fields))
    assert (reply.count, set(ids(reply.results))) == (len(expected), expected)


def test_stats(stub: AnalyticsServiceStub) -> None:
    stats = stub.GetStats(pb.GetStatsRequest(site_domain=SITE))
    assert (stats.total, stats.wins, stats.losses, stats.enriched_count) == (6, 4, 2, 3)
    assert stats.win_rate == pytest.approx(4 / 6)
    assert stats.revenue == pytest.approx(3.00)
    assert stats.average_win_price == pytest.approx(0.75)
    assert stats.average_bid_price == pytest.approx(3.50 / 6)


def test_stats_agree_between_the_rollup_and_the_raw_rows(stub: AnalyticsServiceStub) -> None:
    # Whole days: answered from the rollup. A bound inside a day: from the rows themselves.
    whole = stub.GetStats(pb.GetStatsRequest(site_domain=SITE, to="2026-03-03"))
    within = stub.GetStats(pb.GetStatsRequest(site_domain=SITE, to="2026-03-02T23:00:00Z"))
    for stats in (whole, within):
        assert (stats.total, stats.wins, stats.losses, stats.enriched_count) == (5, 3, 2, 3)
        assert stats.revenue == pytest.approx(2.65)
        assert stats.average_win_price == pytest.approx(2.65 / 3)
        assert stats.average_bid_price == pytest.approx(3.15 / 5)


@pytest.mark.parametrize(("fields", "total", "wins", "revenue"), [
    ({"user_id": "user-002"}, 2, 2, 1.20),
    ({"win_status": "false"}, 2, 0, 0.0),
    ({"enriched": "1"}, 3, 2, 2.05),
    ({"min_price": "0.5", "max_price": "0.9"}, 2, 2, 1.45),
    ({"from": "2026-03-02"}, 3, 2, 1.20),
    ({"from": "2026-03-01T10:00:00Z", "to": "2026-03-03T12:00:00Z"}, 4, 2, 1.45),
    ({"from": "2026-03-01T10:00:00Z", "win_status": "true"}, 3, 3, 1.80),
])
def test_stats_take_the_filters(stub: AnalyticsServiceStub, fields: dict[str, str], total: int,
                                wins: int, revenue: float) -> None:
    stats = stub.GetStats(pb.GetStatsRequest(site_domain=SITE, **fields))
    assert (stats.total, stats.wins) == (total, wins)
    assert stats.revenue == pytest.approx(revenue)


def test_stats_of_nothing_are_zero(stub: AnalyticsServiceStub) -> None:
    stats = stub.GetStats(pb.GetStatsRequest(site_domain=unique("empty")))
    assert stats == pb.GetStatsResponse()


def test_winners_are_only_wins_whatever_win_status_says(stub: AnalyticsServiceStub) -> None:
    for win_status in ("", "false"):
        reply = stub.ListWinners(pb.ListWinnersRequest(site_domain=SITE, win_status=win_status,
                                                       page_size="3"))
        assert (reply.count, reply.total_pages) == (4, 2)
        assert ids(reply.results) == ["q-6", "q-4", "q-2"]
    cheap = stub.ListWinners(pb.ListWinnersRequest(site_domain=SITE, max_price="0.6",
                                                   ordering="win_price"))
    assert ids(cheap.results) == ["q-6", "q-2"]


def test_daily_stats_newest_first_per_utc_day(stub: AnalyticsServiceStub) -> None:
    reply = stub.GetDailyStats(pb.GetDailyStatsRequest(site_domain=SITE))
    got = [(d.date, d.total, d.wins, round(d.revenue, 4), round(d.average_win_price, 4))
           for d in reply.results]
    assert got == [("2026-03-03", 1, 1, 0.35, 0.35), ("2026-03-02", 2, 1, 0.85, 0.85),
                   ("2026-03-01", 3, 2, 1.80, 0.90)]
    raw = stub.GetDailyStats(pb.GetDailyStatsRequest(site_domain=SITE, min_price="0"))
    assert [(d.date, d.total) for d in raw.results] == [
        ("2026-03-03", 1), ("2026-03-02", 1), ("2026-03-01", 2)]
    edges = stub.GetDailyStats(pb.GetDailyStatsRequest(
        site_domain=SITE, to="2026-03-03T12:00:00Z", **{"from": "2026-03-01T10:00:00Z"}))
    assert [(d.date, d.total, d.wins, round(d.revenue, 4)) for d in edges.results] == [
        ("2026-03-02", 2, 1, 0.85), ("2026-03-01", 2, 1, 0.60)]
    user = stub.GetDailyStats(pb.GetDailyStatsRequest(site_domain=SITE, user_id="user-002"))
    assert [(d.date, d.total, d.wins) for d in user.results] == [
        ("2026-03-03", 1, 1), ("2026-03-02", 1, 1)]


def test_get_one_outcome(stub: AnalyticsServiceStub) -> None:
    reply = stub.GetOutcome(pb.GetOutcomeRequest(bid_request_id=IDS["q-4"]))
    assert (reply.bid_request_id, reply.user_id, reply.win_price) == (IDS["q-4"], "user-002",
                                                                       0.85)


def test_an_unknown_id_is_not_found(stub: AnalyticsServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetOutcome(pb.GetOutcomeRequest(bid_request_id="no-such-id"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert caught.value.details() == "no outcome with bid_request_id 'no-such-id'"


PRICE_PROBLEM = ("{name}: must be a decimal number between 0 and 99999999.9999 with at most 4 "
                 "decimal places, got {raw}")
BAD = [
    ({"page_size": "abc"}, "page_size: must be an integer between 1 and 500, got 'abc'"),
    ({"page_size": "501"}, "page_size: must be an integer between 1 and 500, got '501'"),
    ({"page": "0"}, "page: must be an integer between 1 and 10000, got '0'"),
    ({"page": "21", "page_size": "500"}, "page: page 21 of 500 rows reaches row 10,500, past "
                                         "the 10,000 that page numbers reach: follow "
                                         "next_page_token for deeper pages"),
    ({"page_token": "not-a-token"}, "page_token: is not a page token this API issued"),
    ({"page_token": "x", "page": "2"}, "page: cannot be combined with page_token (the token "
                                       "already says which page comes next)"),
    ({"ordering": "-price"}, "ordering: must be one of auction_timestamp, win_price, bid_price, "
                             "optionally prefixed with '-', got '-price'"),
]
BAD_FILTERS = [
    ({"win_status": "maybe"}, "win_status: must be true or false (or 1 or 0), got 'maybe'"),
    ({"enriched": "yes"}, "enriched: must be true or false (or 1 or 0), got 'yes'"),
    ({"min_price": "cheap"}, PRICE_PROBLEM.format(name="min_price", raw="'cheap'")),
    ({"max_price": "-1"}, PRICE_PROBLEM.format(name="max_price", raw="'-1'")),
    ({"min_price": "2", "max_price": "1"}, "min_price: must not be greater than max_price (2 > 1)"),
    ({"from": "yesterday"}, "from: must be an RFC 3339 timestamp or a YYYY-MM-DD date, "
                            "got 'yesterday'"),
    ({"to": "2026-02-30"}, "to: must be an RFC 3339 timestamp or a YYYY-MM-DD date, "
                           "got '2026-02-30'"),
    ({"from": "2026-03-02", "to": "2026-03-01"},
     "from: must be earlier than to (2026-03-02T00:00:00+00:00 >= 2026-03-01T00:00:00+00:00)"),
    ({"user_id": "user\x00"},
     "user_id: must hold printable characters only, got U+0000 at position 4"),
    ({"site_domain": "x" * 254}, "site_domain: must be at most 253 characters, got 254"),
]


# Paging parameters exist only on the paged methods; filters on all four.
REFUSED = [(method, fields, message)
           for method in ("ListOutcomes", "ListWinners") for fields, message in BAD + BAD_FILTERS
           ] + [(method, fields, message)
                for method in ("GetStats", "GetDailyStats") for fields, message in BAD_FILTERS]


@pytest.mark.parametrize(("method", "fields", "message"), REFUSED)
def test_bad_parameters_are_refused_naming_them(stub: AnalyticsServiceStub, method: str,
                                                fields: dict[str, str], message: str) -> None:
    request = getattr(pb, f"{method}Request")(**fields)
    with pytest.raises(grpc.RpcError) as caught:
        getattr(stub, method)(request)
    assert (caught.value.code(), caught.value.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT, message)
