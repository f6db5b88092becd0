from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helios.analytics.filters import Filters, Ordering, Page, parse_filters, parse_page
from helios.analytics.v1 import analytics_pb2 as pb
from helios.platform.errors import InvalidArgument


def filters(**fields: str) -> Filters:
    return parse_filters(pb.ListOutcomesRequest(**fields))


def page(**fields: str) -> Page:
    request = pb.ListOutcomesRequest(**fields)
    return parse_page(request, parse_filters(request))


def error(parse: object, **fields: str) -> str:
    assert callable(parse)
    with pytest.raises(InvalidArgument) as caught:
        parse(**fields)
    return str(caught.value)


def test_nothing_given_means_no_filter_and_the_default_page() -> None:
    assert filters() == Filters()
    assert page() == Page(1, 50, Ordering("auction_timestamp", True))


def test_text_filters_are_taken_as_given_but_trimmed() -> None:
    got = filters(user_id=" user-001 ", site_domain="news.example")
    assert (got.user_id, got.site_domain) == ("user-001", "news.example")


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("false", False), ("1", True),
                                            ("0", False), ("TRUE", True), (" False ", False)])
@pytest.mark.parametrize("name", ["win_status", "enriched"])
def test_booleans(name: str, raw: str, value: bool) -> None:
    assert getattr(filters(**{name: raw}), name) is value


@pytest.mark.parametrize("name", ["win_status", "enriched"])
@pytest.mark.parametrize("raw", ["yes", "2", "t", "nope"])
def test_bad_booleans_name_the_parameter(name: str, raw: str) -> None:
    assert error(filters, **{name: raw}) == \
        f"{name}: must be true or false (or 1 or 0), got {raw!r}"


@pytest.mark.parametrize("name", ["min_price", "max_price"])
def test_prices(name: str) -> None:
    assert getattr(filters(**{name: "0.85"}), name) == Decimal("0.85")
    assert getattr(filters(**{name: "0"}), name) == Decimal(0)


@pytest.mark.parametrize("name", ["min_price", "max_price"])
@pytest.mark.parametrize("raw", ["abc", "-1", "NaN", "inf", "1,5", "1e", "1e308",
                                 "100000000", "0.00001", "1e-999999"])
def test_bad_prices_name_the_parameter(name: str, raw: str) -> None:
    assert error(filters, **{name: raw}) == (
        f"{name}: must be a decimal number between 0 and 99999999.9999 with at most 4 decimal "
        f"places, got {raw!r}")


@pytest.mark.parametrize("name", ["min_price", "max_price"])
def test_prices_up_to_the_stored_range_are_accepted(name: str) -> None:
    assert getattr(filters(**{name: "99999999.9999"}), name) == Decimal("99999999.9999")
    assert getattr(filters(**{name: "1E+2"}), name) == Decimal(100)


def test_min_price_above_max_price_is_refused() -> None:
    assert error(filters, min_price="2", max_price="1.5") == \
        "min_price: must not be greater than max_price (2 > 1.5)"
    assert filters(min_price="1.5", max_price="1.5").min_price == Decimal("1.5")


@pytest.mark.parametrize(("raw", "value"), [
    ("2026-05-01", datetime(2026, 5, 1, tzinfo=UTC)),
    ("2026-05-01T10:30:00Z", datetime(2026, 5, 1, 10, 30, tzinfo=UTC)),
    ("2026-05-01T12:30:00+02:00", datetime(2026, 5, 1, 10, 30, tzinfo=UTC)),
    # An unencoded '+' arrives as a space.
    ("2026-05-01T12:30:00 02:00", datetime(2026, 5, 1, 10, 30, tzinfo=UTC)),
    ("2026-05-01 10:30Z", datetime(2026, 5, 1, 10, 30, tzinfo=UTC)),
    ("2026-05-01T10:30:00.250", datetime(2026, 5, 1, 10, 30, 0, 250000, tzinfo=UTC)),
])
def test_time_bounds(raw: str, value: datetime) -> None:
    assert filters(**{"from": raw}).start == value
    assert filters(to=raw).end == value


@pytest.mark.parametrize("name", ["from", "to"])
@pytest.mark.parametrize("raw", ["yesterday", "2026-13-01", "1714550400", "20260501",
                                 "2026-05-01T25:00:00Z", "2026-05-01T10", "2026-5-1"])
def test_bad_time_bounds_name_the_parameter_as_typed(name: str, raw: str) -> None:
    assert error(filters, **{name: raw}) == \
        f"{name}: must be an RFC 3339 timestamp or a YYYY-MM-DD date, got {raw!r}"


def test_from_must_be_before_to() -> None:
    assert error(filters, **{"from": "2026-05-02", "to": "2026-05-01"}) == \
        "from: must be earlier than to (2026-05-02T00:00:00+00:00 >= 2026-05-01T00:00:00+00:00)"
    assert error(filters, **{"from": "2026-05-01", "to": "2026-05-01"}).startswith("from: ")


@pytest.mark.parametrize(("raw", "value"), [("1", 1), ("7", 7), (" 3 ", 3)])
def test_page(raw: str, value: int) -> None:
    assert page(page=raw).number == value


@pytest.mark.parametrize("raw", ["0", "-1", "abc", "1.5", "+2", "1_0", "٣", "10001",
                                 "99999999999999999999"])
def test_bad_page(raw: str) -> None:
    assert error(page, page=raw) == f"page: must be an integer between 1 and 10000, got {raw!r}"


def test_a_long_bad_value_is_shown_cut_short() -> None:
    assert error(page, page="9" * 100) == (
        f"page: must be an integer between 1 and 10000, got {'9' * 64!r}...")


def test_page_numbers_reach_10000_rows_and_no_further() -> None:
    assert page(page="20", page_size="500").offset == 9_500
    assert page(page="200").offset == 9_950
    assert error(page, page="21", page_size="500") == (
        "page: page 21 of 500 rows reaches row 10,500, past the 10,000 that page numbers "
        "reach: follow next_page_token for deeper pages")
    assert error(page, page="201").startswith("page: page 201 of 50 rows reaches row 10,050")


def test_a_page_token_and_a_page_number_do_not_mix() -> None:
    assert error(page, page="2", page_token="x") == (
        "page: cannot be combined with page_token (the token already says which page comes "
        "next)")


@pytest.mark.parametrize(("raw", "value"), [("1", 1), ("500", 500), ("25", 25)])
def test_page_size(raw: str, value: int) -> None:
    assert page(page_size=raw).size == value


@pytest.mark.parametrize("raw", ["0", "501", "abc", "-5", "10.0"])
def test_bad_page_size(raw: str) -> None:
    assert error(page, page_size=raw) == \
        f"page_size: must be an integer between 1 and 500, got {raw!r}"


def test_page_offset() -> None:
    assert page(page="3", page_size="20").offset == 40


@pytest.mark.parametrize(("raw", "value"), [
    ("auction_timestamp", Ordering("auction_timestamp", False)),
    ("-auction_timestamp", Ordering("auction_timestamp", True)),
    ("win_price", Ordering("win_price", False)),
    ("-win_price", Ordering("win_price", True)),
    ("bid_price", Ordering("bid_price", False)),
    ("-bid_price", Ordering("bid_price", True)),
])
def test_ordering(raw: str, value: Ordering) -> None:
    assert page(ordering=raw).ordering == value


@pytest.mark.parametrize("raw", ["price", "--win_price", "+bid_price", "user_id"])
def test_bad_ordering(raw: str) -> None:
    assert error(page, ordering=raw) == (
        "ordering: must be one of auction_timestamp, win_price, bid_price, optionally "
        f"prefixed with '-', got {raw!r}")


def test_every_request_type_with_filters_is_parsed_alike() -> None:
    for request in (pb.GetStatsRequest(win_status="x"), pb.GetDailyStatsRequest(win_status="x"),
                    pb.ListWinnersRequest(win_status="x")):
        with pytest.raises(InvalidArgument, match=r"^win_status: "):
            parse_filters(request)


def test_wins_only_keeps_the_other_filters() -> None:
    got = filters(user_id="u", win_status="false", min_price="1").with_wins_only()
    assert (got.user_id, got.win_status, got.min_price) == ("u", True, Decimal(1))


# ---- properties: whatever the query string holds, typed filters in range or a named 400 ----

PARAMETERS = ("user_id", "site_domain", "win_status", "enriched", "min_price", "max_price",
              "from", "to", "page", "page_size", "ordering")
values = st.one_of(st.text(max_size=80), st.sampled_from(
    ["1e308", "-0", "0.00001", "99999999.9999", "9" * 50, "9999-12-31T23:59:59-23:59",
     "0001-01-01T00:00:00+23:59", "2026-05-01", " 5 ", "\x00", "NaN", "-inf", "1_000"]))


@given(st.dictionaries(st.sampled_from(PARAMETERS), values))
def test_any_parameters_parse_in_range_or_are_refused_naming_one(raw: dict[str, str]) -> None:
    request = pb.ListOutcomesRequest(**raw)
    try:
        got = parse_filters(request)
        paged = parse_page(request, got)
    except InvalidArgument as exc:
        assert exc.field in PARAMETERS, exc
        return
    for price in (got.min_price, got.max_price):
        assert price is None or Decimal(0) <= price <= Decimal("99999999.9999")
    for instant in (got.start, got.end):
        assert instant is None or instant.utcoffset() == timedelta(0)
    for text in (got.user_id, got.site_domain):
        assert text is None or (text.isprintable() and len(text) <= 253)
    assert 1 <= paged.number and 1 <= paged.size <= 500
    assert paged.offset + paged.size <= 10_000
