"""One bid's trace across the mesh: a ``traceparent`` sent to Envoy with POST /bid shows up in
the spans of the bidder, the profile service, the auction and analytics (console exporter, one
JSON line per span, a file per service).

The stack is its own (tracing is switched on through the environment at start-up) with its own
topics, so the session's mesh and its consumer groups never see these messages.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helios.local.mesh import Launcher, launched
from helios.platform import kafka
from helios.platform.kafka import delete_topics
from tests.conftest import PROFILE_DEADLINE_MS, Infra
from tests.harness import eventually

SERVICES = ("profiles", "bidder", "auction", "analytics")


@pytest.fixture
def traced_stack(infra: Infra, service_env: dict[str, str],
                 tmp_path: Path) -> Iterator[tuple[Launcher, str, Path]]:
    prefix = f"trace-{uuid.uuid4().hex[:8]}-"
    topics = kafka.Topics.from_env({"HELIOS_KAFKA_TOPIC_PREFIX": prefix})
    kafka.ensure_topics(infra.kafka_bootstrap, topics.partitions())
    # Exported every 100 ms rather than the default 5 s, so the test need not stop the services.
    env = {**service_env, "HELIOS_KAFKA_TOPIC_PREFIX": prefix,
           "OTEL_TRACES_EXPORTER": "console", "OTEL_BSP_SCHEDULE_DELAY": "100"}
    with launched(env, tmp_path) as start:
        def traced(name: str) -> dict[str, str]:
            return {"HELIOS_TRACES_FILE": str(tmp_path / f"{name}.jsonl")}

        profiles = start.start("profiles", traced("profiles"))
        bidder = start.start("bidder", {**traced("bidder"),
                                        "HELIOS_BIDDER_PROFILES_TARGET": profiles.target,
                                        "HELIOS_BIDDER_PROFILE_DEADLINE_MS": PROFILE_DEADLINE_MS})
        start.start("auction", traced("auction"))
        analytics = start.start("analytics", traced("analytics"))
        # The trace is the subject here, not the bearer token the API would need.
        gateway = start.start_gateway([bidder.target], analytics.target,
                                      {"HELIOS_GATEWAY_AUTH": "off"})
        yield start, gateway.url, tmp_path
    delete_topics(infra.kafka_bootstrap, list(topics.partitions()))


def spans_of(path: Path, trace_id: str) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    spans = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [s for s in spans if s["context"]["trace_id"] == f"0x{trace_id}"]


def wait_spans(path: Path, trace_id: str) -> list[dict[str, Any]]:
    eventually(lambda: spans_of(path, trace_id), timeout=10)
    return spans_of(path, trace_id)


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as err:
        return err.code


def test_a_bids_trace_id_reaches_every_service(
        traced_stack: tuple[Launcher, str, Path]) -> None:
    _, url, traces = traced_stack
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    request_id = f"trace-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"request_id": request_id, "user_id": "user-001"}).encode()
    request = urllib.request.Request(
        f"{url}/bid", data=body, method="POST",
        headers={"content-type": "application/json",
                 "traceparent": f"00-{trace_id}-{parent_id}-01"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status == 200
        assert json.loads(reply.read())["enriched"] is True

    eventually(lambda: status_of(f"{url}/api/outcomes/{request_id}") == 200, timeout=30)

    found = {name: wait_spans(traces / f"{name}.jsonl", trace_id) for name in SERVICES}
    by_name = {name: {s["name"]: s for s in spans} for name, spans in found.items()}

    submit = by_name["bidder"]["helios.bidder.v1.BidService/SubmitBid"]
    assert submit["parent_id"] == f"0x{parent_id}", "the exchange's span is the bid's parent"
    call = by_name["bidder"]["helios.profiles.v1.ProfileService/BatchGetProfiles"]
    assert call["parent_id"] == submit["context"]["span_id"]
    served = by_name["profiles"]["helios.profiles.v1.ProfileService/BatchGetProfiles"]
    assert served["parent_id"] == call["context"]["span_id"]
    (decided,) = found["auction"]
    assert decided["kind"] == "SpanKind.CONSUMER"
    assert decided["parent_id"] == submit["context"]["span_id"]
    (stored,) = found["analytics"]
    assert stored["parent_id"] == decided["context"]["span_id"]
    assert stored["attributes"]["helios.bid_request_id"] == request_id
