"""Page tokens: where the next page of a listing starts, as an opaque string.

A token holds the last row's sort key and id (the next page is the rows after them in the
listing's order, found by one index scan whatever the depth), the number of the page it leads
to, and a fingerprint of the filters, ordering and page size it was issued for, so that a token
sent with another query is refused rather than answered with rows of the wrong listing. It is
not signed: a made-up one can only start a listing somewhere else.

Pure: no I/O (tests/unit/analytics/test_analytics_tokens.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from helios.platform.errors import InvalidArgument

_VERSION = 1
_FIELD = "page_token"
# A token is a few dozen bytes; anything much longer is not one.
_MAX_LENGTH = 512


@dataclass(frozen=True)
class After:
    """The position a page starts after: the last row's sort key and id."""

    key: datetime | Decimal
    id: int
    # The number of the page that starts here.
    number: int


def fingerprint(query: Any) -> str:
    """Of a frozen dataclass of the query (its repr is its value)."""
    return hashlib.blake2b(repr(query).encode(), digest_size=6).hexdigest()


def encode(after: After, query: Any) -> str:
    key = after.key.isoformat() if isinstance(after.key, datetime) else str(after.key)
    body = json.dumps([_VERSION, key, after.id, after.number, fingerprint(query)],
                      separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode(raw: str, query: Any, *, timestamp_key: bool) -> After:
    """The position in ``raw``, or :class:`InvalidArgument` naming page_token. ``query`` must
    be what the token was issued for; ``timestamp_key`` says whether the ordering's key is a
    timestamp (else a decimal)."""
    if len(raw) > _MAX_LENGTH:
        raise InvalidArgument(_FIELD, "is not a page token this API issued")
    try:
        body = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        version, key, row_id, number, issued_for = body
        if version != _VERSION or not isinstance(row_id, int) or not isinstance(number, int):
            raise ValueError(body)
        value: datetime | Decimal = (datetime.fromisoformat(key) if timestamp_key
                                     else Decimal(key))
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError(key)
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueError(key)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, InvalidOperation):
        raise InvalidArgument(_FIELD, "is not a page token this API issued") from None
    if issued_for != fingerprint(query):
        raise InvalidArgument(_FIELD, "was issued for other filters, ordering or page_size: "
                                      "send it with the query that returned it")
    if not 0 < number <= 2**31 - 1 or not -2**63 <= row_id < 2**63:
        raise InvalidArgument(_FIELD, "is not a page token this API issued")
    return After(value, row_id, number)
