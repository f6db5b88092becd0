"""The PostgreSQL schema of stored auction outcomes (SQLAlchemy 2 typed declarative).

``win_price`` is NULL when the bid lost: nothing was paid, and a NULL keeps losses out of the
price filters (``min_price``/``max_price`` bound what was paid) and out of ``AVG(win_price)``
without a FILTER clause. The API reports it as 0, as the Kafka message does.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

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
    __tablename__ = "auction_outcomes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    bid_request_id: Mapped[str] = mapped_column(Text, unique=True)
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
    auction_timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())

    __table_args__ = (
        CheckConstraint("(win_price IS NOT NULL) = win_status", name="ck_win_price_iff_win"),
        # The default ordering and the from/to filters.
        Index("ix_outcomes_auction_ts", "auction_timestamp"),
        Index("ix_outcomes_user_ts", "user_id", "auction_timestamp"),
        Index("ix_outcomes_site_ts", "site_domain", "auction_timestamp"),
        # Winners pages and win_status filters, newest first.
        Index("ix_outcomes_win_ts", "win_status", "auction_timestamp"),
        # Price filters and ordering by win or bid price; a loss sorts as a price of 0.
        Index("ix_outcomes_win_price", text("win_price NULLS FIRST"), "id"),
        Index("ix_outcomes_bid_price", "bid_price", "id"),
    )


class DailyRollup(Base):
    """Sums per UTC day, site, outcome kind and win price, written by the statement that
    inserts the outcomes (see :mod:`helios.analytics.store`); ``revenue / wins`` is the average
    win price because a win always has a price."""

    __tablename__ = "auction_outcomes_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    site_domain: Mapped[str] = mapped_column(Text, primary_key=True)
    win_status: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    enriched: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    # The win price, 0 for losses.
    win_price: Mapped[Decimal] = mapped_column(PRICE, primary_key=True)
    total: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[Decimal] = mapped_column(SUM)
    bid_price_sum: Mapped[Decimal] = mapped_column(SUM)
