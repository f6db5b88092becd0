"""The profile service as the bidder sees it: one lookup per bid, many lookups per call.

Every bid needs its user's profile, and a gRPC call costs the profile service about as much CPU
as a whole bid may, so lookups are batched the way a database commits a group: a caller queues
its user and waits on a future of its own. With fewer than ``max_in_flight`` calls out, what is
queued goes on the next turn of the loop (lookups started in the same turn share the call), so
at low load a lookup costs one round trip and no timer. Lookups that arrive while the calls are
out wait for one of them to return and then go together (one call, one Redis round trip on the
other side), so under load batches grow by themselves, up to ``batch_max`` users. Each caller
waits only for its own budget; the call's deadline is the longest budget in its batch.

Lookups never raise. A missing profile, a failed call, a timeout and an open circuit are all
answers (:class:`Lookup` with a reason), because the bid path degrades to an unenriched bid
instead of failing.

With tracing on, each waiting bid's span context is kept with its user, and the call runs in a
CLIENT span that is a child of the first bid's span and links to every bid it carries (one call
serves many traces); its own context goes to the profile service in the call's metadata (see
:func:`traced`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Protocol

import grpc
import grpc.aio
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    set_span_in_context,
)

from helios.bidder import metrics
from helios.bidder.breaker import CircuitBreaker, State
from helios.bidder.pricing import NO_PROFILE, PROFILE_SERVICE_TIMEOUT, PROFILE_SERVICE_UNAVAILABLE
from helios.platform import tracing
from helios.profiles.v1.profiles_pb2 import BatchGetProfilesRequest, BatchGetProfilesResponse

log = logging.getLogger(__name__)


class BatchGet(Protocol):
    """The seam: ``ProfileServiceStub(channel).BatchGetProfiles`` or a test's fake."""

    def __call__(self, request: BatchGetProfilesRequest, *,
                 timeout: float | None = None) -> Awaitable[BatchGetProfilesResponse]: ...


class _StubCall(Protocol):
    def __call__(self, request: BatchGetProfilesRequest, *, timeout: float | None = None,
                 metadata: list[tuple[str, str]] | None = None,
                 ) -> Awaitable[BatchGetProfilesResponse]: ...


def traced(stub_call: _StubCall) -> BatchGet:
    """``stub_call`` sending the current trace context (the CLIENT span's) as metadata."""
    def call(request: BatchGetProfilesRequest, *,
             timeout: float | None = None) -> Awaitable[BatchGetProfilesResponse]:
        return stub_call(request, timeout=timeout, metadata=tracing.to_metadata())
    return call


@dataclass(frozen=True, slots=True)
class Lookup:
    """A profile's interests, or None with the reason there are none."""

    interests: Mapping[str, float] | None
    reason: str = ""


NOT_FOUND = Lookup(None, NO_PROFILE)
TIMED_OUT = Lookup(None, PROFILE_SERVICE_TIMEOUT)
UNAVAILABLE = Lookup(None, PROFILE_SERVICE_UNAVAILABLE)


class _Pending:
    """The callers waiting for one user, and the latest of their deadlines (loop time)."""

    __slots__ = ("deadline", "spans", "waiters")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.waiters: list[asyncio.Future[Lookup]] = []
        # The waiting bids' span contexts; filled only when tracing is on.
        self.spans: list[SpanContext] = []


class ProfilesClient:
    def __init__(self, batch_get: BatchGet, breaker: CircuitBreaker, *, batch_max: int = 256,
                 max_in_flight: int = 1, tracer: tracing.Tracing = tracing.OFF) -> None:
        self._batch_get = batch_get
        self._breaker = breaker
        self._batch_max = batch_max
        self._max_in_flight = max_in_flight
        self._queue: dict[str, _Pending] = {}
        self._in_flight = 0
        self._scheduled = False
        # Strong references: the loop keeps only weak ones to running tasks.
        self._calls: set[asyncio.Task[None]] = set()
        self._tracing = tracer
        self._traced = tracer.enabled

    async def lookup(self, user_id: str, budget: float) -> Lookup:
        """The user's profile, waited for at most ``budget`` seconds."""
        if not self._breaker.allow():
            return UNAVAILABLE
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Lookup] = loop.create_future()
        deadline = loop.time() + budget
        pending = self._queue.get(user_id)
        if pending is None:
            pending = self._queue[user_id] = _Pending(deadline)
        elif deadline > pending.deadline:
            pending.deadline = deadline
        pending.waiters.append(future)
        if self._traced:
            pending.spans.append(tracing.current_span_context())
        if not self._scheduled and self._in_flight < self._max_in_flight:
            self._schedule(loop)
        # Otherwise the call that returns first sends this lookup with the others queued by then.
        try:
            # asyncio.timeout, not wait_for: no extra task per bid. On expiry the future is
            # cancelled with the waiting task, which is how _dispatch knows nobody waits.
            async with asyncio.timeout(budget):
                return await future
        except TimeoutError:
            return TIMED_OUT

    async def close(self) -> None:
        """Waits for the calls in flight (their callers are answered by then)."""
        if self._calls:
            await asyncio.gather(*self._calls, return_exceptions=True)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        """Sends what is queued on the next turn of the loop, so that lookups started in this
        one share the call."""
        self._scheduled = True
        loop.call_soon(self._dispatch)

    def _dispatch(self) -> None:
        self._scheduled = False
        loop = asyncio.get_running_loop()
        while self._queue and self._in_flight < self._max_in_flight:
            batch = self._take()
            # Callers who gave up cancelled their futures; nobody waits for those users.
            live = {user_id: p for user_id, p in batch.items()
                    if any(not f.done() for f in p.waiters)}
            if not live:
                continue
            timeout = max(p.deadline for p in live.values()) - loop.time()
            self._in_flight += 1
            call = self._traced_call(live, timeout) if self._traced else self._call(live, timeout)
            task = loop.create_task(call)
            self._calls.add(task)
            task.add_done_callback(self._calls.discard)

    def _take(self) -> dict[str, _Pending]:
        if len(self._queue) <= self._batch_max:
            batch, self._queue = self._queue, {}
            return batch
        return {user_id: self._queue.pop(user_id)
                for user_id in list(islice(self._queue, self._batch_max))}

    async def _traced_call(self, batch: dict[str, _Pending], seconds: float) -> None:
        spans = [s for pending in batch.values() for s in pending.spans if s.is_valid]
        parent = set_span_in_context(NonRecordingSpan(spans[0])) if spans else None
        with self._tracing.tracer.start_as_current_span(
                "helios.profiles.v1.ProfileService/BatchGetProfiles", context=parent,
                kind=SpanKind.CLIENT, links=[Link(s) for s in spans],
                attributes={"rpc.system": "grpc", "helios.batch.users": len(batch)}):
            await self._call(batch, seconds)

    async def _call(self, batch: dict[str, _Pending], seconds: float) -> None:
        metrics.PROFILE_BATCH_USERS.observe(len(batch))
        try:
            reply = await self._batch_get(BatchGetProfilesRequest(user_ids=list(batch)),
                                          timeout=max(seconds, 0.001))
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            self._failed(code.name, exc.details())
            failure = TIMED_OUT if code is grpc.StatusCode.DEADLINE_EXCEEDED else UNAVAILABLE
            for pending in batch.values():
                _settle(pending, failure)
        except Exception:
            log.exception("BatchGetProfiles failed")
            self._failed("UNKNOWN", "")
            for pending in batch.values():
                _settle(pending, UNAVAILABLE)
        else:
            self._breaker.record_success()
            metrics.BREAKER_OPEN.set(0)
            for profile in reply.profiles:
                found = batch.pop(profile.user_id, None)
                if found is not None:
                    # The reply's own map, not a copy: the bid copies it once into its message.
                    _settle(found, Lookup(profile.interests))
            # Whatever the reply did not return (named missing or not) has no profile.
            for pending in batch.values():
                _settle(pending, NOT_FOUND)
        finally:
            self._in_flight -= 1
            # Lookups queued during this call go out together, on the next turn.
            if self._queue and not self._scheduled:
                self._schedule(asyncio.get_running_loop())

    def _failed(self, code: str, details: str | None) -> None:
        metrics.PROFILE_BATCH_FAILURES.labels(code).inc()
        was_open = self._breaker.state is State.OPEN
        self._breaker.record_failure()
        if not was_open and self._breaker.state is State.OPEN:
            metrics.BREAKER_OPEN.set(1)
            # Logged on the transition only: during an outage every batch fails.
            log.warning("profile service failing, circuit opened",
                        extra={"grpc_code": code, "details": details})
        else:
            log.debug("BatchGetProfiles failed", extra={"grpc_code": code})


def _settle(pending: _Pending, lookup: Lookup) -> None:
    for future in pending.waiters:
        if not future.done():
            future.set_result(lookup)
