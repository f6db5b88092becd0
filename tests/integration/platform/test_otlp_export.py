"""OTEL_TRACES_EXPORTER=otlp: a real service sends its spans over OTLP/gRPC to a collector (here
a minimal one in the test, speaking the OTLP TraceService protocol)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from helios.local.mesh import Launcher, free_port
from helios.profiles.v1 import profiles_pb2, profiles_pb2_grpc
from tests.harness import eventually


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.requests: list[trace_service_pb2.ExportTraceServiceRequest] = []
        self._lock = threading.Lock()

    def Export(self, request: trace_service_pb2.ExportTraceServiceRequest,
               context: Any) -> trace_service_pb2.ExportTraceServiceResponse:
        with self._lock:
            self.requests.append(request)
        return trace_service_pb2.ExportTraceServiceResponse()

    def spans(self, trace_id: bytes) -> list[tuple[str, Any]]:
        """(service.name of the resource, span) for every received span of ``trace_id``."""
        found = []
        with self._lock:
            for request in self.requests:
                for resource_spans in request.resource_spans:
                    attributes = {a.key: a.value.string_value
                                  for a in resource_spans.resource.attributes}
                    for scope in resource_spans.scope_spans:
                        found += [(attributes.get("service.name", ""), span)
                                  for span in scope.spans if span.trace_id == trace_id]
        return found


@pytest.fixture
def collector() -> Iterator[tuple[Collector, int]]:
    servicer = Collector()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
    port = free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    yield servicer, port
    server.stop(None)


def test_a_service_exports_its_spans_to_an_otlp_collector(
        launcher: Launcher, collector: tuple[Collector, int]) -> None:
    servicer, port = collector
    profiles = launcher.start("profiles", {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    })
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    with grpc.insecure_channel(profiles.target) as channel:
        profiles_pb2_grpc.ProfileServiceStub(channel).GetProfile(
            profiles_pb2.GetProfileRequest(user_id="user-001"), timeout=5,
            metadata=(("traceparent", f"00-{trace_id}-{parent_id}-01"),))

    received = eventually(lambda: servicer.spans(bytes.fromhex(trace_id)), timeout=15)
    assert isinstance(received, list)
    [(service, span)] = received
    assert service == "profiles"
    assert span.name == "helios.profiles.v1.ProfileService/GetProfile"
    assert span.parent_span_id == bytes.fromhex(parent_id)
