"""Locust load for Helios: bids over HTTP through the Envoy gateway, and the same bids over
gRPC straight to a bidder. Localhost only; always run with a time limit.

    make up
    locust -f loadtest/locustfile.py --headless -u 50 -r 10 -t 30s \\
        --host http://localhost:8080                      # HTTP users only
    HELIOS_LOCUST_GRPC_TARGET=localhost:50052 locust -f loadtest/locustfile.py \\
        --headless -u 50 -r 10 -t 30s --host http://localhost:8080 GrpcBidder

Users are drawn from the seeded demo set (user-001 ... user-1000) plus unknown ones, so every
price tier and the no-profile path are exercised. The stats task carries a bearer token from the
local gateway's signing key (as `helios token` does), and is rare: the gateway allows one client
address 50 API requests a second.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from typing import Any

import grpc
from locust import HttpUser, User, between, task

from helios.bidder.v1 import bidder_pb2, bidder_pb2_grpc
from helios.gateway import credentials
from helios.gateway.settings import GatewaySettings

SITES = ("news.example", "sports.example", "recipes.example", "tech.example")


def bid_fields() -> dict[str, Any]:
    known = random.random() < 0.9
    user = f"user-{random.randint(1, 1000):03d}" if known else f"visitor-{uuid.uuid4().hex[:8]}"
    return {"request_id": f"locust-{uuid.uuid4().hex}", "user_id": user,
            "site": {"domain": random.choice(SITES)}, "device": {"type": "mobile"}}


class HttpBidder(HttpUser):
    """An exchange posting bids to the gateway and an advertiser glancing at the stats."""

    wait_time = between(0.01, 0.05)

    def on_start(self) -> None:
        token = credentials.token(GatewaySettings.from_env(os.environ))
        self._auth = {"authorization": f"Bearer {token}"}

    @task(200)
    def bid(self) -> None:
        with self.client.post("/bid", json=bid_fields(), name="POST /bid",
                              catch_response=True) as reply:
            if reply.status_code != 200 or "bid_price" not in reply.text:
                reply.failure(f"{reply.status_code}: {reply.text[:200]}")

    @task(1)
    def stats(self) -> None:
        self.client.get("/api/outcomes/stats", name="GET /api/outcomes/stats",
                        headers=self._auth)


class GrpcBidder(User):
    """SubmitBid over gRPC to HELIOS_LOCUST_GRPC_TARGET (default localhost:50052)."""

    wait_time = between(0.01, 0.05)

    def on_start(self) -> None:
        target = os.environ.get("HELIOS_LOCUST_GRPC_TARGET", "localhost:50052")
        self._channel = grpc.insecure_channel(target)
        self._stub = bidder_pb2_grpc.BidServiceStub(self._channel)

    def on_stop(self) -> None:
        self._channel.close()

    @task
    def bid(self) -> None:
        fields = bid_fields()
        request = bidder_pb2.SubmitBidRequest(
            request_id=fields["request_id"], user_id=fields["user_id"],
            site=bidder_pb2.Site(domain=fields["site"]["domain"]),
            device=bidder_pb2.Device(type="mobile"))
        started = time.perf_counter()
        error: Exception | None = None
        try:
            self._stub.SubmitBid(request, timeout=2)
        except grpc.RpcError as exc:
            error = exc
        self.environment.events.request.fire(
            request_type="grpc", name="BidService/SubmitBid",
            response_time=(time.perf_counter() - started) * 1000, response_length=0,
            exception=error, context={})
