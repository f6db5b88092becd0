"""The one server interceptor every service gets: request ids into the logs, metrics per call,
:class:`~helios.platform.errors.HeliosError` mapped to its gRPC status, and (when tracing is on)
a SERVER span per call continuing the caller's ``traceparent``.

What a caller sees of a failure is decided here alone: an undecodable request is
INVALID_ARGUMENT naming the field (:mod:`helios.platform.wire`), never grpc's own "Unexpected
<class 'DecodeError'>" text; a bug is INTERNAL "internal error" with the request id to quote,
and its traceback goes to the log only."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import grpc.aio
from google.protobuf import descriptor_pool
from opentelemetry import trace
from opentelemetry.trace import Tracer

from helios.platform import errors, tracing, wire
from helios.platform import logging as helios_logging
from helios.platform.metrics import GRPC_HANDLED, GRPC_SECONDS
from helios.platform.tracing import OFF, Tracing

log = logging.getLogger(__name__)

Handler = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]
StreamHandler = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], AsyncIterator[Any]]


class ServiceInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(self, tracing: Tracing = OFF) -> None:
        self._tracing = tracing
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}  # type: ignore[type-arg]

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],  # type: ignore[type-arg]
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:  # type: ignore[type-arg]
        method: str = details.method
        cached = self._wrapped.get(method)
        if cached is not None:
            return cached
        handler = await continuation(details)
        if (handler is not None and handler.unary_stream is not None
                and method.startswith("/helios.")):
            # Helios's server streaming (WatchProfiles, async generators): errors mapped,
            # nothing else. grpc's health Watch writes with context.write and is left alone.
            streaming = grpc.unary_stream_rpc_method_handler(
                _mapped_stream(method, handler.unary_stream),  # type: ignore[arg-type]
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
            self._wrapped[method] = streaming
            return streaming
        if handler is None or handler.unary_unary is None:
            return handler  # other streaming (health Watch, reflection): passed through
        observed = _observe(method, handler.unary_unary)  # type: ignore[arg-type]
        # Decided once per method: with tracing off the call path has no span code at all.
        if self._tracing.enabled:
            observed = _traced(method, observed, self._tracing.tracer)
        wrapped = grpc.unary_unary_rpc_method_handler(
            observed,
            request_deserializer=_tolerant(handler.request_deserializer, method),
            response_serializer=handler.response_serializer,
        )
        self._wrapped[method] = wrapped
        return wrapped


class _Undecodable:
    """What :func:`_tolerant` hands on instead of a request that does not parse."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _tolerant(deserialize: Callable[[bytes], Any] | None,
              method: str) -> Callable[[bytes], Any] | None:
    """``deserialize``, returning an :class:`_Undecodable` instead of raising: grpc would
    answer a parse failure itself, with Python's exception text as the message."""
    if deserialize is None:
        return None
    parse_bytes = deserialize

    def parse(data: bytes) -> Any:
        try:
            return parse_bytes(data)
        except Exception:
            return _Undecodable(_explain(method, data))

    return parse


def _explain(method: str, data: bytes) -> str:
    """Why ``data`` is not the request of ``/package.Service/Method``."""
    try:
        request_type = descriptor_pool.Default().FindMethodByName(
            method.lstrip("/").replace("/", ".")).input_type
    except KeyError:
        return "the request cannot be decoded"
    return wire.explain(request_type, data)


def _observe(method: str, inner: Handler) -> Handler:
    name = method.rsplit("/", 1)[-1]
    ok = GRPC_HANDLED.labels(name, "OK")
    seconds = GRPC_SECONDS.labels(name)

    async def handle(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        started = time.perf_counter()
        caller = request_id(context)
        token = helios_logging.request_id.set(caller)
        try:
            if type(request) is _Undecodable:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.reason)
            response = await inner(request, context)
        except errors.HeliosError as exc:
            GRPC_HANDLED.labels(name, exc.code.name).inc()
            await context.abort(exc.code, str(exc))
        except grpc.aio.AbortError:
            GRPC_HANDLED.labels(name, _code_name(context)).inc()
            raise
        except Exception:
            log.exception("unhandled error in %s", method)
            GRPC_HANDLED.labels(name, "INTERNAL").inc()
            await context.abort(grpc.StatusCode.INTERNAL, _internal_error(caller))
        else:
            ok.inc()
            return response
        finally:
            seconds.observe(time.perf_counter() - started)
            helios_logging.request_id.reset(token)

    return handle


def _mapped_stream(method: str, inner: StreamHandler) -> StreamHandler:
    """``inner`` with :class:`~helios.platform.errors.HeliosError` ending the stream with its
    status code, as a unary call's would."""
    async def handle(request: Any,
                     context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        try:
            async for response in inner(request, context):
                yield response
        except errors.HeliosError as exc:
            await context.abort(exc.code, str(exc))
        except grpc.aio.AbortError:
            raise
        except Exception:
            log.exception("unhandled error in %s", method)
            await context.abort(grpc.StatusCode.INTERNAL, _internal_error(request_id(context)))

    return handle


def _traced(method: str, inner: Handler, tracer: Tracer) -> Handler:
    """Runs ``inner`` in a SERVER span named ``package.Service/Method`` (the OpenTelemetry
    convention), child of the caller's context from the ``traceparent`` metadata, if any."""
    name = method.lstrip("/")
    service, _, short = name.rpartition("/")
    attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": short}

    async def handle(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        parent = tracing.from_metadata(context.invocation_metadata())
        with tracer.start_as_current_span(name, context=parent, kind=trace.SpanKind.SERVER,
                                          attributes=attributes,
                                          record_exception=False) as span:
            try:
                return await inner(request, context)
            finally:
                span.set_attribute("rpc.grpc.status_code", _code_value(context))

    return handle


def _internal_error(request_id: str) -> str:
    return f"internal error (request id {request_id})" if request_id else "internal error"


def _code_value(context: grpc.aio.ServicerContext[Any, Any]) -> int:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return int(code.value[0])
    return 0 if code is None else int(code)


def request_id(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    """The caller's ``x-request-id`` (the gateway's, or the exchange's own), or ""."""
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id":
            return str(value)
    return ""


def _code_name(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    code = context.code()
    return code.name if isinstance(code, grpc.StatusCode) else "UNKNOWN"
