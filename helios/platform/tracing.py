"""OpenTelemetry tracing: off unless ``OTEL_TRACES_EXPORTER`` asks for it, W3C trace context
carried in gRPC metadata and Kafka headers.

A service builds one :class:`Tracing` at start-up (:func:`configured`) and hands it to every
object that makes spans, through their constructors: nothing reads a module global, so an
object built before tracing was configured cannot silently miss it. Off (:data:`OFF`, the
default everywhere), nothing touches the SDK: callers test ``tracing.enabled`` once (at
construction, or with one boolean test per message) and skip all span work, so the bid path
costs what it did before tracing existed.

On, the exporter is chosen by the standard variable:

    OTEL_TRACES_EXPORTER=console   spans as JSON lines, to the file named by HELIOS_TRACES_FILE
                                   (appended to), else stderr (stdout carries the JSON logs)
    OTEL_TRACES_EXPORTER=otlp      OTLP/gRPC to a collector, configured by the standard
                                   OTEL_EXPORTER_OTLP_* variables (endpoint, insecure, ...)
    OTEL_TRACES_EXPORTER=none      off, as when unset

The service name is OTEL_SERVICE_NAME, else the service's own. Spans leave through a
BatchSpanProcessor (tuned by the standard OTEL_BSP_* variables), flushed when the service stops.
The provider is the service's own rather than OpenTelemetry's global (which is set-once), so
tests build as many as they like.
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

from helios.platform.kafka import Headers
from helios.platform.settings import Environ, Variable

EXPORTER = Variable("OTEL_TRACES_EXPORTER", "none",
                    "traces: console writes JSON lines, otlp sends to the collector named by "
                    "the OTEL_EXPORTER_OTLP_* variables", choices=("none", "console", "otlp"))
TRACES_FILE = Variable("HELIOS_TRACES_FILE", "", "traces: the file console spans are appended "
                       "to", shown="stderr", allow_empty=True)
# The headers (Kafka) and metadata keys (gRPC) that carry the context.
TRACE_HEADERS = frozenset({"traceparent", "tracestate"})

_PROPAGATOR = TraceContextTextMapPropagator()


class Tracing:
    """Where a service's spans go: nowhere (``provider`` None), or to ``provider``."""

    def __init__(self, provider: TracerProvider | None = None,
                 output: IO[str] | None = None) -> None:
        self._provider = provider
        self._tracer: Tracer | None = (provider.get_tracer("helios")
                                       if provider is not None else None)
        self._output = output

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    @property
    def tracer(self) -> Tracer:
        """The service's tracer; only valid when :attr:`enabled`."""
        if self._tracer is None:
            raise RuntimeError("tracing is off")
        return self._tracer

    def consumer_span(self, name: str, parent: Context, **kwargs: Any) -> Span:
        """A started CONSUMER span, child of ``parent``; the caller ends it."""
        return self.tracer.start_span(name, context=parent, kind=trace.SpanKind.CONSUMER,
                                      **kwargs)

    def shutdown(self) -> None:
        """Exports the spans still queued."""
        if self._provider is not None:
            self._provider.shutdown()
        if self._output is not None:
            self._output.close()


OFF = Tracing()


def from_env(service: str, env: Environ) -> Tracing:
    """Tracing as the environment asks for it; raises SettingsError naming the variable for an
    unknown exporter."""
    kind = EXPORTER.read(env)
    if kind == "none":
        return OFF
    exporter: SpanExporter
    output: IO[str] | None = None
    if kind == "otlp":
        # Imported only when asked for: it loads grpc and the OTLP protos.
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    else:
        path = TRACES_FILE.read(env).strip()
        # Line-buffered: each span is one line, readable as soon as it is exported.
        output = open(path, "a", buffering=1, encoding="utf-8") if path else None
        exporter = ConsoleSpanExporter(out=output or sys.stderr, formatter=_json_line)
    name = env.get("OTEL_SERVICE_NAME", "").strip() or service
    provider = TracerProvider(resource=Resource.create({"service.name": name}),
                              shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return Tracing(provider, output)


@contextlib.contextmanager
def configured(service: str, env: Environ) -> Iterator[Tracing]:
    """Tracing as the environment asks, for the life of the block (a service's run)."""
    tracing = from_env(service, env)
    try:
        yield tracing
    finally:
        tracing.shutdown()


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

def current_span_context() -> SpanContext:
    return trace.get_current_span().get_span_context()


def in_context(span: Span) -> Context:
    return trace.set_span_in_context(span)

