"""Tracing: off by default (no spans, no headers), and when on, the W3C context carried from
gRPC metadata and Kafka headers into child spans and on to the next hop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from helios.analytics.ingest import OutcomeWriter
from helios.analytics.partitions import Retention
from helios.auction.consumer import Auction
from helios.auction.rules import Rules
from helios.auction.settings import RuleSettings
from helios.bidder.breaker import CircuitBreaker
from helios.bidder.profiles_client import ProfilesClient, traced
from helios.bidder.publisher import BidPublisher
from helios.bidder.v1.bidder_pb2 import BidResponse
from helios.platform import interceptors, tracing
from helios.platform.kafka import Headers, Topics
from helios.platform.settings import SettingsError
from helios.profiles.v1 import profiles_pb2 as pb
from tests.unit.fakes import FakeMessage

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
SPAN_ID = 0x00F067AA0BA902B7
TRACEPARENT = f"00-{TRACE_ID:032x}-{SPAN_ID:016x}-01"


def remote(trace_id: int = TRACE_ID, span_id: int = SPAN_ID) -> SpanContext:
    return SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(1))


class Traced:
    """Tracing on, with the spans kept in memory."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracing = tracing.Tracing(provider)


@pytest.fixture
def spans() -> Iterator[Traced]:
    traced_ = Traced()
    yield traced_
    traced_.tracing.shutdown()


def finished(on: Traced) -> list[ReadableSpan]:
    return list(on.exporter.get_finished_spans())


def header_text(headers: list[tuple[str, Any]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return bytes(value).decode()
    return None


# --- configuration ----------------------------------------------------------------------------

def test_tracing_is_off_without_the_variable_and_with_none() -> None:
    assert tracing.from_env("bidder", {}) is tracing.OFF
    assert not tracing.from_env("bidder", {"OTEL_TRACES_EXPORTER": "none"}).enabled
    with pytest.raises(RuntimeError, match="tracing is off"):
        tracing.OFF.tracer  # noqa: B018 - the property raises


def test_an_unknown_exporter_is_refused_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="OTEL_TRACES_EXPORTER"):
        tracing.from_env("bidder", {"OTEL_TRACES_EXPORTER": "jaeger"})


def test_console_writes_one_json_span_per_line_to_the_file_on_shutdown(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    env = {"OTEL_TRACES_EXPORTER": "console", "HELIOS_TRACES_FILE": str(path),
           "OTEL_SERVICE_NAME": "bidder-7"}
    with tracing.configured("bidder", env) as on:
        assert on.enabled
        for name in ("one", "two"):
            on.tracer.start_span(name).end()

    lines = path.read_text().splitlines()
    assert [json.loads(line)["name"] for line in lines] == ["one", "two"]
    assert json.loads(lines[0])["resource"]["attributes"]["service.name"] == "bidder-7"


def test_the_service_name_defaults_to_the_services_own(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    with tracing.configured("auction", {"OTEL_TRACES_EXPORTER": "console",
                                        "HELIOS_TRACES_FILE": str(path)}) as on:
        on.tracer.start_span("x").end()
    assert json.loads(path.read_text())["resource"]["attributes"]["service.name"] == "auction"


# --- Kafka headers and gRPC metadata ----------------------------------------------------------

def test_headers_round_trip_a_context_and_replace_an_older_one() -> None:
    headers: Headers = [("content-type", b"x"), ("traceparent", b"00-old")]
    tracing.add_to_headers(headers, trace.set_span_in_context(NonRecordingSpan(remote())))

    assert header_text(headers, "traceparent") == TRACEPARENT
    assert [k for k, _ in headers].count("traceparent") == 1
    parent = trace.get_current_span(tracing.from_headers(headers)).get_span_context()
    assert (parent.trace_id, parent.span_id) == (TRACE_ID, SPAN_ID)


def test_no_context_adds_no_header_and_extracts_nothing() -> None:
    headers: Headers = [("content-type", b"x")]
    tracing.add_to_headers(headers)
    assert headers == [("content-type", b"x")]
    assert not trace.get_current_span(tracing.from_headers(headers)).get_span_context().is_valid


# --- the bidder's Kafka headers ---------------------------------------------------------------

class Sender:
    def __init__(self) -> None:
        self.headers: list[tuple[str, Any]] = []

    async def send(self, topic: str, value: bytes, *, key: bytes | None = None,
                   headers: list[tuple[str, Any]] | None = None) -> None:
        self.headers = list(headers or ())


async def publish_in_span(span: trace.Span,
                          on: tracing.Tracing = tracing.OFF) -> list[tuple[str, Any]]:
    sender = Sender()
    publisher = BidPublisher(sender, "bids", 1.0, tracer=on)
    with trace.use_span(span, end_on_exit=True):
        await publisher.publish(BidResponse(bid_request_id="r1"), "req-1")
    return sender.headers


async def test_tracing_off_the_bid_carries_no_traceparent_even_inside_a_span() -> None:
    headers = await publish_in_span(NonRecordingSpan(remote()))
    assert [k for k, _ in headers] == ["content-type", "x-request-id"]


async def test_tracing_on_the_bid_carries_the_current_spans_context(spans: Traced) -> None:
    span = spans.tracing.tracer.start_span("SubmitBid")
    headers = await publish_in_span(span, spans.tracing)
    sent = trace.get_current_span(tracing.from_headers(headers)).get_span_context()
    assert (sent.trace_id, sent.span_id) == (span.get_span_context().trace_id,
                                             span.get_span_context().span_id)


# --- the gRPC server span ---------------------------------------------------------------------

class Context:
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.metadata = metadata

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.metadata

    def code(self) -> grpc.StatusCode | None:
        return None


async def test_a_call_runs_in_a_server_span_child_of_the_callers_traceparent(
        spans: Traced) -> None:
    seen: list[SpanContext] = []

    async def inner(request: Any, context: Any) -> str:
        seen.append(trace.get_current_span().get_span_context())
        return "ok"

    handle = interceptors._traced("/helios.bidder.v1.BidService/SubmitBid", inner,
                                  spans.tracing.tracer)
    reply = await handle(None, cast(Any, Context((("traceparent", TRACEPARENT),))))

    (span,) = finished(spans)
    assert reply == "ok"
    assert span.name == "helios.bidder.v1.BidService/SubmitBid"
    assert span.kind is SpanKind.SERVER
    assert span.context.trace_id == TRACE_ID
    assert span.parent is not None and span.parent.span_id == SPAN_ID
    assert seen == [span.context]


async def test_the_interceptor_adds_the_span_only_when_tracing_is_on(spans: Traced) -> None:
    async def inner(request: Any, context: Any) -> str:
        return "ok"

    async def continuation(details: Any) -> grpc.RpcMethodHandler:  # type: ignore[type-arg]
        return grpc.unary_unary_rpc_method_handler(inner)

    class Details:
        method = "/pkg.Svc/Do"

    context = cast(Any, Context((("traceparent", TRACEPARENT),)))
    details = cast(grpc.HandlerCallDetails, Details())
    on = await interceptors.ServiceInterceptor(spans.tracing).intercept_service(continuation,
                                                                               details)
    await cast(Any, on.unary_unary)(None, context)
    off = await interceptors.ServiceInterceptor().intercept_service(continuation, details)
    await cast(Any, off.unary_unary)(None, context)

    assert [s.name for s in finished(spans)] == ["pkg.Svc/Do"]


# --- the bidder's profile call ----------------------------------------------------------------

class Stub:
    def __init__(self) -> None:
        self.metadata: list[tuple[str, str]] | None = None

    async def __call__(self, request: pb.BatchGetProfilesRequest, *,
                       timeout: float | None = None,  # noqa: ASYNC109 - the stub's signature
                       metadata: list[tuple[str, str]] | None = None,
                       ) -> pb.BatchGetProfilesResponse:
        self.metadata = metadata
        return pb.BatchGetProfilesResponse()


async def test_one_profile_call_links_every_bid_it_carries_and_sends_its_own_context(
        spans: Traced) -> None:
    stub = Stub()
    client = ProfilesClient(traced(stub), CircuitBreaker(5, 1.0), tracer=spans.tracing)
    bids = [remote(TRACE_ID + n, SPAN_ID + n) for n in range(3)]

    async def lookup(context: SpanContext, user: str) -> None:
        with trace.use_span(NonRecordingSpan(context)):
            await client.lookup(user, 1.0)

    await asyncio.gather(*(lookup(c, f"user-{n}") for n, c in enumerate(bids)))
    await client.close()

    (call,) = finished(spans)
    assert call.kind is SpanKind.CLIENT
    assert [link.context for link in call.links] == bids
    assert call.context.trace_id == bids[0].trace_id
    assert call.parent is not None and call.parent.span_id == bids[0].span_id
    assert stub.metadata == [("traceparent",
                              f"00-{call.context.trace_id:032x}-{call.context.span_id:016x}-01")]


# --- the auction's consumer span --------------------------------------------------------------

class Producer:
    def __init__(self) -> None:
        self.produced: list[list[tuple[str, Any]]] = []

    def produce(self, topic: str, value: bytes, key: bytes, *, headers: Any,
                on_delivery: Any) -> None:
        self.produced.append(headers)

    def flush(self, timeout: float | None = None) -> int:
        return 0


def auction_outcome_headers(on: tracing.Tracing = tracing.OFF) -> list[tuple[str, Any]]:
    producer = Producer()
    auction = Auction(cast(Any, producer), Topics(), Rules(RuleSettings()), tracer=on)
    bid = BidResponse(bid_request_id="r1", bid_price=1.2).SerializeToString()
    message = FakeMessage(bid, topic="bid_responses", key=b"r1",
                          headers=[("traceparent", TRACEPARENT.encode())])
    assert auction.decide([cast(Any, message)]) == []
    (headers,) = producer.produced
    return headers


def test_tracing_off_the_outcome_carries_the_bids_traceparent_unchanged() -> None:
    assert header_text(auction_outcome_headers(), "traceparent") == TRACEPARENT


def test_tracing_on_the_outcome_carries_the_auction_spans_context(spans: Traced) -> None:
    headers = auction_outcome_headers(spans.tracing)

    (span,) = finished(spans)
    assert span.kind is SpanKind.CONSUMER
    assert span.parent is not None and span.parent.span_id == SPAN_ID
    assert span.context.trace_id == TRACE_ID
    assert header_text(headers, "traceparent") == (
        f"00-{TRACE_ID:032x}-{span.context.span_id:016x}-01")


# --- analytics' stored spans ------------------------------------------------------------------

def test_each_stored_outcome_gets_a_consumer_span_child_of_its_traceparent(
        spans: Traced) -> None:
    writer = OutcomeWriter(cast(Any, None), "auction_outcomes", tracer=spans.tracing,
                           retention=Retention(0))
    messages = [FakeMessage(b"", headers=[("traceparent", TRACEPARENT.encode())]),
                FakeMessage(b"", headers=[], offset=1)]
    writer.committed(cast(Any, messages))

    traced_span, untraced = finished(spans)
    assert traced_span.kind is SpanKind.CONSUMER
    assert traced_span.context.trace_id == TRACE_ID
    assert traced_span.parent is not None and traced_span.parent.span_id == SPAN_ID
    assert untraced.parent is None
