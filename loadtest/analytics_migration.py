"""How long migration 0003 takes to move a flat auction_outcomes into daily partitions.

Creates a fresh database at revision 0002 (the flat table), loads --rows outcomes over the 30
days before now with the query benchmark's generator, upgrades to 0003 and checks that every
row arrived once with its id; prints the time per million rows. The database is dropped at the
end.

    python loadtest/analytics_migration.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from alembic import command

from helios.analytics.migrate import alembic_config
from helios.local.scratch import scratch
from helios.platform import settings
from loadtest.analytics_queries import LOAD, SPAN
from loadtest.common import ensure_infra

CHECK = ("SELECT count(*) AS rows, count(DISTINCT id) AS ids, "
         "coalesce(sum(hashtext(bid_request_id || id::text)::bigint), 0) AS digest "
         "FROM auction_outcomes")


async def sql(url: str, statement: str, *args: object) -> asyncpg.Record:
    conn = await asyncpg.connect(settings.libpq_url(url))
    try:
        return await conn.fetchrow(statement, *args)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    ensure_infra()
    with scratch(os.environ, "bench-migration", topics=False, migrate=False) as own:
        config = alembic_config(own.database_url)
        command.upgrade(config, "0002")
        started = time.perf_counter()
        end = datetime.now(UTC)
        asyncio.run(sql(own.database_url, LOAD, 1, args.rows, 0, end - SPAN,
                        SPAN.total_seconds() / args.rows))
        asyncio.run(sql(own.database_url, "VACUUM ANALYZE auction_outcomes"))
        print(f"loaded {args.rows:,} rows into the flat table in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        before = asyncio.run(sql(own.database_url, CHECK))

        started = time.perf_counter()
        command.upgrade(config, "0003")
        took = time.perf_counter() - started

        after = asyncio.run(sql(own.database_url, CHECK))
        days = asyncio.run(sql(own.database_url,
                               "SELECT count(*) AS n FROM pg_inherits "
                               "WHERE inhparent = 'auction_outcomes'::regclass"))["n"]
        same = dict(before) == dict(after) and after["rows"] == after["ids"] == args.rows
        print(f"0002 -> 0003: {args.rows:,} rows into {days} partitions in {took:.1f} s = "
              f"{took / (args.rows / 1e6):.1f} s per million rows; every row once, ids kept: "
              f"{'YES' if same else 'NO'}")
        if not same:
            raise SystemExit(f"before {dict(before)}, after {dict(after)}")


if __name__ == "__main__":
    main()
