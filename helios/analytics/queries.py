"""The read side: every aggregate (counts, sums, averages) is computed by PostgreSQL.

Over millions of rows, scanning is too slow for the 100 ms budget, so aggregates read the daily
rollup (sums per UTC day, site, win status and enrichment) for every whole day the filters
cover, the hourly rollup for the whole hours of the partial days at the edges of a from/to
range, and the rows only for the partial hours left: at most two hours of rows, whatever the
table holds. A ``user_id`` filter cannot be answered by the rollups: it aggregates the user's
rows, through an index that covers the aggregated columns. Page counts are aggregates too, so
they follow the same split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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
from helios.analytics.models import AuctionOutcome, DailyRollup, HourlyRollup, StoredOutcome
from helios.platform.errors import NotFound

# Any select, whatever its columns (Select is variadic-generic in SQLAlchemy 2.1).
AnySelect = Select[*tuple[Any, ...]]
T = AuctionOutcome.__table__.c
R = DailyRollup.__table__.c
H = HourlyRollup.__table__.c
_UTC_DAY = cast(func.timezone("UTC", T.auction_timestamp), Date)
_HOUR_DAY = cast(func.timezone("UTC", H.hour), Date)
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


Conditions = list[ColumnElement[bool]]


def row_conditions(filters: Filters) -> Conditions:
    conditions: Conditions = []
    if filters.user_id is not None:
        conditions.append(T.user_id == filters.user_id)
    conditions += _attributes(filters, T)
    if filters.start is not None:
        conditions.append(T.auction_timestamp >= filters.start)
    if filters.end is not None:
        conditions.append(T.auction_timestamp < filters.end)
    return conditions


@dataclass(frozen=True)
class Split:
    """Where the answer to a filter comes from: whole UTC days from the daily rollup, whole
    hours of the partial days at the edges from the hourly rollup, the rest (the partial hours
    at the edges, or everything when the filters name a user) from the rows. Any part may be
    absent; the parts never overlap."""

    daily: Conditions | None
    hourly: Conditions | None
    rows: Conditions | None


Range = tuple[datetime | None, datetime | None]


@dataclass(frozen=True)
class TimeParts:
    """[start, end) cut into whole UTC days, whole hours and the rest; None is unbounded."""

    days: Range | None
    hours: list[tuple[datetime, datetime]]
    rows: list[tuple[datetime, datetime]]


def time_parts(start: datetime | None, end: datetime | None) -> TimeParts:
    hour_from, hour_to = _ceil(start, _HOUR), _floor(end, _HOUR)
    day_from, day_to = _ceil(start, _DAY), _floor(end, _DAY)
    if _nonempty(day_from, day_to):
        return TimeParts((day_from, day_to), _edges((hour_from, day_from), (day_to, hour_to)),
                         _edges((start, hour_from), (hour_to, end)))
    if _nonempty(hour_from, hour_to):
        return TimeParts(None, _edges((hour_from, hour_to)),
                         _edges((start, hour_from), (hour_to, end)))
    return TimeParts(None, [], _edges((start, end)))  # within two hours: both ends are given


def split(filters: Filters) -> Split:
    if filters.user_id is not None:
        return Split(None, None, row_conditions(filters))
    # Filters hold UTC instants (helios.analytics.filters): edges are UTC hours and midnights.
    parts = time_parts(filters.start, filters.end)
    daily = None
    if parts.days is not None:
        daily = _attributes(filters, R)
        if parts.days[0] is not None:
            daily.append(R.day >= parts.days[0].date())
        if parts.days[1] is not None:
            daily.append(R.day < parts.days[1].date())
    hourly = ([*_attributes(filters, H), _within(H.hour, parts.hours)] if parts.hours
              else None)
    rows = ([*_attributes(filters, T), _within(T.auction_timestamp, parts.rows)] if parts.rows
            else None)
    return Split(daily, hourly, rows)


def _attributes(filters: Filters, c: Any) -> Conditions:
    """The filters other than user and time, on the rows' or a rollup's columns ``c``."""
    conditions: Conditions = []
    for column, value in (("site_domain", filters.site_domain),
                          ("win_status", filters.win_status), ("enriched", filters.enriched)):
        if value is not None:
            conditions.append(c[column] == value)
    if c is T:
        # On the price key, so that ix_outcomes_win_price serves the range; a loss (-1) never
        # matches a price bound.
        if filters.min_price is not None:
            conditions.append(WIN_PRICE_KEY >= filters.min_price)
        if filters.max_price is not None:
            conditions.append(WIN_PRICE_KEY.between(0, filters.max_price))
        return conditions
    if filters.min_price is not None or filters.max_price is not None:
        # A loss has no price (0 in a rollup) and never matches a price bound.
        conditions.append(c.win_status)
    if filters.min_price is not None:
        conditions.append(c.win_price >= filters.min_price)
    if filters.max_price is not None:
        conditions.append(c.win_price <= filters.max_price)
    return conditions


def _within(column: Any, ranges: list[tuple[datetime, datetime]]) -> ColumnElement[bool]:
    return or_(*(and_(column >= low, column < high) for low, high in ranges))


_HOUR, _DAY = timedelta(hours=1), timedelta(days=1)
_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


def _floor(instant: datetime | None, step: timedelta) -> datetime | None:
    return None if instant is None else instant - (instant - _ORIGIN) % step


def _ceil(instant: datetime | None, step: timedelta) -> datetime | None:
    floor = _floor(instant, step)
    return floor if floor is None or floor == instant else floor + step


def _nonempty(low: datetime | None, high: datetime | None) -> bool:
    """Whether [low, high) holds anything; None is unbounded."""
    return low is None or high is None or low < high


def _edges(*ranges: tuple[datetime | None, datetime | None]) -> list[tuple[datetime, datetime]]:
    """The bounded, non-empty ranges (an unbounded side has no edge)."""
    return [(low, high) for low, high in ranges
            if low is not None and high is not None and low < high]


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
                       lambda c: select(func.sum(c.total).label("n")),
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
            lambda c: select(func.sum(c.total).label("total"),
                             func.sum(c.total).filter(c.win_status).label("wins"),
                             func.sum(c.revenue).label("revenue"),
                             func.sum(c.bid_price_sum).label("bids"),
                             func.sum(c.total).filter(c.enriched).label("enriched")),
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
            lambda c: select(_day_of(c).label("day"), func.sum(c.total).label("total"),
                             func.sum(c.total).filter(c.win_status).label("wins"),
                             func.sum(c.revenue).label("revenue")).group_by(_day_of(c)),
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


def _day_of(c: Any) -> ColumnElement[Any]:
    """The UTC day of a rollup row (``c`` the columns of either rollup): one expression object
    per rollup, so that its SELECT and GROUP BY share their bound parameter."""
    return R.day if c is R else _HOUR_DAY


def _parts(where: Split, from_rollup: Callable[[Any], AnySelect],
           from_rows: Callable[[], AnySelect]) -> Subquery:
    """The parts of one aggregate, as one subquery to sum over: ``from_rollup`` selects from
    either rollup's columns, ``from_rows`` from the rows."""
    selects: list[AnySelect] = []
    if where.daily is not None:
        selects.append(from_rollup(R).where(_where(where.daily)))
    if where.hourly is not None:
        selects.append(from_rollup(H).where(_where(where.hourly)))
    if where.rows is not None:
        selects.append(from_rows().where(_where(where.rows)))
    return union_all(*selects).subquery("parts")
