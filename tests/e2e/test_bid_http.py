"""`POST /bid` through Envoy to the real bidder: every bad input is a 400 with a JSON
google.rpc.Status naming the field; a good bid answers the documented snake_case fields."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from tests.conftest import Mesh

INVALID_ARGUMENT = 3


def post(mesh: Mesh, body: bytes, path: str = "/bid") -> tuple[int, Any]:
    request = urllib.request.Request(f"{mesh.gateway.url}{path}", data=body, method="POST",
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def bid(mesh: Mesh, **fields: Any) -> tuple[int, Any]:
    return post(mesh, json.dumps(fields).encode())


def good(**overrides: Any) -> dict[str, Any]:
    return {"request_id": f"e2e-{uuid.uuid4().hex[:12]}", "user_id": "user-001", **overrides}


@pytest.mark.parametrize(("field", "fields"), [
    ("request_id", {"user_id": "user-001"}),
    ("request_id", {"request_id": "", "user_id": "user-001"}),
    ("request_id", {"request_id": "   ", "user_id": "user-001"}),
    ("request_id", {"request_id": "r" * 129, "user_id": "user-001"}),
    ("user_id", {"request_id": "r-1"}),
    ("user_id", {"request_id": "r-1", "user_id": ""}),
    ("user_id", {"request_id": "r-1", "user_id": " \t"}),
    ("user_id", {"request_id": "r-1", "user_id": "u" * 129}),
    ("timestamp", good(timestamp="yesterday")),
    ("timestamp", good(timestamp="2026-13-45T99:00:00Z")),
    ("tmax", good(tmax=0)),
    ("tmax", good(tmax=1001)),
    ("tmax", good(tmax=-5)),
])
def test_a_bad_bid_is_400_naming_the_field(mesh: Mesh, field: str,
                                           fields: dict[str, Any]) -> None:
    status, reply = bid(mesh, **fields)

    assert status == 400, reply
    assert reply["code"] == INVALID_ARGUMENT
    assert reply["message"].startswith(f"{field}:"), reply


@pytest.mark.parametrize(("field", "fields"), [
    ("request_id", {"request_id": 5, "user_id": "user-001"}),
    ("tmax", {"request_id": "r-1", "user_id": "user-001", "tmax": "fast"}),
    ("tmax", {"request_id": "r-1", "user_id": "user-001", "tmax": 1.5}),
    ("site", {"request_id": "r-1", "user_id": "user-001", "site": "news.example"}),
])
def test_a_wrongly_typed_field_is_400_naming_it(mesh: Mesh, field: str,
                                                fields: dict[str, Any]) -> None:
    status, reply = bid(mesh, **fields)

    assert status == 400, reply
    assert reply["code"] == INVALID_ARGUMENT
    assert field in reply["message"], reply


def test_a_list_where_a_string_belongs_is_400(mesh: Mesh) -> None:
    # Envoy's transcoder rejects this before the bidder sees it, and its message
    # ("Proto field is not repeating, cannot start list.") does not name the field.
    status, reply = bid(mesh, request_id="r-1", user_id=["user-001"])

    assert status == 400, reply
    assert reply["code"] == INVALID_ARGUMENT
    assert "not repeating" in reply["message"], reply


@pytest.mark.parametrize("body", [b"{", b"not json", b'{"request_id": "r-1",}', b"[]"])
def test_a_malformed_body_is_400(mesh: Mesh, body: bytes) -> None:
    status, reply = post(mesh, body)

    assert status == 400, reply
    assert reply["code"] == INVALID_ARGUMENT
    assert reply["message"]


def test_the_limits_are_inclusive(mesh: Mesh) -> None:
    for fields in (good(tmax=1), good(tmax=1000),
                   {"request_id": "r" * 128, "user_id": "u" * 128}):
        status, reply = bid(mesh, **fields)
        assert status == 200, (fields, reply)


def test_a_good_bid_answers_the_documented_fields(mesh: Mesh) -> None:
    fields = good(timestamp="2026-01-02T03:04:05Z", device_type="mobile",
                  page_url="https://news.example/a", tmax=200)

    status, reply = bid(mesh, **fields)

    assert status == 200, reply
    for name in ("bid_request_id", "user_id", "bid_price", "currency", "timestamp", "enriched",
                 "user_interests", "interest_scores", "winning_interest", "interest_score"):
        assert name in reply, name
    assert reply["bid_request_id"] == fields["request_id"]
    assert reply["user_id"] == "user-001"
    assert reply["currency"] == "USD"
    assert reply["enriched"] is True
    assert reply["bid_price"] == 1.2
    assert reply["winning_interest"] == "technology"
    assert reply["interest_score"] == 0.95
    # The original's documented form: the names, strongest first; the scores beside them.
    assert reply["user_interests"] == ["technology", "sports"]
    assert reply["interest_scores"] == {"technology": 0.95, "sports": 0.7}


def test_the_nested_form_is_accepted(mesh: Mesh) -> None:
    fields = good(site={"domain": "news.example", "page": "https://news.example/b"},
                  device={"ip": "192.0.2.1", "user_agent": "test"})

    status, reply = bid(mesh, **fields)

    assert status == 200, reply
    assert reply["site_domain"] == "news.example"


def test_an_unknown_user_bids_unenriched_and_says_why(mesh: Mesh) -> None:
    status, reply = bid(mesh, **good(user_id=f"nobody-{uuid.uuid4().hex[:8]}"))

    assert status == 200, reply
    assert reply["enriched"] is False
    assert reply["bid_price"] == 0.35
    assert reply["enrichment_reason"] == "no_profile"
    # Printed even when empty: the gateway prints every field.
    assert reply["user_interests"] == []
    assert reply["interest_scores"] == {}
    assert reply["winning_interest"] == ""


def test_the_trailing_slash_form_is_the_same_endpoint(mesh: Mesh) -> None:
    fields = good()

    status, reply = post(mesh, json.dumps(fields).encode(), path="/bid/")

    assert status == 200, reply
    assert reply["bid_request_id"] == fields["request_id"]
