"""The analytics REST API through Envoy, against the real analytics service: every route with
and without a trailing slash, good and bad parameters, unknown ids."""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

import pytest

from helios.analytics.v1 import analytics_pb2
from tests.conftest import Mesh
from tests.harness import eventually
from tests.http import request

INVALID_ARGUMENT, NOT_FOUND = 3, 5
LISTS = ("/api/outcomes", "/api/outcomes/winners")
AGGREGATES = ("/api/outcomes/stats", "/api/outcomes/daily-stats", "/api/outcomes/daily_stats")
ROUTES = LISTS + AGGREGATES


def get(mesh: Mesh, path: str) -> tuple[int, Any]:
    reply = request("GET", f"{mesh.gateway.url}{path}", headers=mesh.gateway.auth())
    return reply.status, reply.json()


@pytest.fixture(scope="module")
def stored(mesh: Mesh) -> str:
    """The id of one bid that has reached analytics."""
    request_id = f"api-{uuid.uuid4().hex[:12]}"
    reply = request("POST", f"{mesh.gateway.url}/bid", {
        "request_id": request_id, "user_id": "user-001", "site": {"domain": "api.example"}})
    assert reply.status == 200, reply.body

    eventually(lambda: get(mesh, f"/api/outcomes/{request_id}")[0] == 200, timeout=30)
    return request_id


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("slash", ["", "/"])
def test_every_route_answers_with_and_without_a_trailing_slash(
        mesh: Mesh, stored: str, route: str, slash: str) -> None:
    status, reply = get(mesh, f"{route}{slash}?site_domain=api.example")

    assert status == 200, reply
    if route in LISTS:
        assert {"count", "page", "page_size", "total_pages", "results"} <= reply.keys()
        if route == "/api/outcomes":
            assert stored in [r["bid_request_id"] for r in reply["results"]]
    elif route == "/api/outcomes/stats":
        assert {"total", "wins", "losses", "win_rate", "revenue", "average_win_price",
                "average_bid_price", "enriched_count"} <= reply.keys()
        assert reply["total"] >= 1
    else:
        assert reply["results"], reply
        day = reply["results"][0]
        assert {"date", "total", "wins", "revenue", "average_win_price"} <= day.keys()


def test_daily_stats_has_two_spellings_of_one_method(mesh: Mesh, stored: str) -> None:
    assert get(mesh, "/api/outcomes/daily-stats/") == get(mesh, "/api/outcomes/daily_stats")


def test_an_outcome_has_the_api_messages_fields_by_their_proto_names(
        mesh: Mesh, stored: str) -> None:
    # Every field is printed, zero values included, so the keys are the whole contract.
    fields = set(analytics_pb2.Outcome.DESCRIPTOR.fields_by_name)
    status, one = get(mesh, f"/api/outcomes/{stored}")
    assert status == 200, one
    assert set(one) == fields
    status, page = get(mesh, "/api/outcomes?site_domain=api.example")
    assert status == 200, page
    assert all(set(row) == fields for row in page["results"])
    assert one["user_interests"] == ["technology", "sports"]
    assert one["interest_scores"] == {"technology": 0.95, "sports": 0.7}


@pytest.mark.parametrize("slash", ["", "/"])
def test_one_outcome_by_id(mesh: Mesh, stored: str, slash: str) -> None:
    status, reply = get(mesh, f"/api/outcomes/{stored}{slash}")

    assert status == 200, reply
    assert reply["bid_request_id"] == stored
    assert reply["site_domain"] == "api.example"
    assert isinstance(reply["win_status"], bool)


@pytest.mark.parametrize("slash", ["", "/"])
def test_an_unknown_id_is_404(mesh: Mesh, slash: str) -> None:
    status, reply = get(mesh, f"/api/outcomes/no-such-{uuid.uuid4().hex[:8]}{slash}")

    assert status == 404, reply
    assert reply["code"] == NOT_FOUND


@pytest.mark.parametrize(("parameter", "value"), [
    ("win_status", "maybe"),
    ("enriched", "yes please"),
    ("min_price", "cheap"),
    ("max_price", "1.2.3"),
    ("from", "last-week"),
    ("to", "2026-02-30"),
])
@pytest.mark.parametrize("route", ROUTES)
def test_a_malformed_filter_is_400_naming_it(mesh: Mesh, route: str, parameter: str,
                                             value: str) -> None:
    status, reply = get(mesh, f"{route}/?{parameter}={urllib.parse.quote(value)}")

    assert status == 400, reply
    assert reply["code"] == INVALID_ARGUMENT
    assert reply["message"].startswith(f"{parameter}:"), reply


@pytest.mark.parametrize(("parameter", "value"), [
    ("page", "0"), ("page", "first"), ("page_size", "0"), ("page_size", "501"),
    ("page_size", "ten"), ("ordering", "price"), ("ordering", "-user_id"),
    ("page", "201"), ("page_token", "forged"),
])
@pytest.mark.parametrize("route", LISTS)
def test_a_malformed_page_or_ordering_is_400_naming_it(mesh: Mesh, route: str, parameter: str,
                                                       value: str) -> None:
    status, reply = get(mesh, f"{route}?{parameter}={value}")

    assert status == 400, reply
    assert reply["code"] == INVALID_ARGUMENT
    assert reply["message"].startswith(f"{parameter}:"), reply


@pytest.mark.parametrize("route", ROUTES)
def test_an_unknown_parameter_is_400_naming_it(mesh: Mesh, route: str) -> None:
    status, reply = get(mesh, f"{route}/?colour=blue")

    assert status == 400, reply
    assert reply["code"] == INVALID_ARGUMENT
    assert "colour" in reply["message"]


@pytest.mark.parametrize("route", LISTS)
def test_good_paging_and_ordering(mesh: Mesh, stored: str, route: str) -> None:
    status, reply = get(mesh, f"{route}/?page=1&page_size=1&ordering=-bid_price"
                              "&user_id=user-001&from=2000-01-01")

    assert status == 200, reply
    assert reply["page"] == 1
    assert reply["page_size"] == 1
    assert len(reply["results"]) <= 1


@pytest.fixture(scope="module")
def three_bids(mesh: Mesh) -> str:
    """A site domain of three bids that have reached analytics."""
    site = f"tokens-{uuid.uuid4().hex[:8]}.example"
    for n in range(3):
        reply = request("POST", f"{mesh.gateway.url}/bid", {
            "request_id": f"{site}-{n}", "user_id": "user-001", "site": {"domain": site}})
        assert reply.status == 200, reply.body
    eventually(lambda: get(mesh, f"/api/outcomes?site_domain={site}")[1].get("count") == 3,
               timeout=30)
    return site


def test_next_page_tokens_walk_the_pages_through_the_gateway(mesh: Mesh,
                                                            three_bids: str) -> None:
    query = f"/api/outcomes?site_domain={three_bids}&page_size=1&ordering=-bid_price"
    walked, token = [], ""
    while True:
        status, reply = get(mesh, query + (f"&page_token={urllib.parse.quote(token)}"
                                           if token else ""))
        assert status == 200, reply
        _, numbered = get(mesh, f"{query}&page={reply['page']}")
        assert reply["results"] == numbered["results"]
        walked += [row["bid_request_id"] for row in reply["results"]]
        token = reply["next_page_token"]
        if not token:
            break
    assert sorted(walked) == [f"{three_bids}-{n}" for n in range(3)]
