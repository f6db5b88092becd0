"""Analytics queries as the stored outcomes grow: p50/p95 of every query the API and the
dashboard issue, at each size of --rows, timed while outcomes are being ingested.

Creates one fresh database, migrates it and makes the day partitions of the retention (the last
30 days, today's the live one). For each size in turn it adds rows up to that size with
generate_series INSERTs of at most 1,000,000 rows each (spread uniformly over the 30 days ending
now; 1,000 users, 5 sites, 70 % wins), rebuilds the daily rollup and VACUUM ANALYZEs, then times
each query through helios.analytics.queries.OutcomeQueries (the code the gRPC servicer calls;
the gRPC hop adds about 0.3 ms) while a background task writes 1,000 outcomes/s through the real
OutcomeStore. A page asked for by token is reached by walking the tokens once, untimed; the
page it leads to is timed.

Prints a table per size, then p95 by query and size; merges the figures into
.helios/bench/queries.json (``{rows: {query: {p50_ms, p95_ms}}}``, so that runs of different
sizes accumulate) and charts p95 against rows in queries.svg beside it. The database is dropped
at the end unless --keep is given.

    python loadtest/analytics_queries.py [--rows 1000000 [5000000 20000000]] [--runs 30]
                                         [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from helios.analytics import partitions
from helios.analytics.decode import OutcomeRow
from helios.analytics.filters import parse_bid_request_id, parse_filters, parse_page
from helios.analytics.queries import OutcomePage, OutcomeQueries
from helios.analytics.store import OutcomeStore, rebuild_rollup
from helios.analytics.v1 import analytics_pb2 as pb
from helios.local.scratch import scratch
from helios.platform import settings
from helios.platform.errors import NotFound
from loadtest import svg
from loadtest.common import BENCH_DIR, ensure_infra

TARGET_MS = 100.0
# The default of HELIOS_ANALYTICS_RETENTION_DAYS: every loaded row is inside it.
SPAN = timedelta(days=30)
CHUNK_ROWS = 1_000_000
SITES = ("news.example", "sports.example", "tech.example", "travel.example", "food.example")
# The ingest: BATCH rows every INTERVAL seconds, 1,000 outcomes/s.
BATCH, INTERVAL = 100, 0.1
ORDERINGS = ("-auction_timestamp", "auction_timestamp", "-win_price", "win_price",
             "-bid_price", "bid_price")
# Lines per chart panel: svg.line_chart has six colours, one is the target line's.
PER_PANEL = len(svg.COLOURS) - 1

# Rows $1..$2 of an increment whose row $3 + n lands at $4 + n x $5 seconds.
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
FROM generate_series($1::int, $2::int) AS g,
     LATERAL (SELECT (ARRAY[0.35, 0.60, 0.85, 1.20])[1 + (g * 7) % 4]::numeric(12, 4) AS bid,
                     (g * 13) % 10 < 7 AS win,
                     $4::timestamptz
                         + make_interval(secs => (g - $3::int) * $5::float8) AS at) AS v
"""


@dataclass(frozen=True)
class Case:
    name: str
    # Which call answers it (see time_cases).
    kind: str
    request: Any
    # A page by token: how many pages are walked, untimed, for the token the request carries.
    walk: int = 0


def cases(now: datetime, loaded: int) -> list[Case]:
    """Every shape of query the API and the dashboard (gateway/dashboard/index.html: stats,
    daily stats, a page by token, a 500-row sample, all with the same filters) can issue, with
    dates relative to ``now``."""
    today = now.date()

    def day(back: int) -> str:
        return (today - timedelta(days=back)).isoformat()

    deep = [Case(f"page after 50,000 rows by token, {ordering}", "page",
                 pb.ListOutcomesRequest(ordering=ordering, page_size="500"), walk=100)
            for ordering in ORDERINGS]
    return [
        Case("stats, no filter (rollup)", "stats", pb.GetStatsRequest()),
        Case("stats, site + whole days (rollup)", "stats", pb.GetStatsRequest(
            site_domain="news.example", to=day(5), **{"from": day(20)})),
        Case("stats, user_id (rows, index only)", "stats", pb.GetStatsRequest(user_id="user-042")),
        Case("stats, site + from inside an hour (rollups+rows)", "stats", pb.GetStatsRequest(
            site_domain="news.example", **{"from": f"{day(10)}T12:17:00Z"})),
        Case("stats, min_price=1 (rollup)", "stats", pb.GetStatsRequest(min_price="1")),
        Case("daily stats, no filter (rollup)", "daily", pb.GetDailyStatsRequest()),
        Case("daily stats, enriched + site (rollup)", "daily", pb.GetDailyStatsRequest(
            enriched="true", site_domain="tech.example")),
        Case("daily stats, user_id (rows, index only)", "daily", pb.GetDailyStatsRequest(
            user_id="user-042")),
        Case("daily stats, from inside an hour (rollups+rows)", "daily",
             pb.GetDailyStatsRequest(**{"from": f"{day(7)}T12:17:00Z"})),
        Case("daily stats, from and to inside hours, 2 days (rollups+rows)", "daily",
             pb.GetDailyStatsRequest(to=f"{day(3)}T09:45:00Z", **{"from": f"{day(5)}T12:17:00Z"})),
        Case("page 1, no filter", "page", pb.ListOutcomesRequest()),
        Case("page 1, site + win_status", "page", pb.ListOutcomesRequest(
            site_domain="sports.example", win_status="true")),
        Case("page 1, user + enriched", "page", pb.ListOutcomesRequest(
            user_id="user-042", enriched="true")),
        Case("page 1, price range by -win_price", "page", pb.ListOutcomesRequest(
            min_price="0.5", max_price="0.9", ordering="-win_price")),
        Case("page 1, last week by bid_price", "page", pb.ListOutcomesRequest(
            ordering="bid_price", to=day(0), **{"from": day(7)})),
        Case("sample page of 500 (dashboard), no filter", "page", pb.ListOutcomesRequest(
            page_size="500")),
        Case("page 20 of 500, site", "page", pb.ListOutcomesRequest(
            site_domain="food.example", page="20", page_size="500")),
        Case("page 100 of 500 by token, site", "page", pb.ListOutcomesRequest(
            site_domain="food.example", page_size="500"), walk=99),
        *deep,
        Case("winners page 1", "winners", pb.ListWinnersRequest()),
        Case("GetOutcome, stored id", "get", pb.GetOutcomeRequest(
            bid_request_id=f"bench-{loaded // 2}")),
        Case("GetOutcome, unknown id (NOT_FOUND)", "missing", pb.GetOutcomeRequest(
            bid_request_id="bench-0")),
        Case("dashboard view, no filter (its 4 requests at once)", "dashboard",
             pb.ListOutcomesRequest()),
    ]


class Ingest:
    """1,000 outcomes/s through the real OutcomeStore, as the analytics service writes while
    the dashboard reads: BATCH rows every INTERVAL seconds on a fixed schedule (a late batch is
    written at once and the schedule kept, so the rate holds), each auctioned now."""

    def __init__(self, store: OutcomeStore) -> None:
        self._store = store
        self.written = 0
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Ingests while the block runs; prints what it achieved afterwards."""
        before, started = self.written, time.perf_counter()
        self._stop.clear()
        self._task = asyncio.create_task(self._run())
        try:
            yield
        finally:
            self._stop.set()
            await self._task  # raises what stopped the ingest, if anything did
            seconds = time.perf_counter() - started
            rows = self.written - before
            print(f"ingest meanwhile: {rows:,} rows through OutcomeStore in {seconds:.1f} s = "
                  f"{rows / seconds:,.0f} outcomes/s (target {BATCH / INTERVAL:,.0f}/s)",
                  flush=True)

    def check(self) -> None:
        """Raises the ingest's error if it has stopped by itself."""
        if self._task is not None and self._task.done():
            self._task.result()
            raise RuntimeError("the ingest stopped before it was asked to")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while not self._stop.is_set():
            now = datetime.now(UTC)
            await self._store.insert([self._row(now) for _ in range(BATCH)])
            due += INTERVAL
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), max(due - loop.time(), 0))

    def _row(self, now: datetime) -> OutcomeRow:
        n = self.written = self.written + 1
        bid = (0.35, 0.60, 0.85, 1.20)[n * 7 % 4]
        win = n * 13 % 10 < 7
        return OutcomeRow(
            bid_request_id=f"ingest-{n}", user_id=f"user-{n % 1000 + 1:03d}",
            site_domain=SITES[n % 5], device_type="mobile",
            page_url=f"https://example.com/article/{n % 500}", bid_price=bid,
            win_price=bid if win else None, currency="USD", enriched=n % 5 != 0,
            enrichment_reason="" if n % 5 else "no profile",
            user_interests='["sports", "tech"]', interest_scores='{"sports": 0.8, "tech": 0.4}',
            winning_interest="sports", interest_score=0.8, win_status=win,
            bid_timestamp=now - timedelta(milliseconds=50), auction_timestamp=now)


async def grow(url: str, engine: AsyncEngine, stored: int, target: int) -> None:
    """Adds rows ``stored + 1`` .. ``target``, spread over the SPAN ending now; rolls up and
    analyses."""
    rows = target - stored
    end = datetime.now(UTC)
    start = end - SPAN
    await partitions.create(engine, (partitions.utc_day(start) + timedelta(days=n)
                                     for n in range(SPAN.days + 1)))
    print(f"loading {rows:,} rows (to {target:,}) over {partitions.utc_day(start)} .. "
          f"{partitions.utc_day(end)}", flush=True)
    started = time.perf_counter()
    conn = await asyncpg.connect(settings.libpq_url(url))
    try:
        for first in range(stored + 1, target + 1, CHUNK_ROWS):
            last = min(first + CHUNK_ROWS - 1, target)
            chunk_started = time.perf_counter()
            await conn.execute(LOAD, first, last, stored, start, SPAN.total_seconds() / rows)
            took = time.perf_counter() - chunk_started
            print(f"  {last:>12,} rows: +{last - first + 1:,} in {took:.1f} s "
                  f"({(last - first + 1) / took:,.0f} rows/s), "
                  f"{time.perf_counter() - started:.0f} s so far", flush=True)
        inserted = time.perf_counter() - started
        await rebuild_rollup(engine)
        rolled_up = time.perf_counter() - started
        # The visibility map lets count(*) use index-only scans, as on a settled production
        # table.
        await conn.execute("VACUUM ANALYZE auction_outcomes")
        await conn.execute("VACUUM ANALYZE auction_outcomes_daily")
    finally:
        await conn.close()
    total = time.perf_counter() - started
    print(f"loaded {rows:,} rows in {inserted:.1f} s = {rows / inserted:,.0f} rows/s; rollup "
          f"{rolled_up - inserted:.1f} s, VACUUM ANALYZE {total - rolled_up:.1f} s; "
          f"{total:.1f} s in all ({rows / total:,.0f} rows/s)", flush=True)


async def walk(queries: OutcomeQueries, request: Any, pages: int) -> Any | None:
    """The request of page ``pages + 1``, by the token of page ``pages``; None if the listing
    ends before."""
    for _ in range(pages):
        filters = parse_filters(request)
        token = (await queries.page(filters, parse_page(request, filters))).next_page_token
        if not token:
            return None
        request = with_fields(request, page_token=token)
    return request


def with_fields(request: Any, **fields: str) -> Any:
    copy = type(request)()
    copy.CopyFrom(request)
    for name, value in fields.items():
        setattr(copy, name, value)
    return copy


async def time_cases(queries: OutcomeQueries, ingest: Ingest, timed: list[Case],
                     runs: int) -> dict[str, dict[str, float]]:
    async def page(r: Any, wins_only: bool = False) -> OutcomePage:
        filters = parse_filters(r)
        filters = filters.with_wins_only() if wins_only else filters
        return await queries.page(filters, parse_page(r, filters))

    async def missing(r: Any) -> None:
        with contextlib.suppress(NotFound):
            await queries.get(parse_bid_request_id(r.bid_request_id))
            raise RuntimeError(f"{r.bid_request_id} was expected not to exist")

    async def dashboard(r: Any) -> None:
        filters = parse_filters(r)
        await asyncio.gather(queries.stats(filters), queries.daily(filters), page(r),
                             page(with_fields(r, page_size="500")))

    calls: dict[str, Callable[[Any], Awaitable[Any]]] = {
        "stats": lambda r: queries.stats(parse_filters(r)),
        "daily": lambda r: queries.daily(parse_filters(r)),
        "page": page,
        "winners": lambda r: page(r, wins_only=True),
        "get": lambda r: queries.get(parse_bid_request_id(r.bid_request_id)),
        "missing": missing,
        "dashboard": dashboard,
    }
    width = max(len(case.name) for case in timed)
    print(f"{'query':<{width}} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}", flush=True)
    figures: dict[str, dict[str, float]] = {}
    for case in timed:
        request = await walk(queries, case.request, case.walk) if case.walk else case.request
        if request is None:
            print(f"{case.name:<{width}} skipped: the listing ends before", flush=True)
            continue
        await calls[case.kind](request)  # warm the cache and the prepared statement
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            await calls[case.kind](request)
            times.append((time.perf_counter() - started) * 1000)
        ingest.check()
        times.sort()
        p50 = statistics.median(times)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        flag = "" if p95 <= TARGET_MS else f"  > {TARGET_MS:g} ms"
        print(f"{case.name:<{width}} {p50:8.1f} {p95:8.1f} {times[-1]:8.1f}{flag}", flush=True)
        figures[case.name] = {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
    return figures


async def bench(url: str, sizes: list[int], runs: int) -> dict[str, dict[str, dict[str, float]]]:
    # As in the service (helios/analytics/service.py): the ingest and the queries share one
    # event loop and one pool, of HELIOS_ANALYTICS_DB_POOL_SIZE's default size.
    engine = create_async_engine(url, pool_size=5)
    ingest = Ingest(OutcomeStore(engine))
    results: dict[str, dict[str, dict[str, float]]] = {}
    stored = 0
    try:
        for size in sizes:
            await grow(url, engine, stored, size)
            stored = size
            print(f"\n{size:,} rows (+{ingest.written:,} ingested so far): {runs} runs per "
                  f"query while ingesting {BATCH / INTERVAL:,.0f} outcomes/s", flush=True)
            async with ingest.running():
                results[str(size)] = await time_cases(
                    OutcomeQueries(engine), ingest, cases(datetime.now(UTC), size), runs)
            print(flush=True)
    finally:
        await engine.dispose()
    return results


def record(results: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, Any]]:
    """Merges this run's sizes into queries.json (a size measured again is replaced)."""
    out = BENCH_DIR / "queries.json"
    merged: dict[str, dict[str, Any]] = json.loads(out.read_text()) if out.exists() else {}
    merged.update(results)
    merged = dict(sorted(merged.items(), key=lambda item: int(item[0])))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(merged, indent=2) + "\n")
    return merged


def summary(merged: dict[str, dict[str, Any]], names: list[str], fresh: set[str]) -> None:
    width = max(len(name) for name in names)
    heads = [_size(int(size)) + ("" if size in fresh else "*") for size in merged]
    print(f"p95 ms by stored rows (* an earlier run's, from queries.json; ! over "
          f"{TARGET_MS:g} ms)")
    print(f"{'query':<{width}} " + " ".join(f"{head:>9}" for head in heads))
    for name in names:
        cells = []
        for figures in merged.values():
            p95 = figures.get(name, {}).get("p95_ms")
            cells.append(f"{'-':>9}" if p95 is None else
                         f"{p95:8.1f}{'!' if p95 > TARGET_MS else ' '}")
        print(f"{name:<{width}} " + " ".join(cells))


def chart(merged: dict[str, dict[str, Any]], names: list[str]) -> Path:
    """p95 against rows, one line per query, in panels of svg.line_chart stacked in one file
    (a panel's six colours hold PER_PANEL queries and the target)."""
    sizes = [int(size) for size in merged]
    groups = [names[i:i + PER_PANEL] for i in range(0, len(names), PER_PANEL)]
    panels = []
    for number, group in enumerate(groups):
        # The target first: the same colour in every panel.
        series: dict[str, list[tuple[float, float]]] = {
            f"target {TARGET_MS:g} ms": [(sizes[0], TARGET_MS), (sizes[-1], TARGET_MS)]}
        series.update({name: [(int(size), figures[name]["p95_ms"])
                              for size, figures in merged.items() if name in figures]
                       for name in group})
        panel = svg.line_chart(
            f"analytics queries, p95 by stored rows ({number + 1}/{len(groups)})", series,
            x_label="stored rows (ticks evenly spaced)", y_label="p95 ms", x_ticks=sizes)
        # Placed one under the other; the line labels (query names) reach past the panel.
        panels.append(panel.replace(
            "<svg ", f'<svg y="{number * svg.HEIGHT}" overflow="visible" ', 1))
    out = BENCH_DIR / "queries.svg"
    out.write_text(f'<svg xmlns="http://www.w3.org/2000/svg" width="{svg.WIDTH + 260}" '
                   f'height="{len(groups) * svg.HEIGHT}">\n' + "".join(panels) + "</svg>\n")
    return out


def _size(rows: int) -> str:
    return f"{rows / 1e6:g}M" if rows >= 1_000_000 else f"{rows / 1e3:g}k"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000],
                        help="sizes to time at, loaded incrementally into one database "
                             "(the curve: 1000000 5000000 20000000)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    sizes = sorted(set(args.rows))
    if sizes[0] < 1:
        parser.error("--rows: sizes must be positive")

    ensure_infra()
    with scratch(os.environ, "bench-queries", topics=False, keep=args.keep) as own:
        results = asyncio.run(bench(own.database_url, sizes, args.runs))
    merged = record(results)
    # This run's queries in their order, then any only an earlier run timed.
    names = list(dict.fromkeys([*(case.name for case in cases(datetime.now(UTC), 0)),
                                *(name for figures in merged.values() for name in figures)]))
    summary(merged, names, set(results))
    print(f"raw figures: {BENCH_DIR / 'queries.json'}; chart: {chart(merged, names).name} "
          "beside it")


if __name__ == "__main__":
    main()
