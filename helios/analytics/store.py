"""Writing outcomes: one statement per batch that inserts the new rows and adds exactly those
rows to the daily rollup, in one transaction.

The batch travels as one array per column and is expanded by ``unnest`` on the server, so the
statement and its parameters stay the same size whatever the batch size (a multi-row VALUES list
would need a new prepared statement per batch length). ``ON CONFLICT (bid_request_id) DO
NOTHING`` makes a re-delivered message a no-op, and ``RETURNING`` hands the rollup only the
rows that were really inserted, so re-delivery never counts twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from helios.analytics.decode import OutcomeRow

_INSERT = text("""
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
    FROM unnest(
        CAST(:bid_request_id AS text[]), CAST(:user_id AS text[]),
        CAST(:site_domain AS text[]), CAST(:device_type AS text[]), CAST(:page_url AS text[]),
        CAST(:bid_price AS float8[]), CAST(:win_price AS float8[]), CAST(:currency AS text[]),
        CAST(:enriched AS bool[]), CAST(:enrichment_reason AS text[]),
        CAST(:user_interests AS text[]), CAST(:interest_scores AS text[]),
        CAST(:winning_interest AS text[]), CAST(:interest_score AS float8[]),
        CAST(:win_status AS bool[]),
        CAST(:bid_timestamp AS timestamptz[]), CAST(:auction_timestamp AS timestamptz[])
    ) AS b(bid_request_id, user_id, site_domain, device_type, page_url, bid_price, win_price,
           currency, enriched, enrichment_reason, user_interests, interest_scores,
           winning_interest, interest_score, win_status, bid_timestamp, auction_timestamp)
    ON CONFLICT (bid_request_id) DO NOTHING
    RETURNING auction_timestamp, site_domain, win_status, enriched, win_price, bid_price
)
INSERT INTO auction_outcomes_daily AS d (
    day, site_domain, win_status, enriched, win_price, total, revenue, bid_price_sum)
SELECT (auction_timestamp AT TIME ZONE 'UTC')::date AS day, site_domain, win_status, enriched,
       coalesce(win_price, 0), count(*), coalesce(sum(win_price), 0), sum(bid_price)
FROM inserted
GROUP BY 1, 2, 3, 4, 5
-- A fixed order takes the rollup row locks in the same order in every writer: no deadlocks.
ORDER BY 1, 2, 3, 4, 5
ON CONFLICT (day, site_domain, win_status, enriched, win_price) DO UPDATE
SET total = d.total + excluded.total,
    revenue = d.revenue + excluded.revenue,
    bid_price_sum = d.bid_price_sum + excluded.bid_price_sum
""")

_COLUMNS = tuple(OutcomeRow.__dataclass_fields__)

class OutcomeStore:
    """Persists decoded outcomes through an SQLAlchemy async engine (asyncpg)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def insert(self, rows: Sequence[OutcomeRow]) -> None:
        """Stores the rows that are not stored yet and commits; raises on a database error
        (the caller retries the same batch: the statement is idempotent)."""
        if not rows:
            return
        params = {name: [getattr(row, name) for row in rows] for name in _COLUMNS}
        async with self._engine.begin() as connection:
            await connection.execute(_INSERT, params)


async def rebuild_rollup(engine: AsyncEngine) -> None:
    """Recomputes the daily rollup from auction_outcomes (after a bulk load that bypassed
    :class:`OutcomeStore`, as the query benchmark does)."""
    async with engine.begin() as connection:
        await connection.execute(text("LOCK TABLE auction_outcomes_daily IN EXCLUSIVE MODE"))
        await connection.execute(text("DELETE FROM auction_outcomes_daily"))
        await connection.execute(text("""
            INSERT INTO auction_outcomes_daily (
                day, site_domain, win_status, enriched, win_price, total, revenue,
                bid_price_sum)
            SELECT (auction_timestamp AT TIME ZONE 'UTC')::date, site_domain, win_status,
                   enriched, coalesce(win_price, 0), count(*), coalesce(sum(win_price), 0),
                   sum(bid_price)
            FROM auction_outcomes
            GROUP BY 1, 2, 3, 4, 5"""))
