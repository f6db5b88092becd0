"""Analytics queries over 1,000,000 stored outcomes: p50/p95 of the service's own queries.

Creates a fresh database, migrates it, loads the rows with one generate_series INSERT (90 days,
1,000 users, 5 sites, 70 % wins), rebuilds the daily rollup and analyses the tables, then times
each query through helios.analytics.queries.OutcomeQueries (the code the gRPC servicer calls;
the gRPC hop adds about 0.3 ms). The database is dropped at the end unless --keep is given.

    python loadtest/analytics_queries.py [--rows 1000000] [--runs 30] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from sqlalchemy.ext.asyncio import create_async_engine

from helios.analytics.filters import parse_filters, parse_page
from helios.analytics.queries import OutcomeQueries
from helios.analytics.store import rebuild_rollup
from helios.analytics.v1 import analytics_pb2 as pb
from helios.local.scratch import scratch
from helios.platform import settings
from loadtest.common import ensure_infra

LOAD = """
INSERT INTO auction_outcomes (
    bid_request_id, user_id, site_domain, device_type, page_url, bid_price, win_price,
    currency, enriched, enrichment_reason, user_interests, interest_scores, winning_interest,
    interest_score, win_status, bid_timestamp, auction_timestamp)
SELECT 'bench-' || g,
       'user-' || lpad((g % 1000 + 1)::text, 3, '0'),
       (ARRAY['news.example', 'sports.example', 'tech.example', 'travel.example',
              'food.example'])[1 + g % 5],
       (ARRAY['mobile', 'desktop', 'tablet'])[1 + g % 3],
       'https://example.com/article/' || (g % 500),
       v.bid, CASE WHEN v.win THEN v.bid END, 'USD',
       g % 5 <> 0, CASE WHEN g % 5 = 0 THEN 'no profile' ELSE '' END,
       '["sports", "tech"]'::jsonb, '{"sports": 0.8, "tech": 0.4}'::jsonb, 'sports', 0.8,
       v.win, v.at - interval '50 milliseconds', v.at
FROM generate_series(1, $1::int) AS g,
     LATERAL (SELECT (ARRAY[0.35, 0.60, 0.85, 1.20])[1 + (g * 7) % 4]::numeric(12, 4) AS bid,
                     (g * 13) % 10 < 7 AS win,
                     timestamptz '2026-01-01 00:00:00+00'
                         + make_interval(secs => g * (7776000.0 / $1::int)) AS at) AS v
"""

# name -> the request the API would get (the same parsing as the servicer).
CASES: list[tuple[str, str, Any]] = [
    ("stats", "stats, no filter (rollup)", pb.GetStatsRequest()),
    ("stats", "stats, site + whole days (rollup)",
     pb.GetStatsRequest(site_domain="news.example", to="2026-02-01",
                        **{"from": "2026-01-10"})),
    ("stats", "stats, user_id (rows)", pb.GetStatsRequest(user_id="user-042")),
    ("stats", "stats, site + from inside a day (rollup+rows)",
     pb.GetStatsRequest(site_domain="news.example", **{"from": "2026-03-01T12:00:00Z"})),
    ("stats", "stats, min_price=1 (rollup)", pb.GetStatsRequest(min_price="1")),
    ("daily", "daily stats, no filter (rollup)", pb.GetDailyStatsRequest()),
    ("daily", "daily stats, enriched + site (rollup)",
     pb.GetDailyStatsRequest(enriched="true", site_domain="tech.example")),
    ("daily", "daily stats, user_id (rows)", pb.GetDailyStatsRequest(user_id="user-042")),
    ("page", "page 1, no filter", pb.ListOutcomesRequest()),
    ("page", "page 1, site + win_status", pb.ListOutcomesRequest(
        site_domain="sports.example", win_status="true")),
    ("page", "page 1, user + enriched", pb.ListOutcomesRequest(user_id="user-042",
                                                             enriched="true")),
    ("page", "page 1, price range by -win_price", pb.ListOutcomesRequest(
        min_price="0.5", max_price="0.9", ordering="-win_price")),
    ("page", "page 1, last week by bid_price", pb.ListOutcomesRequest(
        ordering="bid_price", to="2026-03-31", **{"from": "2026-03-24"})),
    ("page", "page 100 of 500, site", pb.ListOutcomesRequest(
        site_domain="food.example", page="100", page_size="500")),
    ("winners", "winners page 1", pb.ListWinnersRequest()),
]


async def sql(url: str, statement: str, *args: Any) -> None:
    conn = await asyncpg.connect(settings.libpq_url(url))
    try:
        await conn.execute(statement, *args)
    finally:
        await conn.close()


async def load(url: str, rows: int) -> None:
    started = time.perf_counter()
    await sql(url, LOAD, rows)
    engine = create_async_engine(url)
    try:
        await rebuild_rollup(engine)
    finally:
        await engine.dispose()
    # The visibility map lets count(*) use index-only scans, as on a settled production table.
    await sql(url, "VACUUM ANALYZE auction_outcomes")
    await sql(url, "VACUUM ANALYZE auction_outcomes_daily")
    print(f"loaded {rows:,} rows, rolled up and analysed in {time.perf_counter() - started:.1f} s")


async def time_cases(url: str, runs: int) -> None:
    engine = create_async_engine(url, pool_size=2)
    queries = OutcomeQueries(engine)
    calls: dict[str, Callable[[Any], Awaitable[Any]]] = {
        "stats": lambda r: queries.stats(parse_filters(r)),
        "daily": lambda r: queries.daily(parse_filters(r)),
        "page": lambda r: queries.page(parse_filters(r), parse_page(r)),
        "winners": lambda r: queries.page(parse_filters(r).with_wins_only(), parse_page(r)),
    }
    print(f"{'query':<44} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    try:
        for kind, name, request in CASES:
            await calls[kind](request)  # warm the cache and the prepared statement
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                await calls[kind](request)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            flag = "" if p95 <= 100 else "  > 100 ms"
            print(f"{name:<44} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f}"
                  f"{flag}")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    ensure_infra()
    with scratch(os.environ, "bench-queries", topics=False, keep=args.keep) as own:
        asyncio.run(load(own.database_url, args.rows))
        asyncio.run(time_cases(own.database_url, args.runs))


if __name__ == "__main__":
    main()
