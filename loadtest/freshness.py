"""Freshness: how long from a bid answered 200 until the analytics API returns its outcome.

:class:`Prober` runs beside the benchmark's load on a thread of its own. It sends a few probe
bids per second through the gateway (a site of their own, so they are easy to find), notes when
each is answered 200, and asks the analytics service's gRPC API (``ListOutcomes`` for that
site, one call per poll for all probes at once) which have arrived. A probe's freshness is the
first poll that returns it minus its answer time, so a figure can be late by up to one poll
interval, printed with the result. Only 127.0.0.1 is targeted; the run is bounded by its
caller.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass

import grpc

from helios.analytics.v1 import analytics_pb2, analytics_pb2_grpc


@dataclass
class Freshness:
    probes: int
    answered: int
    arrived: int
    p50_s: float
    p99_s: float
    max_s: float
    poll_s: float

    def text(self) -> str:
        return (f"freshness (bid answered 200 -> readable from the analytics API), "
                f"{self.arrived} of {self.answered} answered probes arrived: "
                f"p50 {self.p50_s:.2f} s, p99 {self.p99_s:.2f} s, max {self.max_s:.2f} s "
                f"(polled every {self.poll_s * 1000:.0f} ms)")


class Prober:
    """Probe bids at ``per_second`` while running; :meth:`finish` waits for the stragglers (at
    most ``wait`` seconds) and returns the figures."""

    def __init__(self, gateway_url: str, analytics_target: str, run: str, *,
                 per_second: float = 5.0, poll: float = 0.05) -> None:
        address = urllib.parse.urlsplit(gateway_url)
        self._http = (address.hostname or "127.0.0.1", address.port or 80)
        self._channel = grpc.insecure_channel(analytics_target)
        self._stub = analytics_pb2_grpc.AnalyticsServiceStub(self._channel)
        self._site = f"probe-{run}.example"
        self._run = run
        self._every = 1.0 / per_second
        self._poll = poll
        self._answered: dict[str, float] = {}
        self._arrived: dict[str, float] = {}
        self._sent = 0
        self._sending = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="freshness-prober", daemon=True)

    def start(self) -> Prober:
        self._sending.set()
        self._thread.start()
        return self

    def finish(self, wait: float = 10.0) -> Freshness:
        self._sending.clear()
        deadline = time.monotonic() + wait
        while len(self._arrived) < len(self._answered) and time.monotonic() < deadline:
            time.sleep(self._poll)
        self._stop.set()
        self._thread.join()
        self._channel.close()
        delays = sorted(self._arrived[i] - self._answered[i] for i in self._arrived)

        def quantile(q: float) -> float:
            return delays[min(len(delays) - 1, int(q * len(delays)))] if delays else float("nan")

        return Freshness(self._sent, len(self._answered), len(delays), quantile(0.50),
                         quantile(0.99), delays[-1] if delays else float("nan"), self._poll)

    def _loop(self) -> None:
        connection = http.client.HTTPConnection(*self._http, timeout=5)
        next_probe = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if self._sending.is_set() and now >= next_probe:
                self._probe(connection)
                next_probe += self._every
            if len(self._arrived) < len(self._answered):
                self._look()
            time.sleep(self._poll)
        connection.close()

    def _probe(self, connection: http.client.HTTPConnection) -> None:
        self._sent += 1
        request_id = f"probe-{self._run}-{self._sent}"
        body = json.dumps({"request_id": request_id, "user_id": "user-001",
                           "site": {"domain": self._site}})
        try:
            connection.request("POST", "/bid", body, {"content-type": "application/json"})
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            return
        if response.status == 200:
            self._answered[request_id] = time.monotonic()

    def _look(self) -> None:
        try:
            page = self._stub.ListOutcomes(analytics_pb2.ListOutcomesRequest(
                site_domain=self._site, page_size="500"), timeout=2)
        except grpc.RpcError:
            return
        seen = time.monotonic()
        for outcome in page.results:
            self._arrived.setdefault(outcome.bid_request_id, seen)
