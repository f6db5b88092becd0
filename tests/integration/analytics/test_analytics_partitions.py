"""Daily partitions against the real PostgreSQL: the retention drops whole raw days (and their
hourly sums) and the daily rollup keeps them; a redelivered outcome is refused as a duplicate
across a day boundary; and every query shape the API issues reads through an index or a
partition the time filter pruned to, never a sequential scan of the outcomes table."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from helios.analytics import partitions
from helios.analytics.decode import OutcomeRow
from helios.analytics.filters import parse_filters, parse_page
from helios.analytics.ingest import OutcomeWriter
from helios.analytics.queries import OutcomeQueries
from helios.analytics.store import OutcomeStore, rebuild_rollup
from helios.analytics.v1 import analytics_pb2 as pb
from helios.auction.v1.auction_pb2 import AuctionOutcome
from helios.local.scratch import scratch
from helios.platform.tracing import OFF
from tests.conftest import Infra
from tests.integration.analytics.support import db_fetch
from tests.unit.fakes import FakeMessage

TODAY = datetime.now(UTC).date()


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def row(request_id: str, at: datetime, *, win: bool = True) -> OutcomeRow:
    return OutcomeRow(request_id, "user-001", "parts.example", "mobile", "", 0.85,
                      0.85 if win else None, "USD", True, "", "[]", "{}", "", 0.0, win, None, at)


@pytest.fixture
def database(infra: Infra) -> Iterator[str]:
    with scratch(os.environ, "parts", topics=False) as own:
        yield own.database_url


def partition_days(url: str) -> set[date]:
    return {d for r in db_fetch(url, "SELECT c.relname FROM pg_inherits i JOIN pg_class c "
                                     "ON c.oid = i.inhrelid "
                                     "WHERE i.inhparent = 'auction_outcomes'::regclass")
            if (d := partitions.day_of(r["relname"])) is not None}


def test_retention_drops_the_raw_days_past_it_and_the_rollup_keeps_them(database: str) -> None:
    old, kept = TODAY - timedelta(days=31), TODAY - timedelta(days=30)

    async def go() -> None:
        engine = create_async_engine(database)
        try:
            store = OutcomeStore(engine)
            await store.insert([row("r-old-1", midnight(old) + timedelta(hours=23)),
                                row("r-old-2", midnight(old), win=False),
                                row("r-kept", midnight(kept)),
                                row("r-today", midnight(TODAY) + timedelta(minutes=1))])
            assert {old, kept, TODAY} <= partition_days(database)

            dropped = await partitions.maintain(engine, partitions.Retention(30), TODAY)

            assert dropped == [old]
            assert (await partitions.maintain(engine, partitions.Retention(30), TODAY)) == []
            queries = OutcomeQueries(engine)
            listed = await queries.page(parse_filters(pb.ListOutcomesRequest()),
                                        parse_page(pb.ListOutcomesRequest(),
                                                   parse_filters(pb.ListOutcomesRequest())))
            assert [r.bid_request_id for r in listed.rows] == ["r-today", "r-kept"]
            # Whole days come from the rollup, which kept the dropped day.
            stats = await queries.stats(parse_filters(pb.GetStatsRequest()))
            assert (stats.total, stats.wins) == (4, 3)
            daily = await queries.daily(parse_filters(pb.GetDailyStatsRequest()))
            assert [(d.day, d.total) for d in daily] == [(TODAY, 1), (kept, 1), (old, 2)]
            # A row for a dropped day (the store had it cached as existing) gets its
            # partition again on the retry of its batch.
            db_fetch(database, f"DROP TABLE {partitions.name(kept)}")
            with pytest.raises(Exception, match="no partition"):
                await store.insert([row("r-late", midnight(kept) + timedelta(hours=1))])
            await store.insert([row("r-late", midnight(kept) + timedelta(hours=1))])
        finally:
            await engine.dispose()

    asyncio.run(go())
    days = partition_days(database)
    assert old not in days
    # The hourly sums go with the raw day; the daily sums stay.
    hours = db_fetch(database, "SELECT hour, total FROM auction_outcomes_hourly ORDER BY hour")
    assert [(r["hour"], r["total"]) for r in hours] == [
        (midnight(kept), 1), (midnight(kept) + timedelta(hours=1), 1), (midnight(TODAY), 1)]
    assert db_fetch(database, "SELECT sum(total) AS n FROM auction_outcomes_daily "
                              "WHERE day = $1", old)[0]["n"] == 2
    assert {TODAY + timedelta(days=n) for n in range(-1, partitions.AHEAD_DAYS + 1)} <= days
    assert [r["bid_request_id"] for r in db_fetch(
        database, "SELECT bid_request_id FROM auction_outcomes ORDER BY 1")] == [
        "r-late", "r-today"]


def test_a_redelivery_after_midnight_is_refused_as_a_duplicate(database: str) -> None:
    """The message carries its auction time, so the copy delivered after midnight (a restart
    of analytics before its offset commit) goes to the partition of the day before, where the
    first copy is, and ON CONFLICT refuses it; a second auction of the same bid just after
    midnight (the auction restarted before committing) has a later time and a new day, and is
    refused by the look-back over the day before."""
    day = TODAY - timedelta(days=1)
    before_midnight = midnight(TODAY) - timedelta(milliseconds=1)

    def message(at: datetime, offset: int) -> Any:  # a FakeMessage stands in for a Message
        outcome = AuctionOutcome(bid_request_id="late-1", user_id="u", bid_price=0.85,
                                 currency="USD", win_status=True, win_price=0.85)
        outcome.auction_timestamp.FromDatetime(at)
        return FakeMessage(outcome.SerializeToString(), offset=offset, key=b"late-1")

    async def go() -> None:
        engine = create_async_engine(database)
        try:
            store = OutcomeStore(engine)
            first = OutcomeWriter(store, "t", tracer=OFF, retention=partitions.Retention(30),
                                  clock=lambda: before_midnight)
            assert await first.handle([message(before_midnight, 1)]) == []
            # After midnight, a restarted service (a new store, no cached days).
            after = midnight(TODAY) + timedelta(minutes=5)
            second = OutcomeWriter(OutcomeStore(engine), "t", tracer=OFF,
                                   retention=partitions.Retention(30), clock=lambda: after)
            assert await second.handle([message(before_midnight, 1)]) == []
            assert await second.handle([message(midnight(TODAY) + timedelta(seconds=2), 2)]) \
                == []
        finally:
            await engine.dispose()

    asyncio.run(go())
    stored = db_fetch(database, "SELECT tableoid::regclass::text AS part, auction_timestamp "
                                "FROM auction_outcomes WHERE bid_request_id = 'late-1'")
    assert [(r["part"], r["auction_timestamp"]) for r in stored] == [
        (partitions.name(day), before_midnight)]
    rollup = db_fetch(database, "SELECT day, total FROM auction_outcomes_daily")
    assert [(r["day"], r["total"]) for r in rollup] == [(day, 1)]


# ---- plans ----

DAYS = 10
ROWS = 100_000
LOAD = """
INSERT INTO auction_outcomes (
    bid_request_id, user_id, site_domain, device_type, page_url, bid_price, win_price,
    currency, enriched, win_status, auction_timestamp)
SELECT 'plan-' || g, 'user-' || (g % 1000), (ARRAY['a.example', 'b.example', 'c.example',
       'd.example', 'e.example'])[1 + g % 5], 'mobile', '',
       (ARRAY[0.35, 0.60, 0.85, 1.20])[1 + (g * 7) % 4],
       CASE WHEN (g * 13) % 10 < 7 THEN (ARRAY[0.35, 0.60, 0.85, 1.20])[1 + (g * 7) % 4] END,
       'USD', g % 5 <> 0, (g * 13) % 10 < 7,
       $1::timestamptz + make_interval(secs => (g - 1) * ($2::float8 / $3::int))
FROM generate_series(1, $3::int) AS g
"""


@pytest.fixture(scope="module")
def loaded(infra: Infra) -> Iterator[tuple[str, date]]:
    """A database of 100,000 outcomes over the 10 days before today, analysed."""
    first = TODAY - timedelta(days=DAYS)
    with scratch(os.environ, "plans", topics=False) as own:
        url = own.database_url

        async def load() -> None:
            engine = create_async_engine(url)
            try:
                await partitions.create(engine, (first + timedelta(days=n)
                                                 for n in range(DAYS + 3)))
                db_fetch(url, LOAD, midnight(first), DAYS * 86_400.0, ROWS)
                await rebuild_rollup(engine)
            finally:
                await engine.dispose()

        asyncio.run(load())
        db_fetch(url, "VACUUM ANALYZE auction_outcomes")
        db_fetch(url, "VACUUM ANALYZE auction_outcomes_daily")
        yield url, first


def _shapes(first: date) -> list[tuple[str, str, Any]]:
    inside = (midnight(first) + timedelta(days=4, hours=12)).isoformat()
    week = {"from": (first + timedelta(days=3)).isoformat(),
            "to": (first + timedelta(days=10)).isoformat()}
    lists: list[tuple[str, str, Any]] = [
        ("page", "no filter", pb.ListOutcomesRequest()),
        ("page", "site + win_status", pb.ListOutcomesRequest(site_domain="b.example",
                                                             win_status="true")),
        ("page", "user + enriched", pb.ListOutcomesRequest(user_id="user-42", enriched="true")),
        ("page", "price range by -win_price",
         pb.ListOutcomesRequest(min_price="0.5", max_price="0.9", ordering="-win_price")),
        ("page", "a week by bid_price", pb.ListOutcomesRequest(ordering="bid_price", **week)),
        ("page", "page 20 of 500, site", pb.ListOutcomesRequest(site_domain="e.example",
                                                                page="20", page_size="500")),
        ("winners", "winners", pb.ListWinnersRequest()),
    ]
    for ordering in ("auction_timestamp", "-auction_timestamp", "win_price", "-win_price",
                     "bid_price", "-bid_price"):
        lists.append(("token", f"token page by {ordering}",
                      pb.ListOutcomesRequest(ordering=ordering, page_size="500")))
    return [
        *lists,
        ("stats", "stats, no filter", pb.GetStatsRequest()),
        ("stats", "stats, user", pb.GetStatsRequest(user_id="user-42")),
        ("stats", "stats, site from inside a day",
         pb.GetStatsRequest(site_domain="a.example", **{"from": inside})),
        ("stats", "stats, from and to inside hours",
         pb.GetStatsRequest(**{"from": inside.replace(":00:00", ":17:00"),
                               "to": (first + timedelta(days=6)).isoformat() + "T03:40:00Z"})),
        ("stats", "stats, min_price", pb.GetStatsRequest(min_price="1")),
        ("daily", "daily, user", pb.GetDailyStatsRequest(user_id="user-42")),
        ("daily", "daily, site + enriched", pb.GetDailyStatsRequest(site_domain="c.example",
                                                                    enriched="true")),
        ("get", "one outcome by id", "plan-777"),
    ]


def _seq_scans(plan: dict[str, Any]) -> Iterator[str]:
    if plan.get("Node Type") == "Seq Scan" and plan["Relation Name"] != "auction_outcomes_daily":
        yield plan["Relation Name"]
    for child in plan.get("Plans", []):
        yield from _seq_scans(child)


def _scanned(plan: dict[str, Any]) -> Iterator[str]:
    name = plan.get("Relation Name", "")
    if name.startswith(partitions.PREFIX):
        yield name
    for child in plan.get("Plans", []):
        yield from _scanned(child)


@pytest.mark.parametrize("shape", range(len(_shapes(TODAY))),
                         ids=[name for _, name, _ in _shapes(TODAY)])
def test_every_query_shape_reads_an_index_or_a_pruned_partition(
        loaded: tuple[str, date], shape: int) -> None:
    url, first = loaded
    kind, _, request = _shapes(first)[shape]
    statements: list[tuple[str, Any]] = []
    plans: list[dict[str, Any]] = []

    async def go() -> None:
        engine = create_async_engine(url)

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if "auction_outcomes" in statement and not statement.startswith("EXPLAIN"):
                statements.append((statement, parameters))

        queries = OutcomeQueries(engine)
        try:
            if kind == "token":
                filters = parse_filters(request)
                page = await queries.page(filters, parse_page(request, filters))
                for _ in range(3):  # deep in the listing
                    request.page_token = page.next_page_token
                    page = await queries.page(filters, parse_page(request, filters))
                statements[:] = statements[-2:]  # the last page's count and rows
            elif kind in ("page", "winners"):
                filters = parse_filters(request)
                if kind == "winners":
                    filters = filters.with_wins_only()
                await queries.page(filters, parse_page(request, filters))
            elif kind == "stats":
                await queries.stats(parse_filters(request))
            elif kind == "daily":
                await queries.daily(parse_filters(request))
            else:
                await queries.get(request)
            async with engine.connect() as conn:
                for statement, parameters in statements:
                    result = await conn.exec_driver_sql(
                        "EXPLAIN (FORMAT JSON) " + statement, parameters)
                    # SQLAlchemy's asyncpg dialect decodes the json column itself.
                    plans.append(result.scalar_one()[0]["Plan"])
        finally:
            await engine.dispose()

    asyncio.run(go())
    assert plans, "no statement on auction_outcomes was issued"
    all_days = len(partition_days(url))
    # The days ahead hold no rows yet: reading one is no scan of anything.
    empty = {r["relname"] for r in db_fetch(
        url, "SELECT relname FROM pg_class WHERE relname LIKE 'auction_outcomes_p%' "
             "AND relkind = 'r' AND relpages = 0")}
    assert len(empty) <= partitions.AHEAD_DAYS + 1
    for (statement, _), plan in zip(statements, plans, strict=True):
        sequential = set(_seq_scans(plan)) - empty
        scanned = set(_scanned(plan))
        # A sequential scan is allowed only of partitions the time filter pruned down to.
        assert not sequential or len(scanned) <= 2 < all_days, (
            f"sequential scans of {sorted(sequential)} in {statement}")


def test_a_midnight_row_is_in_its_own_day(database: str) -> None:
    at = midnight(TODAY)

    async def go() -> None:
        engine = create_async_engine(database)
        try:
            await OutcomeStore(engine).insert([row("m-0", at), row("m-1", at - timedelta(
                microseconds=1))])
        finally:
            await engine.dispose()

    asyncio.run(go())
    parts = {r["bid_request_id"]: r["part"] for r in db_fetch(
        database, "SELECT bid_request_id, tableoid::regclass::text AS part FROM auction_outcomes")}
    assert parts == {"m-0": partitions.name(TODAY),
                     "m-1": partitions.name(TODAY - timedelta(days=1))}
