from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects import postgresql

from helios.analytics.filters import Filters
from helios.analytics.queries import OutcomePage, Split, Stats, split

MIDNIGHT = datetime(2026, 5, 1, tzinfo=UTC)


def sql(conditions: list[Any] | None) -> str | None:
    if conditions is None:
        return None
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return " AND ".join(str(c.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
                        for c in conditions)


def test_whole_days_come_from_the_rollup_alone() -> None:
    got = split(Filters(site_domain="s", win_status=True, enriched=False, start=MIDNIGHT,
                        end=MIDNIGHT.replace(day=3)))
    assert got.rows is None
    assert sql(got.rollup) == (
        "auction_outcomes_daily.site_domain = 's' AND auction_outcomes_daily.win_status = true"
        " AND auction_outcomes_daily.enriched = false"
        " AND auction_outcomes_daily.day >= '2026-05-01'"
        " AND auction_outcomes_daily.day < '2026-05-03'")
    assert split(Filters()) == Split([], None)


def test_partial_days_at_the_edges_come_from_the_rows() -> None:
    got = split(Filters(site_domain="s", start=MIDNIGHT.replace(hour=6),
                        end=MIDNIGHT.replace(day=4, hour=18)))
    assert sql(got.rollup) == (
        "auction_outcomes_daily.site_domain = 's'"
        " AND auction_outcomes_daily.day >= '2026-05-02'"
        " AND auction_outcomes_daily.day < '2026-05-04'")
    assert sql(got.rows) == (
        "auction_outcomes.site_domain = 's' AND "
        "auction_outcomes.auction_timestamp >= '2026-05-01 06:00:00+00:00'"
        " AND auction_outcomes.auction_timestamp < '2026-05-02 00:00:00+00:00'"
        " OR auction_outcomes.auction_timestamp >= '2026-05-04 00:00:00+00:00'"
        " AND auction_outcomes.auction_timestamp < '2026-05-04 18:00:00+00:00'")


def test_an_open_end_has_one_edge() -> None:
    got = split(Filters(start=MIDNIGHT.replace(second=1)))
    assert sql(got.rollup) == "auction_outcomes_daily.day >= '2026-05-02'"
    assert got.rows is not None and len(got.rows) == 1


def test_a_range_inside_one_day_reads_only_rows() -> None:
    got = split(Filters(start=MIDNIGHT.replace(hour=1), end=MIDNIGHT.replace(hour=5)))
    assert got.rollup is None
    assert sql(got.rows) == ("auction_outcomes.auction_timestamp >= '2026-05-01 01:00:00+00:00'"
                             " AND auction_outcomes.auction_timestamp < "
                             "'2026-05-01 05:00:00+00:00'")


def test_a_user_filter_reads_only_rows() -> None:
    got = split(Filters(user_id="u", start=MIDNIGHT))
    assert got.rollup is None and got.rows is not None and len(got.rows) == 2


def test_price_bounds_on_the_rollup_leave_losses_out() -> None:
    got = split(Filters(min_price=Decimal("0.5"), max_price=Decimal(1)))
    assert sql(got.rollup) == (
        "auction_outcomes_daily.win_status AND auction_outcomes_daily.win_price >= 0.5"
        " AND auction_outcomes_daily.win_price <= 1")
    assert got.rows is None


def test_total_pages_rounds_up() -> None:
    assert OutcomePage(0, 1, 50, []).total_pages == 0
    assert OutcomePage(50, 1, 50, []).total_pages == 1
    assert OutcomePage(51, 1, 50, []).total_pages == 2


def test_stats_derived_figures() -> None:
    stats = Stats(4, 3, Decimal(3), Decimal(1), Decimal("0.9"), 2)
    assert (stats.losses, stats.win_rate) == (1, 0.75)
    assert Stats(0, 0, Decimal(0), Decimal(0), Decimal(0), 0).win_rate == 0.0
