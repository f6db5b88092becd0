"""One bid's whole journey: HTTP through Envoy -> bidder -> profiles (Redis) -> Kafka ->
auction -> Kafka -> analytics -> PostgreSQL -> analytics REST API through Envoy."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Mesh
from tests.harness import eventually
from tests.http import request


def test_a_bid_sent_over_http_is_read_back_from_the_analytics_api(mesh: Mesh) -> None:
    url = mesh.gateway.url
    auth = mesh.gateway.auth()
    request_id = f"skeleton-{uuid.uuid4().hex[:8]}"

    def call(method: str, target: str, body: Any = None) -> tuple[int, Any]:
        reply = request(method, target, body, headers=auth)
        return reply.status, reply.json()

    status, bid = call("POST", f"{url}/bid", {"request_id": request_id, "user_id": "user-001",
                                              "site": {"domain": "news.example"}})

    assert status == 200, bid
    assert bid["bid_request_id"] == request_id
    assert bid["user_id"] == "user-001"
    # user-001's strongest interest is technology 0.95, read from Redis: the top tier.
    assert bid["bid_price"] == 1.2
    assert bid["enriched"] is True
    assert bid["user_interests"] == ["technology", "sports"]
    assert bid["interest_scores"] == {"technology": 0.95, "sports": 0.7}
    assert bid["currency"] == "USD"

    def stored() -> dict[str, Any]:
        status, page = call("GET", f"{url}/api/outcomes?user_id=user-001&page_size=500")
        assert status == 200, page
        rows = [r for r in page["results"] if r["bid_request_id"] == request_id]
        assert rows, f"{request_id} not in analytics yet"
        return dict(rows[0])

    outcome = eventually(stored, timeout=30)
    assert isinstance(outcome, dict)
    assert outcome["bid_price"] == 1.2
    assert outcome["site_domain"] == "news.example"
    assert outcome["user_interests"] == ["technology", "sports"]
    assert outcome["interest_scores"] == {"technology": 0.95, "sports": 0.7}
    assert isinstance(outcome["win_status"], bool)
    assert outcome["win_price"] == (1.2 if outcome["win_status"] else 0)

    status, one = call("GET", f"{url}/api/outcomes/{request_id}/")
    assert status == 200, one
    assert one["bid_request_id"] == request_id
