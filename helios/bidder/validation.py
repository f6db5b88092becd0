"""The rules a bid request must meet, and its normal form.

Each failure is an :class:`~helios.platform.errors.InvalidArgument` naming the field as the
exchange wrote it; through the gateway that is an HTTP 400 with the message.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.timestamp_pb2 import Timestamp

from helios.bidder.v1.bidder_pb2 import SubmitBidRequest
from helios.platform import validation
from helios.platform.errors import InvalidArgument

TMAX_LOW_MS = 1
TMAX_HIGH_MS = 1000


@dataclass(frozen=True, slots=True)
class BidRequest:
    """A validated request, with the nested ``site``/``device`` form folded into flat fields."""

    request_id: str
    user_id: str
    timestamp_ns: int
    device_type: str
    page_url: str
    site_domain: str
    tmax_ms: int | None


def validate(request: SubmitBidRequest, now_ns: int) -> BidRequest:
    """Checks ``request``; ``now_ns`` (ns since the epoch) stands in for a missing timestamp."""
    request_id = validation.REQUEST_ID.check("request_id", request.request_id)
    user_id = validation.USER_ID.check("user_id", request.user_id)
    timestamp_ns = _check_timestamp(request.timestamp) if request.timestamp else now_ns
    tmax_ms: int | None = None
    if request.HasField("tmax"):
        tmax_ms = request.tmax
        if not TMAX_LOW_MS <= tmax_ms <= TMAX_HIGH_MS:
            raise InvalidArgument(
                "tmax", f"must be between {TMAX_LOW_MS} and {TMAX_HIGH_MS} ms, got {tmax_ms}")
    # The flat fields win when both forms are sent: they are the documented ones. Each is
    # checked under the name the exchange used, since these are stored with the outcome.
    return BidRequest(
        request_id=request_id,
        user_id=user_id,
        timestamp_ns=timestamp_ns,
        device_type=_either(validation.DEVICE_TYPE, "device_type", request.device_type,
                            "device.type", request.device.type),
        page_url=_either(validation.PAGE_URL, "page_url", request.page_url,
                         "site.page", request.site.page),
        site_domain=validation.SITE_DOMAIN.check("site.domain", request.site.domain),
        tmax_ms=tmax_ms,
    )


def _either(rule: validation.Text, flat: str, flat_value: str, nested: str,
            nested_value: str) -> str:
    if flat_value:
        return rule.check(flat, flat_value)
    return rule.check(nested, nested_value)


def _check_timestamp(value: str) -> int:
    parsed = Timestamp()
    try:
        # protobuf's own RFC 3339 reader: it insists on a date, a time and a UTC offset, which
        # datetime.fromisoformat (ISO 8601, offset optional) does not. RFC 3339 allows a lower
        # case "t" and "z"; the reader does not, hence upper().
        parsed.FromJsonString(value.upper())
    except ValueError:
        raise InvalidArgument("timestamp", f"must be RFC 3339, got {value!r}") from None
    return parsed.ToNanoseconds()
