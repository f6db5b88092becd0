"""OpenTelemetry tracing: off unless ``OTEL_TRACES_EXPORTER`` asks for it, W3C trace context
carried in gRPC metadata and Kafka headers.

Off (the default), nothing here touches the SDK: :func:`enabled` is False, callers check it once
(at construction, or with one boolean test per message) and skip all span work, so the bid path
costs what it did before tracing existed.

On, the exporter is chosen by the standard variable:

    OTEL_TRACES_EXPORTER=console   spans as JSON lines, to the file named by HELIOS_TRACES_FILE
                                   (appended to), else stderr (stdout carries the JSON logs)
    OTEL_TRACES_EXPORTER=otlp      OTLP/gRPC to a collector, configured by the standard
                                   OTEL_EXPORTER_OTLP_* variables (endpoint, insecure, ...)
    OTEL_TRACES_EXPORTER=none      off, as when unset

The service name is OTEL_SERVICE_NAME, else the service's own. Spans leave through a
BatchSpanProcessor (tuned by the standard OTEL_BSP_* variables), flushed when the service stops.

The tracer provider is kept here rather than installed as OpenTelemetry's global: a process has
one, set once at start-up, and tests can swap it (:func:`use`) without the global's set-once rule.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, SpanContext, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from helios.platform.settings import Environ, env_choice

EXPORTER_VARIABLE = "OTEL_TRACES_EXPORTER"
FILE_VARIABLE = "HELIOS_TRACES_FILE"
EXPORTERS = ("none", "console", "otlp")
# The headers (Kafka) and metadata keys (gRPC) that carry the context.
TRACE_HEADERS = frozenset({"traceparent", "tracestate"})

# Kafka headers as confluent-kafka gives and takes them.
Headers = list[tuple[str, str | bytes | None]]

_PROPAGATOR = TraceContextTextMapPropagator()
_provider: TracerProvider | None = None
_tracer: Tracer | None = None
_output: IO[str] | None = None


def enabled() -> bool:
    return _tracer is not None


def tracer() -> Tracer:
    """The service's tracer; only valid when :func:`enabled`."""
    if _tracer is None:
        raise RuntimeError("tracing is not configured")
    return _tracer


def use(provider: TracerProvider | None) -> None:
    """Makes ``provider`` the one spans go to (None: tracing off)."""
    global _provider, _tracer
    _provider = provider
    _tracer = provider.get_tracer("helios") if provider is not None else None


def configure(service: str, env: Environ) -> bool:
    """Turns tracing on when the environment asks for it; returns whether it did. Raises
    SettingsError naming the variable for an unknown exporter."""
    global _output
    kind = env_choice(env, EXPORTER_VARIABLE, "none", EXPORTERS)
    if kind == "none":
        return False
    exporter: SpanExporter
    if kind == "otlp":
        # Imported only when asked for: it loads grpc and the OTLP protos.
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    else:
        path = env.get(FILE_VARIABLE, "").strip()
        # Line-buffered: each span is one line, readable as soon as it is exported.
        _output = open(path, "a", buffering=1, encoding="utf-8") if path else None
        exporter = ConsoleSpanExporter(out=_output or sys.stderr, formatter=_json_line)
    name = env.get("OTEL_SERVICE_NAME", "").strip() or service
    provider = TracerProvider(resource=Resource.create({"service.name": name}),
                              shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    use(provider)
    return True


def shutdown() -> None:
    """Exports the spans still queued and turns tracing off."""
    global _output
    if _provider is not None:
        _provider.shutdown()
    use(None)
    if _output is not None:
        _output.close()
        _output = None


@contextlib.contextmanager
def configured(service: str, env: Environ) -> Iterator[None]:
    """Tracing as the environment asks, for the life of the block (a service's run)."""
    configure(service, env)
    try:
        yield
    finally:
        shutdown()


def _json_line(span: ReadableSpan) -> str:
    return str(span.to_json(indent=None)) + "\n"


# --- gRPC metadata ----------------------------------------------------------------------------

def from_metadata(metadata: Iterable[tuple[str, str | bytes]] | None) -> Context:
    """The caller's context from a server call's invocation metadata (empty when none)."""
    carrier = {key: value for key, value in metadata or () if key in TRACE_HEADERS}
    return _PROPAGATOR.extract(carrier)


def to_metadata(context: Context | None = None) -> list[tuple[str, str]]:
    """Metadata carrying ``context`` (the current one by default) to a called service."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context)
    return list(carrier.items())


# --- Kafka headers ----------------------------------------------------------------------------

class _HeaderGetter(Getter[Sequence[tuple[str, str | bytes | None]]]):
    def get(self, carrier: Sequence[tuple[str, str | bytes | None]],
            key: str) -> list[str] | None:
        for name, value in carrier:
            if name == key and value is not None:
                return [value.decode("latin-1") if isinstance(value, bytes) else value]
        return None

    def keys(self, carrier: Sequence[tuple[str, str | bytes | None]]) -> list[str]:
        return [name for name, _ in carrier]


_HEADER_GETTER = _HeaderGetter()


def from_headers(headers: Sequence[tuple[str, str | bytes | None]] | None) -> Context:
    """The producer's context from a consumed message's headers (empty when none)."""
    return _PROPAGATOR.extract(headers or (), getter=_HEADER_GETTER)


def add_to_headers(headers: Headers, context: Context | None = None) -> None:
    """Appends ``traceparent`` (and ``tracestate``) for ``context``, the current one by default,
    replacing any already there."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context)
    if not carrier:
        return
    headers[:] = [h for h in headers if h[0] not in TRACE_HEADERS]
    headers.extend((key, value.encode()) for key, value in carrier.items())


# --- spans ------------------------------------------------------------------------------------

def consumer_span(name: str, parent: Context, **kwargs: Any) -> Span:
    """A started CONSUMER span, child of ``parent``; the caller ends it."""
    return tracer().start_span(name, context=parent, kind=trace.SpanKind.CONSUMER, **kwargs)


def current_span_context() -> SpanContext:
    return trace.get_current_span().get_span_context()


def in_context(span: Span) -> Context:
    return trace.set_span_in_context(span)

