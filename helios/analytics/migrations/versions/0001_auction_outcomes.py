"""auction_outcomes and its daily rollup

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

PRICE = sa.Numeric(12, 4)
SUM = sa.Numeric(20, 4)


def upgrade() -> None:
    op.create_table(
        "auction_outcomes",
        sa.Column("id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
        sa.Column("bid_request_id", sa.Text, nullable=False, unique=True),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("site_domain", sa.Text, nullable=False, server_default=""),
        sa.Column("device_type", sa.Text, nullable=False, server_default=""),
        sa.Column("page_url", sa.Text, nullable=False, server_default=""),
        sa.Column("bid_price", PRICE, nullable=False),
        sa.Column("win_price", PRICE, nullable=True),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("enriched", sa.Boolean, nullable=False),
        sa.Column("enrichment_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("user_interests", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("winning_interest", sa.Text, nullable=False, server_default=""),
        sa.Column("interest_score", sa.Double, nullable=False, server_default="0"),
        sa.Column("win_status", sa.Boolean, nullable=False),
        sa.Column("bid_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("auction_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.CheckConstraint("(win_price IS NOT NULL) = win_status", name="ck_win_price_iff_win"),
    )
    op.create_index("ix_outcomes_auction_ts", "auction_outcomes", ["auction_timestamp"])
    op.create_index("ix_outcomes_user_ts", "auction_outcomes", ["user_id", "auction_timestamp"])
    op.create_index("ix_outcomes_site_ts", "auction_outcomes",
                    ["site_domain", "auction_timestamp"])
    op.create_index("ix_outcomes_win_ts", "auction_outcomes", ["win_status", "auction_timestamp"])
    # No index on enriched: about half the rows match either value, so a scan of the time
    # index with a filter is as fast, and every index costs the ingest on each row.
    # NULLS FIRST: a loss (no price) sorts as a price of 0, so one index serves both orders
    # (ascending: losses first; descending, scanned backwards: losses last) and price ranges.
    # With id, the order of a page (price, then id to break the many ties) is the index order:
    # no sort of all the rows at one price.
    op.create_index("ix_outcomes_win_price", "auction_outcomes",
                    [sa.text("win_price NULLS FIRST"), "id"])
    op.create_index("ix_outcomes_bid_price", "auction_outcomes", ["bid_price", "id"])

    # Sums per UTC day, site, outcome kind and win price (0 for a loss), kept in step with
    # auction_outcomes by the statement that inserts (see helios.analytics.store): stats,
    # daily stats and page counts over a million rows read a few thousand rollup rows.
    op.create_table(
        "auction_outcomes_daily",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("site_domain", sa.Text, nullable=False),
        sa.Column("win_status", sa.Boolean, nullable=False),
        sa.Column("enriched", sa.Boolean, nullable=False),
        # Prices are few per day (tiers, or competing bids rounded to 4 places), and keeping
        # them lets the rollup answer min_price/max_price filters exactly.
        sa.Column("win_price", PRICE, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("revenue", SUM, nullable=False),
        sa.Column("bid_price_sum", SUM, nullable=False),
        sa.PrimaryKeyConstraint("day", "site_domain", "win_status", "enriched", "win_price"),
    )


def downgrade() -> None:
    op.drop_table("auction_outcomes_daily")
    op.drop_table("auction_outcomes")
