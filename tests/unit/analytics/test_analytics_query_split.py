from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql

from helios.analytics.filters import Filters
from helios.analytics.queries import OutcomePage, Split, Stats, split, time_parts

MIDNIGHT = datetime(2026, 5, 1, tzinfo=UTC)


def sql(conditions: list[Any] | None) -> str | None:
    if conditions is None:
        return None
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return " AND ".join(str(c.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
                        for c in conditions)


def test_whole_days_come_from_the_daily_rollup_alone() -> None:
    got = split(Filters(site_domain="s", win_status=True, enriched=False, start=MIDNIGHT,
                        end=MIDNIGHT.replace(day=3)))
    assert (got.hourly, got.rows) == (None, None)
    assert sql(got.daily) == (
        "auction_outcomes_daily.site_domain = 's' AND auction_outcomes_daily.win_status = true"
        " AND auction_outcomes_daily.enriched = false"
        " AND auction_outcomes_daily.day >= '2026-05-01'"
        " AND auction_outcomes_daily.day < '2026-05-03'")
    assert split(Filters()) == Split([], None, None)


def test_whole_hours_of_the_edge_days_come_from_the_hourly_rollup() -> None:
    got = split(Filters(site_domain="s", start=MIDNIGHT.replace(hour=6),
                        end=MIDNIGHT.replace(day=4, hour=18)))
    assert sql(got.daily) == (
        "auction_outcomes_daily.site_domain = 's'"
        " AND auction_outcomes_daily.day >= '2026-05-02'"
        " AND auction_outcomes_daily.day < '2026-05-04'")
    assert sql(got.hourly) == (
        "auction_outcomes_hourly.site_domain = 's' AND "
        "auction_outcomes_hourly.hour >= '2026-05-01 06:00:00+00:00'"
        " AND auction_outcomes_hourly.hour < '2026-05-02 00:00:00+00:00'"
        " OR auction_outcomes_hourly.hour >= '2026-05-04 00:00:00+00:00'"
        " AND auction_outcomes_hourly.hour < '2026-05-04 18:00:00+00:00'")
    assert got.rows is None


def test_partial_hours_at_the_edges_come_from_the_rows() -> None:
    got = split(Filters(start=MIDNIGHT.replace(hour=6, minute=30),
                        end=MIDNIGHT.replace(day=2, hour=1, second=5)))
    assert sql(got.daily) is None
    assert sql(got.hourly) == (
        "auction_outcomes_hourly.hour >= '2026-05-01 07:00:00+00:00'"
        " AND auction_outcomes_hourly.hour < '2026-05-02 01:00:00+00:00'")
    assert sql(got.rows) == (
        "auction_outcomes.auction_timestamp >= '2026-05-01 06:30:00+00:00'"
        " AND auction_outcomes.auction_timestamp < '2026-05-01 07:00:00+00:00'"
        " OR auction_outcomes.auction_timestamp >= '2026-05-02 01:00:00+00:00'"
        " AND auction_outcomes.auction_timestamp < '2026-05-02 01:00:05+00:00'")


def test_an_open_end_has_one_edge() -> None:
    got = split(Filters(start=MIDNIGHT.replace(hour=23, second=1)))
    assert sql(got.daily) == "auction_outcomes_daily.day >= '2026-05-02'"
    assert got.hourly is None
    assert sql(got.rows) == ("auction_outcomes.auction_timestamp >= '2026-05-01 23:00:01+00:00'"
                             " AND auction_outcomes.auction_timestamp < "
                             "'2026-05-02 00:00:00+00:00'")


def test_a_range_inside_two_hours_reads_only_rows() -> None:
    got = split(Filters(start=MIDNIGHT.replace(hour=1, minute=10),
                        end=MIDNIGHT.replace(hour=2, minute=5)))
    assert (got.daily, got.hourly) == (None, None)
    assert sql(got.rows) == ("auction_outcomes.auction_timestamp >= '2026-05-01 01:10:00+00:00'"
                             " AND auction_outcomes.auction_timestamp < "
                             "'2026-05-01 02:05:00+00:00'")


@given(st.integers(0, 3 * 1440), st.integers(1, 3 * 1440), st.booleans(), st.booleans())
def test_the_parts_cover_the_range_exactly_once(start_min: int, length: int, open_start: bool,
                                                open_end: bool) -> None:
    start = None if open_start else MIDNIGHT + timedelta(minutes=start_min, seconds=7)
    end = None if open_end else MIDNIGHT + timedelta(minutes=start_min + length)
    parts = time_parts(start, end)
    for low, high in parts.hours:
        assert low.minute == low.second == 0 and high.minute == high.second == 0
    if parts.days is not None:
        assert all(edge is None or edge.hour == edge.minute == 0 for edge in parts.days)

    def inside(instant: datetime, low: datetime | None, high: datetime | None) -> bool:
        return (low is None or low <= instant) and (high is None or instant < high)

    for minute in range(-60, 5 * 1440, 13):
        instant = MIDNIGHT + timedelta(minutes=minute, seconds=30)
        counted = (int(parts.days is not None and inside(instant, *parts.days))
                   + sum(inside(instant, *r) for r in parts.hours)
                   + sum(inside(instant, *r) for r in parts.rows))
        assert counted == int(inside(instant, start, end)), (instant, parts)
    # Rows only at the partial hours: at most an hour at each edge.
    assert all(high - low <= timedelta(hours=1) for low, high in parts.rows) or (
        start is not None and end is not None and end - start < timedelta(hours=2))


def test_a_user_filter_reads_only_rows() -> None:
    got = split(Filters(user_id="u", start=MIDNIGHT))
    assert (got.daily, got.hourly) == (None, None)
    assert got.rows is not None and len(got.rows) == 2


def test_price_bounds_on_a_rollup_leave_losses_out() -> None:
    got = split(Filters(min_price=Decimal("0.5"), max_price=Decimal(1)))
    assert sql(got.daily) == (
        "auction_outcomes_daily.win_status AND auction_outcomes_daily.win_price >= 0.5"
        " AND auction_outcomes_daily.win_price <= 1")
    assert (got.hourly, got.rows) == (None, None)


def test_total_pages_rounds_up() -> None:
    assert OutcomePage(0, 1, 50, []).total_pages == 0
    assert OutcomePage(50, 1, 50, []).total_pages == 1
    assert OutcomePage(51, 1, 50, []).total_pages == 2


def test_stats_derived_figures() -> None:
    stats = Stats(4, 3, Decimal(3), Decimal(1), Decimal("0.9"), 2)
    assert (stats.losses, stats.win_rate) == (1, 0.75)
    assert Stats(0, 0, Decimal(0), Decimal(0), Decimal(0), 0).win_rate == 0.0
