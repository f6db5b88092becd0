"""The PostgreSQL schema of stored auction outcomes (SQLAlchemy 2 typed declarative).

``win_price`` is NULL when the bid lost: nothing was paid, and a NULL keeps losses out of the
price filters (``min_price``/``max_price`` bound what was paid) and out of ``AVG(win_price)``
without a FILTER clause. The API reports it as 0, as the Kafka message does.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy import (
    CHAR,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    Identity,
    Index,
    Numeric,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

PRICE_PLACES = 4
PRICE = Numeric(12, PRICE_PLACES)
# The largest value PRICE holds.
PRICE_LIMIT = Decimal("99999999.9999")
SUM = Numeric(20, PRICE_PLACES)
# The columns stored as the Kafka outcome carries them and returned by the API as stored: same
# name, same value, in helios.auction.v1.AuctionOutcome, this table and helios.analytics.v1.Outcome.
# The others (prices, currency, interests, timestamps) are converted on the way, each in
# helios.analytics.decode (in) and helios.analytics.convert (out).
AS_SENT = ("bid_request_id", "user_id", "site_domain", "device_type", "page_url", "enriched",
           "enrichment_reason", "winning_interest", "interest_score", "win_status")


class Base(DeclarativeBase):
    pass


class AuctionOutcome(Base):
    """One outcome. The table is partitioned by UTC day of ``auction_timestamp`` (see
    :mod:`helios.analytics.partitions`), so its keys carry that column: an outcome's place in it
    comes from the message itself, and a redelivered message lands where it landed the first
    time, there to be refused as a duplicate."""

    __tablename__ = "auction_outcomes"

    # The order of arrival: the tie-break of every ordering, so a page token names one row.
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False))
    bid_request_id: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text)
    site_domain: Mapped[str] = mapped_column(Text, server_default="")
    device_type: Mapped[str] = mapped_column(Text, server_default="")
    page_url: Mapped[str] = mapped_column(Text, server_default="")
    bid_price: Mapped[Decimal] = mapped_column(PRICE)
    win_price: Mapped[Decimal | None] = mapped_column(PRICE)
    currency: Mapped[str] = mapped_column(CHAR(3))
    enriched: Mapped[bool] = mapped_column(Boolean)
    enrichment_reason: Mapped[str] = mapped_column(Text, server_default="")
    # The interest names strongest first, as the bidder listed them (a JSON array).
    user_interests: Mapped[list[str]] = mapped_column(JSONB, server_default="[]")
    # Interest name -> score, as the profile service returned it (a JSON object).
    interest_scores: Mapped[dict[str, float]] = mapped_column(JSONB, server_default="{}")
    winning_interest: Mapped[str] = mapped_column(Text, server_default="")
    interest_score: Mapped[float] = mapped_column(Double, server_default="0")
    win_status: Mapped[bool] = mapped_column(Boolean)
    bid_timestamp: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    auction_timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                        primary_key=True)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())

    __table_args__ = (
        CheckConstraint("(win_price IS NOT NULL) = win_status", name="ck_win_price_iff_win"),
        # Each ordering ends in id, so a page's order is an index's order, and a page token
        # (the last row's sort key and id) is where the next page's index scan starts. Every
        # index costs each row written; win_status and enriched have none, as each value
        # matches a large share of the rows, so the time index with a filter serves them.
        Index("ix_outcomes_auction_ts", "auction_timestamp", "id"),
        # Covers what a user's stats aggregate: an index-only scan, no heap visit.
        Index("ix_outcomes_user_ts", "user_id", "auction_timestamp", "id",
              postgresql_include=["win_status", "enriched", "win_price", "bid_price",
                                  "site_domain"]),
        Index("ix_outcomes_site_ts", "site_domain", "auction_timestamp", "id"),
        # The win_price ordering's key: a loss sorts as -1, below every price (first
        # ascending, last descending), so a page token's position is one comparable value.
        Index("ix_outcomes_win_price", text("coalesce(win_price, -1)"), "id"),
        Index("ix_outcomes_bid_price", "bid_price", "id"),
        {"postgresql_partition_by": "RANGE (auction_timestamp)"},
    )


class StoredOutcome(Protocol):
    """A row of auction_outcomes as the queries return it: a result row, read by attribute.
    Not an :class:`AuctionOutcome` instance: building one costs tens of µs (the ORM's
    instrumentation), a fifth of a 500-row page's time."""

    id: int
    bid_request_id: str
    user_id: str
    site_domain: str
    device_type: str
    page_url: str
    bid_price: Decimal
    win_price: Decimal | None
    currency: str
    enriched: bool
    enrichment_reason: str
    user_interests: list[str]
    interest_scores: dict[str, float]
    winning_interest: str
    interest_score: float
    win_status: bool
    bid_timestamp: datetime | None
    auction_timestamp: datetime


class _Sums:
    """The columns both rollups share: the keys after the time bucket, and the sums."""

    site_domain: Mapped[str] = mapped_column(Text, primary_key=True)
    win_status: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    enriched: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    # The win price, 0 for losses.
    win_price: Mapped[Decimal] = mapped_column(PRICE, primary_key=True)
    total: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[Decimal] = mapped_column(SUM)
    bid_price_sum: Mapped[Decimal] = mapped_column(SUM)


class DailyRollup(_Sums, Base):
    """Sums per UTC day, site, outcome kind and win price, written by the statement that
    inserts the outcomes (see :mod:`helios.analytics.store`); ``revenue / wins`` is the average
    win price because a win always has a price. Kept for every day."""

    __tablename__ = "auction_outcomes_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)


class HourlyRollup(_Sums, Base):
    """The same sums per UTC hour, for the partial days at the edges of a from/to range; kept
    as long as the raw rows (the retention)."""

    __tablename__ = "auction_outcomes_hourly"

    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
