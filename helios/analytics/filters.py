"""Parsing the query API's parameters: strings in (as the gateway passes query parameters),
typed filters out, or :class:`InvalidArgument` naming the parameter as the caller spelled it.

Pure: no I/O, so every rule is tested directly (tests/unit/analytics/test_analytics_filters.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Protocol

from helios.analytics import tokens
from helios.analytics.models import PRICE_LIMIT, PRICE_PLACES
from helios.platform import validation
from helios.platform.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# How deep page numbers reach (page x page_size): an OFFSET reads every row it skips, so past
# this a listing pages by page_token, which costs the same at any depth.
MAX_PAGE_ROWS = 10_000
# A filter on a text column matches only what the front door could have stored there.
_USER_ID = validation.Text(validation.USER_ID.max_length)
_SITE_DOMAIN = validation.SITE_DOMAIN
# How much of a malformed value an error message repeats.
_SHOWN = 64
ORDER_FIELDS = ("auction_timestamp", "win_price", "bid_price")
DEFAULT_ORDERING = "-auction_timestamp"

_TRUE = {"true", "1"}
_FALSE = {"false", "0"}
# An unencoded '+' in a query string arrives as a space: "2024-05-01T10:00:00 02:00".
_SPACE_OFFSET = re.compile(r"^(.*[Tt].*\d) (\d{2}:?\d{2})$")
# fromisoformat also takes ISO 8601 basic forms ("20260501T1030"); RFC 3339 does not.
_RFC3339_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
                            r"(?:[Zz]|[+-]\d{2}:\d{2})?)?$")


class FilterRequest(Protocol):
    """The filter fields shared by every analytics request message (``from`` is read with
    getattr: it is a Python keyword)."""

    user_id: str
    site_domain: str
    win_status: str
    enriched: str
    min_price: str
    max_price: str
    to: str


class PageRequest(FilterRequest, Protocol):
    page: str
    page_size: str
    ordering: str
    page_token: str


@dataclass(frozen=True)
class Filters:
    """Which outcomes a query covers; None means "any"."""

    user_id: str | None = None
    site_domain: str | None = None
    win_status: bool | None = None
    enriched: bool | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    # auction_timestamp bounds: start inclusive, end exclusive.
    start: datetime | None = None
    end: datetime | None = None

    def with_wins_only(self) -> Filters:
        return Filters(self.user_id, self.site_domain, True, self.enriched, self.min_price,
                       self.max_price, self.start, self.end)


@dataclass(frozen=True)
class Ordering:
    field: str = "auction_timestamp"
    descending: bool = True


@dataclass(frozen=True)
class Page:
    number: int = 1
    size: int = DEFAULT_PAGE_SIZE
    ordering: Ordering = Ordering()
    # Set when the page was asked for by token: it starts after this row, at no offset.
    after: tokens.After | None = None

    @property
    def offset(self) -> int:
        return 0 if self.after is not None else (self.number - 1) * self.size


def token_query(filters: Filters, size: int, ordering: Ordering) -> tuple[object, ...]:
    """What a page token is issued for: a token is valid only with the same."""
    return (filters, size, ordering)


def parse_filters(request: FilterRequest) -> Filters:
    min_price = parse_price("min_price", request.min_price)
    max_price = parse_price("max_price", request.max_price)
    if min_price is not None and max_price is not None and min_price > max_price:
        raise InvalidArgument("min_price", f"must not be greater than max_price "
                                           f"({min_price} > {max_price})")
    start = parse_instant("from", getattr(request, "from"))
    end = parse_instant("to", request.to)
    if start is not None and end is not None and start >= end:
        raise InvalidArgument("from", f"must be earlier than to ({start.isoformat()} >= "
                                      f"{end.isoformat()})")
    return Filters(
        user_id=_text(_USER_ID, "user_id", request.user_id),
        site_domain=_text(_SITE_DOMAIN, "site_domain", request.site_domain),
        win_status=parse_bool("win_status", request.win_status),
        enriched=parse_bool("enriched", request.enriched),
        min_price=min_price,
        max_price=max_price,
        start=start,
        end=end,
    )


def parse_page(request: PageRequest, filters: Filters) -> Page:
    """The page asked for, by number or by the token of the page before (``filters`` are the
    request's, which a token must have been issued for)."""
    size = parse_int("page_size", request.page_size, default=DEFAULT_PAGE_SIZE, low=1,
                     high=MAX_PAGE_SIZE)
    ordering = parse_ordering(request.ordering)
    token = request.page_token.strip()
    if token:
        if request.page.strip():
            raise InvalidArgument("page", "cannot be combined with page_token (the token "
                                          "already says which page comes next)")
        after = tokens.decode(token, token_query(filters, size, ordering),
                              timestamp_key=ordering.field == "auction_timestamp")
        return Page(after.number, size, ordering, after)
    number = parse_int("page", request.page, default=1, low=1, high=MAX_PAGE_ROWS)
    if number * size > MAX_PAGE_ROWS:
        raise InvalidArgument(
            "page", f"page {number} of {size} rows reaches row {number * size:,}, past the "
                    f"{MAX_PAGE_ROWS:,} that page numbers reach: follow next_page_token for "
                    f"deeper pages")
    return Page(number, size, ordering)


def parse_bid_request_id(raw: str) -> str:
    """The id GetOutcome looks up, under the rule the bidder applied when it took the bid."""
    return validation.REQUEST_ID.check("bid_request_id", raw)


def parse_int(name: str, raw: str, *, default: int, low: int, high: int) -> int:
    text = raw.strip()
    if not text:
        return default
    problem = f"must be an integer between {low} and {high}, got {_shown(raw)}"
    # int() would also take "1_000" and "+5"; a page number is plain digits (and few of them:
    # int() of a very long string is slow).
    if not text.isascii() or not text.isdigit() or len(text) > len(str(high)):
        raise InvalidArgument(name, problem)
    value = int(text)
    if value < low or (high is not None and value > high):
        raise InvalidArgument(name, problem)
    return value


def parse_bool(name: str, raw: str) -> bool | None:
    text = raw.strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidArgument(name, f"must be true or false (or 1 or 0), got {_shown(raw)}")


def parse_price(name: str, raw: str) -> Decimal | None:
    """A bound on what a win is stored as: between 0 and the column's largest value, with at
    most as many decimal places as it keeps."""
    text = raw.strip()
    if not text:
        return None
    problem = (f"must be a decimal number between 0 and {PRICE_LIMIT} with at most "
               f"{PRICE_PLACES} decimal places, got {_shown(raw)}")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidArgument(name, problem) from None
    if (not value.is_finite() or not 0 <= value <= PRICE_LIMIT
            or value != value.quantize(Decimal(1).scaleb(-PRICE_PLACES))):
        raise InvalidArgument(name, problem)
    return value


def parse_instant(name: str, raw: str) -> datetime | None:
    """RFC 3339 (an offset-less time is taken as UTC) or YYYY-MM-DD (midnight UTC)."""
    text = raw.strip()
    if not text:
        return None
    problem = f"must be an RFC 3339 timestamp or a YYYY-MM-DD date, got {_shown(raw)}"
    spaced = _SPACE_OFFSET.match(text)
    if spaced:
        text = f"{spaced.group(1)}+{spaced.group(2)}"
    try:
        if not _RFC3339_SHAPE.match(text):
            raise ValueError(text)
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        value = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError:
        raise InvalidArgument(name, problem) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-02:00 is past the last representable instant
        raise InvalidArgument(name, problem) from None


def parse_ordering(raw: str) -> Ordering:
    text = raw.strip()
    if not text:
        text = DEFAULT_ORDERING
    descending = text.startswith("-")
    field = text.removeprefix("-")
    if field not in ORDER_FIELDS:
        raise InvalidArgument("ordering", f"must be one of {', '.join(ORDER_FIELDS)}, "
                                          f"optionally prefixed with '-', got {_shown(raw)}")
    return Ordering(field, descending)


def _text(rule: validation.Text, name: str, raw: str) -> str | None:
    # ASCII whitespace only: str.strip() would also take U+0085 and U+2028, which the rule
    # refuses anywhere in an id.
    text = raw.strip(" \t\r\n")
    return rule.check(name, text) or None


def _shown(raw: str) -> str:
    """``raw`` quoted for an error message, cut short if long."""
    return repr(raw) if len(raw) <= _SHOWN else repr(raw[:_SHOWN]) + "..."
