"""The read side: every aggregate (counts, sums, averages) is computed by PostgreSQL.

Over a million rows, scanning is too slow for the 100 ms budget, so aggregates read the daily
rollup (sums per UTC day, site, win status and enrichment) for every whole day the filters
cover, and the rows only for the partial days at the edges of a from/to range. A ``user_id``
filter cannot be answered by the rollup: it aggregates the rows, narrowed by the user index.
Page counts are aggregates too, so they follow the same split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    cast,
    func,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import Date

from helios.analytics import tokens
from helios.analytics.filters import Filters, Page, token_query
from helios.analytics.models import AuctionOutcome, DailyRollup, StoredOutcome
from helios.platform.errors import NotFound

# Any select, whatever its columns (Select is variadic-generic in SQLAlchemy 2.1).
AnySelect = Select[*tuple[Any, ...]]
T = AuctionOutcome.__table__.c
R = DailyRollup.__table__.c
_UTC_DAY = cast(func.timezone("UTC", T.auction_timestamp), Date)
# The expression of ix_outcomes_win_price, spelled as the index spells it (a literal -1, not a
# parameter) so that the planner matches the two: a loss sorts below every price.
WIN_PRICE_KEY = func.coalesce(T.win_price, literal_column("-1"))
_LOSS_KEY = Decimal(-1)
_SORT_KEYS: dict[str, ColumnElement[Any]] = {
    "auction_timestamp": T.auction_timestamp,
    "win_price": WIN_PRICE_KEY,
    "bid_price": T.bid_price,
}


@dataclass(frozen=True)
class OutcomePage:
    count: int
    page: int
    page_size: int
    rows: list[StoredOutcome]
    # Empty on the last page.
    next_page_token: str = ""

    @property
    def total_pages(self) -> int:
        return -(-self.count // self.page_size)


@dataclass(frozen=True)
class Stats:
    total: int
    wins: int
    revenue: Decimal
    average_win_price: Decimal
    average_bid_price: Decimal
    enriched_count: int

    @property
    def losses(self) -> int:
        return self.total - self.wins

    @property
    def win_rate(self) -> float:
        return self.wins / self.total if self.total else 0.0


@dataclass(frozen=True)
class DayStats:
    day: date
    total: int
    wins: int
    revenue: Decimal
    average_win_price: Decimal


def row_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.user_id is not None:
        conditions.append(T.user_id == filters.user_id)
    if filters.site_domain is not None:
        conditions.append(T.site_domain == filters.site_domain)
    if filters.win_status is not None:
        conditions.append(T.win_status == filters.win_status)
    if filters.enriched is not None:
        conditions.append(T.enriched == filters.enriched)
    # On the price key, so that ix_outcomes_win_price serves the range; a loss (-1) never
    # matches a price bound.
    if filters.min_price is not None:
        conditions.append(WIN_PRICE_KEY >= filters.min_price)
    if filters.max_price is not None:
        conditions.append(WIN_PRICE_KEY.between(0, filters.max_price))
    if filters.start is not None:
        conditions.append(T.auction_timestamp >= filters.start)
    if filters.end is not None:
        conditions.append(T.auction_timestamp < filters.end)
    return conditions


@dataclass(frozen=True)
class Split:
    """Where the answer to a filter comes from: whole UTC days from the rollup, the rest (the
    partial days at the edges of a from/to range, or everything when the filters name a user)
    from the rows. Either part may be absent; the parts never overlap."""

    rollup: list[ColumnElement[bool]] | None
    rows: list[ColumnElement[bool]] | None


def split(filters: Filters) -> Split:
    if filters.user_id is not None:
        return Split(None, row_conditions(filters))
    # Filters hold UTC instants (helios.analytics.filters): day edges are UTC midnights.
    first_day = _ceil_day(filters.start) if filters.start is not None else None
    end_day = _floor_day(filters.end) if filters.end is not None else None
    if first_day is not None and end_day is not None and first_day >= end_day:
        return Split(None, row_conditions(filters))  # no whole day inside the range

    rollup: list[ColumnElement[bool]] = []
    rows: list[ColumnElement[bool]] = []
    for column, value in (("site_domain", filters.site_domain),
                          ("win_status", filters.win_status), ("enriched", filters.enriched)):
        if value is not None:
            rollup.append(R[column] == value)
            rows.append(T[column] == value)
    if filters.min_price is not None or filters.max_price is not None:
        # A loss has no price (0 in the rollup) and never matches a price bound.
        rollup.append(R.win_status)
    if filters.min_price is not None:
        rollup.append(R.win_price >= filters.min_price)
        rows.append(T.win_price >= filters.min_price)
    if filters.max_price is not None:
        rollup.append(R.win_price <= filters.max_price)
        rows.append(T.win_price <= filters.max_price)
    if first_day is not None:
        rollup.append(R.day >= first_day.date())
    if end_day is not None:
        rollup.append(R.day < end_day.date())

    edges: list[ColumnElement[bool]] = []
    if filters.start is not None and first_day is not None and filters.start < first_day:
        edges.append(and_(T.auction_timestamp >= filters.start,
                          T.auction_timestamp < first_day))
    if filters.end is not None and end_day is not None and end_day < filters.end:
        edges.append(and_(T.auction_timestamp >= end_day, T.auction_timestamp < filters.end))
    return Split(rollup, [*rows, or_(*edges)] if edges else None)


def _floor_day(instant: datetime) -> datetime:
    return instant.replace(hour=0, minute=0, second=0, microsecond=0)


def _ceil_day(instant: datetime) -> datetime:
    floor = _floor_day(instant)
    return floor if floor == instant else floor + timedelta(days=1)


def _where(conditions: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    return and_(true(), *conditions)


def _order(page: Page) -> list[Any]:
    key = _SORT_KEYS[page.ordering.field]
    if page.ordering.descending:
        return [key.desc(), T.id.desc()]
    return [key.asc(), T.id.asc()]


def _after(page: Page) -> ColumnElement[bool]:
    """The rows after the page token's position, in the listing's order: a row comparison,
    which a btree index on (key, id) starts its scan at."""
    assert page.after is not None
    position = tuple_(_SORT_KEYS[page.ordering.field], T.id)
    bound = tuple_(page.after.key, page.after.id)
    return position < bound if page.ordering.descending else position > bound


def _key_of(row: StoredOutcome, field: str) -> datetime | Decimal:
    value: datetime | Decimal | None = getattr(row, field)
    return _LOSS_KEY if value is None else value


def _zero(value: Decimal | None) -> Decimal:
    return value if value is not None else Decimal(0)


class OutcomeQueries:
    """Answers the API's questions through an SQLAlchemy async engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def page(self, filters: Filters, page: Page) -> OutcomePage:
        conditions = row_conditions(filters)
        if page.after is not None:
            conditions.append(_after(page))
        # One row more than the page says whether there is a next one.
        rows_query: AnySelect = (select(AuctionOutcome.__table__)
                                   .where(_where(conditions))
                                   .order_by(*_order(page)).limit(page.size + 1)
                                   .offset(page.offset))
        parts = _parts(split(filters),
                       lambda: select(func.sum(R.total).label("n")),
                       lambda: select(func.count().label("n")))
        count_query = select(func.coalesce(func.sum(parts.c.n), 0))
        async with self._engine.connect() as conn:
            count = (await conn.execute(count_query)).scalar_one()
            rows: list[StoredOutcome] = list(await conn.execute(rows_query))
        token = ""
        if len(rows) > page.size:
            del rows[page.size:]
            last = rows[-1]
            token = tokens.encode(
                tokens.After(_key_of(last, page.ordering.field), last.id, page.number + 1),
                token_query(filters, page.size, page.ordering))
        return OutcomePage(int(count), page.number, page.size, rows, token)

    async def get(self, bid_request_id: str) -> StoredOutcome:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(AuctionOutcome.__table__).where(
                T.bid_request_id == bid_request_id))).first()
        if row is None:
            raise NotFound(f"no outcome with bid_request_id {bid_request_id!r}")
        return row

    async def stats(self, filters: Filters) -> Stats:
        parts = _parts(
            split(filters),
            lambda: select(func.sum(R.total).label("total"),
                           func.sum(R.total).filter(R.win_status).label("wins"),
                           func.sum(R.revenue).label("revenue"),
                           func.sum(R.bid_price_sum).label("bids"),
                           func.sum(R.total).filter(R.enriched).label("enriched")),
            lambda: select(func.count().label("total"),
                           func.count().filter(T.win_status).label("wins"),
                           func.sum(T.win_price).label("revenue"),
                           func.sum(T.bid_price).label("bids"),
                           func.count().filter(T.enriched).label("enriched")))
        total, wins, revenue = (func.sum(parts.c.total), func.sum(parts.c.wins),
                                func.sum(parts.c.revenue))
        query = select(func.coalesce(total, 0), func.coalesce(wins, 0),
                       func.coalesce(revenue, 0), revenue / func.nullif(wins, 0),
                       func.sum(parts.c.bids) / func.nullif(total, 0),
                       func.coalesce(func.sum(parts.c.enriched), 0))
        async with self._engine.connect() as conn:
            total_, wins_, revenue_, avg_win, avg_bid, enriched = (
                await conn.execute(query)).one()
        return Stats(int(total_), int(wins_), _zero(revenue_), _zero(avg_win), _zero(avg_bid),
                     int(enriched))

    async def daily(self, filters: Filters) -> list[DayStats]:
        parts = _parts(
            split(filters),
            lambda: select(R.day.label("day"), func.sum(R.total).label("total"),
                           func.sum(R.total).filter(R.win_status).label("wins"),
                           func.sum(R.revenue).label("revenue")).group_by(R.day),
            lambda: select(_UTC_DAY.label("day"), func.count().label("total"),
                           func.count().filter(T.win_status).label("wins"),
                           func.sum(T.win_price).label("revenue")).group_by(_UTC_DAY))
        wins, revenue = func.sum(parts.c.wins), func.sum(parts.c.revenue)
        query = (select(parts.c.day, func.sum(parts.c.total), func.coalesce(wins, 0),
                        func.coalesce(revenue, 0), revenue / func.nullif(wins, 0))
                 .group_by(parts.c.day).order_by(parts.c.day.desc()))
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return [DayStats(day_, int(total), int(wins_), _zero(revenue_), _zero(avg))
                    for day_, total, wins_, revenue_, avg in result]


def _parts(where: Split, from_rollup: Callable[[], AnySelect],
           from_rows: Callable[[], AnySelect]) -> Subquery:
    """The rollup part and the rows part of one aggregate, as one subquery to sum over."""
    selects: list[AnySelect] = []
    if where.rollup is not None:
        selects.append(from_rollup().where(_where(where.rollup)))
    if where.rows is not None:
        selects.append(from_rows().where(_where(where.rows)))
    return union_all(*selects).subquery("parts")
