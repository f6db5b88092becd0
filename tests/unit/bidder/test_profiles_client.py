"""Coalescing, deadlines and the breaker, against a fake BatchGetProfiles (and once against a
tiny in-process gRPC ProfileService, to see real status codes)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import grpc
import grpc.aio
import pytest

from helios.bidder.breaker import CircuitBreaker, State
from helios.bidder.profiles_client import (
    NOT_FOUND,
    TIMED_OUT,
    UNAVAILABLE,
    BatchGet,
    Lookup,
    ProfilesClient,
)
from helios.profiles.v1 import profiles_pb2 as pb
from helios.profiles.v1.profiles_pb2_grpc import (
    ProfileServiceServicer,
    ProfileServiceStub,
    add_ProfileServiceServicer_to_server,
)

PROFILES = {"user-001": {"technology": 0.95, "sports": 0.70}, "user-002": {"music": 0.6}}


def rpc_error(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="boom",
                                debug_error_string=None)


class FakeBatchGet:
    """Answers from ``profiles``; holds each call until ``gate`` is set when there is one."""

    def __init__(self, profiles: Mapping[str, Mapping[str, float]] = PROFILES) -> None:
        self.profiles = profiles
        self.calls: list[list[str]] = []
        self.sent_at: list[float] = []
        self.timeouts: list[float | None] = []
        self.gate: asyncio.Event | None = None
        self.error: grpc.aio.AioRpcError | None = None

    async def __call__(self, request: pb.BatchGetProfilesRequest, *,
                       timeout: float | None = None,  # noqa: ASYNC109 - the stub's signature
                       ) -> pb.BatchGetProfilesResponse:
        self.calls.append(list(request.user_ids))
        self.sent_at.append(time.monotonic())
        self.timeouts.append(timeout)
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return pb.BatchGetProfilesResponse(
            profiles=[pb.UserProfile(user_id=u, interests=self.profiles[u])
                      for u in request.user_ids if u in self.profiles],
            missing_user_ids=[u for u in request.user_ids if u not in self.profiles])


def client(fake: BatchGet, *, failures: int = 3, **options: Any) -> ProfilesClient:
    return ProfilesClient(fake, CircuitBreaker(failures, 60.0), **options)


def interests(lookup: Lookup) -> dict[str, float] | None:
    return None if lookup.interests is None else dict(lookup.interests)


async def until(condition: Any) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition never met")


async def turns(count: int = 5) -> None:
    """Lets the loop run ``count`` times: enough for a lookup to reach the fake (it takes three:
    the caller, the dispatch, the call), never enough for a timer of a millisecond or more."""
    for _ in range(count):
        await asyncio.sleep(0)


async def test_concurrent_lookups_share_one_call() -> None:
    fake = FakeBatchGet()
    profiles = client(fake)
    users = ["user-001", "user-002", "nobody-1", "nobody-2"]

    found = await asyncio.gather(*(profiles.lookup(u, 1.0) for u in users))

    assert fake.calls == [users]
    assert [interests(f) for f in found] == [PROFILES["user-001"], PROFILES["user-002"],
                                             None, None]
    assert found[0].reason == "" and found[2] == NOT_FOUND


async def test_the_same_user_twice_is_asked_for_once() -> None:
    fake = FakeBatchGet()
    profiles = client(fake)

    first, second = await asyncio.gather(profiles.lookup("user-001", 1.0),
                                         profiles.lookup("user-001", 1.0))

    assert fake.calls == [["user-001"]]
    assert interests(first) == interests(second) == PROFILES["user-001"]


async def test_a_lone_lookup_goes_out_without_waiting() -> None:
    fake = FakeBatchGet()
    profiles = client(fake)
    await profiles.lookup("user-001", 1.0)

    # Right after a call returned: no floor between two calls, no timer before this one.
    second = asyncio.create_task(profiles.lookup("user-002", 1.0))
    await turns()

    assert fake.calls == [["user-001"], ["user-002"]]
    assert interests(await second) == PROFILES["user-002"]


async def test_lookups_made_during_a_call_go_together_as_soon_as_it_returns() -> None:
    fake = FakeBatchGet()
    fake.gate = asyncio.Event()
    profiles = client(fake)
    first = asyncio.create_task(profiles.lookup("user-001", 1.0))
    await until(lambda: fake.calls)
    later = [asyncio.create_task(profiles.lookup(u, 1.0))
             for u in ("user-002", "nobody", "user-001")]
    await asyncio.sleep(0.01)
    assert fake.calls == [["user-001"]], "a second call went out while one was in flight"

    fake.gate.set()
    await turns()

    assert fake.calls == [["user-001"], ["user-002", "nobody", "user-001"]]
    found = await asyncio.gather(first, *later)
    assert [interests(f) for f in found] == [PROFILES["user-001"], PROFILES["user-002"], None,
                                             PROFILES["user-001"]]


async def test_a_lookup_goes_out_at_once_while_fewer_calls_than_allowed_are_out() -> None:
    fake = FakeBatchGet()
    fake.gate = asyncio.Event()
    profiles = client(fake, max_in_flight=2)
    first = asyncio.create_task(profiles.lookup("user-001", 1.0))
    await turns()
    second = asyncio.create_task(profiles.lookup("user-002", 1.0))
    third = asyncio.create_task(profiles.lookup("nobody", 1.0))
    await turns()

    # The second call took every lookup queued by then; the third waits for one to return.
    assert fake.calls == [["user-001"], ["user-002", "nobody"]]
    fake.gate.set()
    await asyncio.gather(first, second, third)
    assert len(fake.calls) == 2


async def test_batches_are_capped() -> None:
    fake = FakeBatchGet()
    profiles = client(fake, batch_max=2)

    await asyncio.gather(*(profiles.lookup(f"u{i}", 1.0) for i in range(5)))

    assert fake.calls == [["u0", "u1"], ["u2", "u3"], ["u4"]]


async def test_more_calls_in_flight_when_allowed() -> None:
    fake = FakeBatchGet()
    fake.gate = asyncio.Event()
    profiles = client(fake, batch_max=2, max_in_flight=2)
    tasks = [asyncio.create_task(profiles.lookup(f"u{i}", 1.0)) for i in range(5)]
    await until(lambda: len(fake.calls) == 2)
    await asyncio.sleep(0.01)
    assert fake.calls == [["u0", "u1"], ["u2", "u3"]]
    fake.gate.set()
    await asyncio.gather(*tasks)
    assert fake.calls[2] == ["u4"]


async def test_each_caller_waits_only_its_own_budget() -> None:
    fake = FakeBatchGet()
    fake.gate = asyncio.Event()
    profiles = client(fake)
    started = time.perf_counter()
    short = asyncio.create_task(profiles.lookup("user-001", 0.02))
    long = asyncio.create_task(profiles.lookup("user-002", 0.5))

    assert await short == TIMED_OUT
    assert time.perf_counter() - started < 0.2
    assert not long.done()
    # The call's own deadline is the longest budget in its batch.
    assert fake.timeouts[0] is not None and 0.4 < fake.timeouts[0] <= 0.5
    fake.gate.set()
    assert interests(await long) == PROFILES["user-002"]


async def test_users_whose_callers_gave_up_are_not_asked_for() -> None:
    fake = FakeBatchGet()
    fake.gate = asyncio.Event()
    profiles = client(fake)
    first = asyncio.create_task(profiles.lookup("user-001", 1.0))
    await until(lambda: fake.calls)
    assert await profiles.lookup("gave-up", 0.01) == TIMED_OUT
    waiting = asyncio.create_task(profiles.lookup("user-002", 1.0))
    await asyncio.sleep(0)
    fake.gate.set()
    await asyncio.gather(first, waiting)
    assert fake.calls == [["user-001"], ["user-002"]]


@pytest.mark.parametrize(("code", "expected"), [
    (grpc.StatusCode.UNAVAILABLE, UNAVAILABLE),
    (grpc.StatusCode.DEADLINE_EXCEEDED, TIMED_OUT),
    (grpc.StatusCode.INTERNAL, UNAVAILABLE),
])
async def test_failed_calls_answer_with_the_reason(code: grpc.StatusCode,
                                                   expected: Lookup) -> None:
    fake = FakeBatchGet()
    fake.error = rpc_error(code)
    assert await client(fake).lookup("user-001", 1.0) == expected


async def test_the_breaker_opens_and_spares_the_calls() -> None:
    fake = FakeBatchGet()
    fake.error = rpc_error(grpc.StatusCode.UNAVAILABLE)
    breaker = CircuitBreaker(3, 60.0)
    profiles = ProfilesClient(fake, breaker)
    for _ in range(3):
        assert await profiles.lookup("user-001", 1.0) == UNAVAILABLE
    assert breaker.state is State.OPEN

    fake.error = None
    assert await profiles.lookup("user-001", 1.0) == UNAVAILABLE
    assert len(fake.calls) == 3


async def test_a_success_keeps_the_breaker_closed() -> None:
    fake = FakeBatchGet()
    breaker = CircuitBreaker(2, 60.0)
    profiles = ProfilesClient(fake, breaker)
    fake.error = rpc_error(grpc.StatusCode.UNAVAILABLE)
    await profiles.lookup("user-001", 1.0)
    fake.error = None
    await profiles.lookup("user-001", 1.0)
    fake.error = rpc_error(grpc.StatusCode.UNAVAILABLE)
    await profiles.lookup("user-001", 1.0)
    assert breaker.state is State.CLOSED


class SlowProfiles(ProfileServiceServicer):
    def __init__(self) -> None:
        self.delay = 0.0
        self.requests: list[list[str]] = []

    async def BatchGetProfiles(self, request: pb.BatchGetProfilesRequest,
                               context: Any) -> pb.BatchGetProfilesResponse:
        self.requests.append(list(request.user_ids))
        await asyncio.sleep(self.delay)
        return pb.BatchGetProfilesResponse(
            profiles=[pb.UserProfile(user_id="user-001", interests=PROFILES["user-001"])],
            missing_user_ids=[u for u in request.user_ids if u != "user-001"])


@pytest.fixture
async def grpc_profiles() -> AsyncIterator[tuple[SlowProfiles, ProfilesClient]]:
    servicer = SlowProfiles()  # type: ignore[abstract]  # the others answer UNIMPLEMENTED
    server = grpc.aio.server()
    add_ProfileServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield servicer, client(ProfileServiceStub(channel).BatchGetProfiles)
    finally:
        await channel.close(None)
        await server.stop(None)


async def test_over_real_grpc_one_call_and_the_deadline(
        grpc_profiles: tuple[SlowProfiles, ProfilesClient]) -> None:
    servicer, profiles = grpc_profiles
    found = await asyncio.gather(*(profiles.lookup(u, 1.0) for u in ("user-001", "x", "y")))
    assert servicer.requests == [["user-001", "x", "y"]]
    assert interests(found[0]) == PROFILES["user-001"]
    assert found[1] == found[2] == NOT_FOUND

    servicer.delay = 0.5
    started = time.perf_counter()
    assert await profiles.lookup("user-001", 0.05) == TIMED_OUT
    assert time.perf_counter() - started < 0.3
