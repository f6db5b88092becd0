"""Page tokens: a token round-trips to its position, and anything else sent as one, or a token
sent with another query, is refused naming page_token."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helios.analytics import tokens
from helios.analytics.filters import Filters, Ordering, parse_filters, parse_page, token_query
from helios.analytics.v1 import analytics_pb2 as pb
from helios.platform.errors import InvalidArgument

QUERY = token_query(Filters(site_domain="news.example"), 50, Ordering())
AT = datetime(2026, 11, 30, 23, 59, 59, 999_999, tzinfo=UTC)


def refusal(raw: str, query: object = QUERY, *, timestamp_key: bool = True) -> str:
    with pytest.raises(InvalidArgument) as caught:
        tokens.decode(raw, query, timestamp_key=timestamp_key)
    assert caught.value.field == "page_token"
    return str(caught.value)


def test_a_token_round_trips_to_its_position() -> None:
    for key, timestamp_key in ((AT, True), (Decimal("-1"), False), (Decimal("0.8500"), False)):
        after = tokens.After(key, 123_456_789_012, 7)
        raw = tokens.encode(after, QUERY)
        assert raw.isascii() and "=" not in raw and len(raw) < 120
        assert tokens.decode(raw, QUERY, timestamp_key=timestamp_key) == after


def test_a_token_sent_with_other_filters_ordering_or_size_is_refused() -> None:
    raw = tokens.encode(tokens.After(AT, 1, 2), QUERY)
    for other in (token_query(Filters(site_domain="tech.example"), 50, Ordering()),
                  token_query(Filters(site_domain="news.example"), 51, Ordering()),
                  token_query(Filters(site_domain="news.example"), 50,
                              Ordering("auction_timestamp", False))):
        assert "was issued for other filters, ordering or page_size" in refusal(raw, other)


@pytest.mark.parametrize("raw", ["x", "not base64 !", "a" * 600,
                                 base64.urlsafe_b64encode(b"[1, 2]").decode(),
                                 base64.urlsafe_b64encode(b'[1,"2026-01-01",1,0,"f"]').decode(),
                                 base64.urlsafe_b64encode(b'[1,"2026-01-01T00:00",1,1,"f"]')
                                 .decode(),
                                 base64.urlsafe_b64encode(b'[2,"2026-01-01T00:00Z",1,1,"f"]')
                                 .decode()])
def test_what_this_api_did_not_issue_is_refused(raw: str) -> None:
    assert "page_token: is not a page token this API issued" in refusal(raw)


def test_a_price_key_must_be_a_finite_decimal() -> None:
    raw = tokens.encode(tokens.After(Decimal("1.5"), 1, 2), QUERY)
    assert tokens.decode(raw, QUERY, timestamp_key=False).key == Decimal("1.5")
    assert "is not a page token" in refusal(raw, timestamp_key=True)
    nan = tokens.encode(tokens.After(Decimal("NaN"), 1, 2), QUERY)
    assert "is not a page token" in refusal(nan, timestamp_key=False)


def test_the_request_parser_reads_the_token_and_its_page_number() -> None:
    request = pb.ListOutcomesRequest(site_domain="news.example", ordering="-bid_price")
    filters = parse_filters(request)
    first = parse_page(request, filters)
    raw = tokens.encode(tokens.After(Decimal("0.35"), 42, 9),
                        token_query(filters, first.size, first.ordering))
    request.page_token = raw
    page = parse_page(request, filters)
    assert (page.number, page.offset, page.after) == (9, 0, tokens.After(Decimal("0.35"), 42, 9))


@given(st.text(max_size=700))
def test_any_string_is_a_position_or_a_refusal_naming_page_token(raw: str) -> None:
    try:
        tokens.decode(raw, QUERY, timestamp_key=True)
    except InvalidArgument as exc:
        assert exc.field == "page_token"
