"""The bidder's failures as an exchange sees them: HTTP through the real Envoy gateway."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from helios.local.mesh import Launcher, free_port
from tests.integration.bidder.support import new_id


def post_bid(url: str, body: dict[str, Any]) -> tuple[int, Any, float]:
    request = urllib.request.Request(f"{url}/bid", data=json.dumps(body).encode(),
                                     method="POST",
                                     headers={"content-type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read()), time.perf_counter() - started
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null"), time.perf_counter() - started


def test_kafka_down_is_503_with_the_reason(
        launcher: Launcher) -> None:
    profiles = launcher.start("profiles")
    bidder = launcher.start("bidder", {
        "HELIOS_BIDDER_PROFILES_TARGET": profiles.target,
        "HELIOS_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "HELIOS_BIDDER_PUBLISH_TIMEOUT_MS": "500"})
    gateway = launcher.start_gateway([bidder.target], f"127.0.0.1:{free_port()}")

    status, reply, seconds = post_bid(gateway.url, {"request_id": new_id("http"),
                                                    "user_id": "user-001"})

    assert status == 503, reply
    assert reply["message"].startswith("kafka: bid not "), reply
    assert seconds < 1.5, seconds


def test_a_frozen_profile_service_still_bids_over_http(launcher: Launcher) -> None:
    profiles = launcher.start("profiles")
    bidder = launcher.start("bidder", {"HELIOS_BIDDER_PROFILES_TARGET": profiles.target})
    gateway = launcher.start_gateway([bidder.target], f"127.0.0.1:{free_port()}")
    request_id = new_id("http")
    profiles.pause()
    try:
        status, bid, seconds = post_bid(gateway.url, {"request_id": request_id,
                                                      "user_id": "user-001", "tmax": 80})
    finally:
        profiles.resume()

    assert status == 200, bid
    assert (bid["bid_request_id"], bid["bid_price"], bid["enriched"],
            bid["enrichment_reason"]) == (request_id, 0.35, False, "profile_service_timeout")
    assert seconds < 1.0, seconds
