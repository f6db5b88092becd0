"""Writing outcomes: the batch is copied into a staging table, then one statement inserts the
new rows and adds exactly those rows to the daily and hourly rollups, in one transaction.

COPY (binary, through asyncpg) is the fastest way into PostgreSQL, and a temporary table writes
no WAL; the INSERT ... SELECT from it then checks and indexes the rows in one pass.
``ON CONFLICT DO NOTHING`` on (bid_request_id, auction_timestamp) makes a redelivered message a
no-op: the message carries its auction time, so it lands in the partition it landed in before.
A bid auctioned twice (the auction restarted between producing its outcome and committing the
bid's offset) has a second, later auction time: a look-up of its id over the day before
refuses it too. ``RETURNING`` hands the rollups only the rows really inserted, so no
redelivery counts twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from helios.analytics import partitions
from helios.analytics.decode import OutcomeRow

# How far back a second auction of the same bid is looked for.
REAUCTION_WINDOW = "1 day"

_STAGING = "outcome_staging"
# The UTC day and hour an outcome is summed under, in both rollups.
_DAY = "(auction_timestamp AT TIME ZONE 'UTC')::date"
_HOUR = "date_trunc('hour', auction_timestamp, 'UTC')"
_COLUMNS = tuple(OutcomeRow.__dataclass_fields__)
# Prices travel as float8 and the JSON as text, cast by the INSERT: the types the decoder has.
_CREATE_STAGING = text(f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING} (
    bid_request_id text, user_id text, site_domain text, device_type text, page_url text,
    bid_price float8, win_price float8, currency text, enriched bool, enrichment_reason text,
    user_interests text, interest_scores text, winning_interest text, interest_score float8,
    win_status bool, bid_timestamp timestamptz, auction_timestamp timestamptz
) ON COMMIT DELETE ROWS""")

_INSERT = f"""
WITH inserted AS (
    INSERT INTO auction_outcomes (
        bid_request_id, user_id, site_domain, device_type, page_url, bid_price, win_price,
        currency, enriched, enrichment_reason, user_interests, interest_scores,
        winning_interest, interest_score, win_status, bid_timestamp, auction_timestamp)
    SELECT b.bid_request_id, b.user_id, b.site_domain, b.device_type, b.page_url,
           b.bid_price::numeric(12, 4), b.win_price::numeric(12, 4), b.currency, b.enriched,
           b.enrichment_reason, b.user_interests::jsonb, b.interest_scores::jsonb,
           b.winning_interest, b.interest_score, b.win_status, b.bid_timestamp,
           b.auction_timestamp
    FROM (
        -- One row per bid: its first auction, if the batch holds two.
        SELECT DISTINCT ON (bid_request_id) * FROM {_STAGING}
        ORDER BY bid_request_id, auction_timestamp
    ) AS b
    -- One probe of the primary key per row (see _INDEX_PROBES), in the partitions its window
    -- covers: a LATERAL with a LIMIT, which the planner cannot turn into a hash anti-join
    -- reading all of today's partition per batch, as it does NOT EXISTS.
    LEFT JOIN LATERAL (
        SELECT true AS found FROM auction_outcomes o
        WHERE o.bid_request_id = b.bid_request_id
          AND o.auction_timestamp >= b.auction_timestamp - interval '{REAUCTION_WINDOW}'
          AND o.auction_timestamp < b.auction_timestamp
        LIMIT 1
    ) AS earlier ON true
    WHERE earlier.found IS NULL
    ON CONFLICT (bid_request_id, auction_timestamp) DO NOTHING
    RETURNING auction_timestamp, site_domain, win_status, enriched, win_price, bid_price
),
hourly AS (
    INSERT INTO auction_outcomes_hourly AS h (
        hour, site_domain, win_status, enriched, win_price, total, revenue, bid_price_sum)
    SELECT {_HOUR}, site_domain, win_status, enriched,
           coalesce(win_price, 0), count(*), coalesce(sum(win_price), 0), sum(bid_price)
    FROM inserted
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (hour, site_domain, win_status, enriched, win_price) DO UPDATE
    SET total = h.total + excluded.total,
        revenue = h.revenue + excluded.revenue,
        bid_price_sum = h.bid_price_sum + excluded.bid_price_sum
)
INSERT INTO auction_outcomes_daily AS d (
    day, site_domain, win_status, enriched, win_price, total, revenue, bid_price_sum)
SELECT {_DAY} AS day, site_domain, win_status, enriched,
       coalesce(win_price, 0), count(*), coalesce(sum(win_price), 0), sum(bid_price)
FROM inserted
GROUP BY 1, 2, 3, 4, 5
-- A fixed order takes each rollup's row locks in the same order in every writer: no deadlocks.
ORDER BY 1, 2, 3, 4, 5
ON CONFLICT (day, site_domain, win_status, enriched, win_price) DO UPDATE
SET total = d.total + excluded.total,
    revenue = d.revenue + excluded.revenue,
    bid_price_sum = d.bid_price_sum + excluded.bid_price_sum
"""


class Refused(Exception):
    """PostgreSQL refused a row of the batch as data (SQLSTATE class 22); the message says
    why. Anything else raised is about the connection or the server: retry the batch."""


class OutcomeStore:
    """Persists decoded outcomes through an SQLAlchemy async engine (asyncpg), making the
    partitions of the days they fall on when missing."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._days: set[date] = set()

    async def insert(self, rows: Sequence[OutcomeRow]) -> None:
        """Stores the rows that are not stored yet and commits; raises on a database error
        (the caller retries the same batch: the statement is idempotent)."""
        if not rows:
            return
        days = {partitions.utc_day(row.auction_timestamp) for row in rows}
        if not days <= self._days:
            await partitions.create(self._engine, days)
            self._days |= days
        records = [tuple(getattr(row, name) for name in _COLUMNS) for row in rows]
        try:
            async with self._engine.begin() as connection:
                await connection.execute(_CREATE_STAGING)
                driver = await _asyncpg(connection)
                await driver.copy_records_to_table(_STAGING, records=records, columns=_COLUMNS)
                # Planned at every batch, not prepared once: a plan made while a day's
                # partition was new and empty would probe it through the time index, reading
                # a whole window per row as the partition fills (measured: 0.1 s a batch
                # growing to 6 s within 20,000 rows, until autovacuum's ANALYZE re-planned it).
                # asyncpg's execute() without arguments is the simple query protocol.
                await driver.execute(_INSERT)
        except asyncpg.DataError as exc:
            raise Refused(str(exc)) from exc
        except Exception:
            # A partition dropped behind this store's back ("no partition of relation found")
            # is made again by the caller's retry of the batch.
            self._days.clear()
            raise


async def _asyncpg(connection: AsyncConnection) -> Any:
    """The asyncpg connection under ``connection``, inside the transaction it has open."""
    raw = await connection.get_raw_connection()
    return raw.driver_connection


_REBUILD = """
    INSERT INTO {table} ({bucket}, site_domain, win_status, enriched, win_price, total,
                         revenue, bid_price_sum)
    SELECT {expression}, site_domain, win_status, enriched, coalesce(win_price, 0), count(*),
           coalesce(sum(win_price), 0), sum(bid_price)
    FROM auction_outcomes
    GROUP BY 1, 2, 3, 4, 5"""


async def rebuild_rollup(engine: AsyncEngine) -> None:
    """Recomputes both rollups from auction_outcomes (after a bulk load that bypassed
    :class:`OutcomeStore`, as the query benchmark does)."""
    async with engine.begin() as connection:
        for table, bucket, expression in (("auction_outcomes_daily", "day", _DAY),
                                          ("auction_outcomes_hourly", "hour", _HOUR)):
            await connection.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
            await connection.execute(text(f"DELETE FROM {table}"))
            await connection.execute(text(_REBUILD.format(table=table, bucket=bucket,
                                                          expression=expression)))
