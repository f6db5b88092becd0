from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helios.bidder.v1.bidder_pb2 import Device, Site, SubmitBidRequest
from helios.bidder.validation import BidRequest, validate
from helios.platform.errors import InvalidArgument

NOW = 1_700_000_000_123_456_789


def request(**fields: object) -> SubmitBidRequest:
    values: dict[str, object] = {"request_id": "req-1", "user_id": "user-001", **fields}
    return SubmitBidRequest(**values)  # type: ignore[arg-type]


def rejected(req: SubmitBidRequest) -> str:
    with pytest.raises(InvalidArgument) as caught:
        validate(req, NOW)
    return str(caught.value)


def test_a_minimal_request_is_accepted_with_the_clock_as_timestamp() -> None:
    assert validate(request(), NOW) == BidRequest(
        request_id="req-1", user_id="user-001", timestamp_ns=NOW, device_type="",
        page_url="", site_domain="", tmax_ms=None)


@pytest.mark.parametrize("field", ["request_id", "user_id"])
def test_ids_are_required(field: str) -> None:
    assert rejected(request(**{field: ""})) == f"{field}: is required"


@pytest.mark.parametrize("field", ["request_id", "user_id"])
@pytest.mark.parametrize("blank", [" ", "\t\n", "   "])
def test_ids_must_not_be_blank(field: str, blank: str) -> None:
    assert rejected(request(**{field: blank})) == f"{field}: must not be blank"


@pytest.mark.parametrize("field", ["request_id", "user_id"])
def test_ids_are_at_most_128_characters(field: str) -> None:
    assert validate(request(**{field: "é" * 128}), NOW)
    assert rejected(request(**{field: "x" * 129})) == \
        f"{field}: must be at most 128 characters, got 129"


def test_request_id_is_checked_before_user_id() -> None:
    assert rejected(request(request_id="", user_id="")) == "request_id: is required"


@pytest.mark.parametrize(("text", "nanos"), [
    ("2024-01-01T00:00:00Z", 1_704_067_200_000_000_000),
    ("2024-01-01T02:00:00+02:00", 1_704_067_200_000_000_000),
    ("2024-01-01T00:00:00.123456789Z", 1_704_067_200_123_456_789),
    ("2024-01-01t00:00:00z", 1_704_067_200_000_000_000),
])
def test_rfc3339_timestamps_are_parsed(text: str, nanos: int) -> None:
    assert validate(request(timestamp=text), NOW).timestamp_ns == nanos


@pytest.mark.parametrize("text", ["yesterday", "2024-01-01", "2024-01-01T00:00:00",
                                  "2024-13-01T00:00:00Z", "1704067200"])
def test_other_timestamps_are_rejected_with_the_value(text: str) -> None:
    assert rejected(request(timestamp=text)) == f"timestamp: must be RFC 3339, got {text!r}"


def test_the_exact_timestamp_message() -> None:
    assert rejected(request(timestamp="yesterday")) == \
        "timestamp: must be RFC 3339, got 'yesterday'"


@pytest.mark.parametrize("tmax", [1, 50, 1000])
def test_tmax_within_range_is_kept(tmax: int) -> None:
    assert validate(request(tmax=tmax), NOW).tmax_ms == tmax


@pytest.mark.parametrize("tmax", [0, -5, 1001, 60_000])
def test_tmax_out_of_range_is_rejected(tmax: int) -> None:
    assert rejected(request(tmax=tmax)) == f"tmax: must be between 1 and 1000 ms, got {tmax}"


def test_tmax_zero_message_is_exact() -> None:
    # An explicit 0 is present (proto3 optional), so it is checked, not taken as absent.
    assert rejected(request(tmax=0)) == "tmax: must be between 1 and 1000 ms, got 0"


def test_nested_site_and_device_fill_the_flat_fields() -> None:
    bid = validate(request(site=Site(domain="news.example", page="https://news.example/a"),
                           device=Device(type="mobile", ip="203.0.113.9")), NOW)
    assert (bid.site_domain, bid.page_url, bid.device_type) == (
        "news.example", "https://news.example/a", "mobile")


def test_flat_fields_win_over_nested_ones() -> None:
    bid = validate(request(page_url="https://flat.example/", device_type="desktop",
                           site=Site(domain="news.example", page="https://news.example/a"),
                           device=Device(type="mobile")), NOW)
    assert (bid.site_domain, bid.page_url, bid.device_type) == (
        "news.example", "https://flat.example/", "desktop")


# ---- properties: whatever arrives, the answer is a storable request or a named refusal ----

FIELDS = ("request_id", "user_id", "timestamp", "device_type", "page_url", "site.domain",
          "site.page", "device.type", "tmax")
any_text = st.text(max_size=300)


@given(request_id=any_text, user_id=any_text, timestamp=any_text, device_type=any_text,
       page_url=any_text, domain=any_text, page=any_text, device_type_nested=any_text,
       tmax=st.none() | st.integers(min_value=-2**31, max_value=2**31 - 1))
def test_any_request_is_valid_and_storable_or_refused_naming_a_field(
        request_id: str, user_id: str, timestamp: str, device_type: str, page_url: str,
        domain: str, page: str, device_type_nested: str, tmax: int | None) -> None:
    message = SubmitBidRequest(request_id=request_id, user_id=user_id, timestamp=timestamp,
                               device_type=device_type, page_url=page_url,
                               site=Site(domain=domain, page=page),
                               device=Device(type=device_type_nested))
    if tmax is not None:
        message.tmax = tmax
    try:
        bid = validate(message, NOW)
    except InvalidArgument as exc:
        assert exc.field in FIELDS, exc
        return
    for text, limit in ((bid.request_id, 128), (bid.user_id, 128), (bid.site_domain, 253),
                        (bid.device_type, 64), (bid.page_url, 4096)):
        assert len(text) <= limit and text.isprintable() and "\x00" not in text
    assert bid.request_id.strip() and bid.user_id.strip()
    assert bid.tmax_ms is None or 1 <= bid.tmax_ms <= 1000
