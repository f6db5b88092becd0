"""The shared runner on a real grpc.aio server: health, reflection, error mapping, graceful stop."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from helios.bidder.v1 import bidder_pb2, bidder_pb2_grpc
from helios.local.mesh import free_port
from helios.platform import errors
from helios.platform.server import Registration, Service, run


class Scripted(bidder_pb2_grpc.BidServiceServicer):
    """Raises whatever the request's user_id names, to exercise the error mapping."""

    async def SubmitBid(self, request: Any, context: Any) -> bidder_pb2.BidResponse:
        if request.user_id == "invalid":
            raise errors.InvalidArgument("user_id", "is required")
        if request.user_id == "missing":
            raise errors.NotFound("no such thing")
        if request.user_id == "down":
            raise errors.Unavailable("kafka is unavailable")
        if request.user_id == "bug":
            raise RuntimeError("a bug")
        await asyncio.sleep(float(request.timestamp or 0))
        return bidder_pb2.BidResponse(user_id=request.user_id)


@pytest.fixture
async def served() -> Any:
    port = free_port()
    stop = asyncio.Event()
    cleaned: list[str] = []

    async def cleanup() -> None:
        cleaned.append("done")

    service = Service(
        name="test",
        grpc_port=port,
        metrics_port=0,
        registrations=[Registration(
            bidder_pb2.DESCRIPTOR.services_by_name["BidService"].full_name,
            lambda server: bidder_pb2_grpc.add_BidServiceServicer_to_server(Scripted(), server),
        )],
        cleanups=[cleanup],
        grace_seconds=2.0,
        drain_seconds=0.5,
    )
    task = asyncio.create_task(run(service, stop))
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    await asyncio.wait_for(channel.channel_ready(), 10)
    yield channel, stop, task, cleaned
    stop.set()
    await asyncio.wait_for(task, 10)
    await channel.close(None)


async def test_health_reports_serving_for_the_server_and_each_service(served: Any) -> None:
    channel = served[0]
    stub = health_pb2_grpc.HealthStub(channel)
    for name in ("", "helios.bidder.v1.BidService"):
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=name))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_services(served: Any) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(served[0])
    replies = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(
        list_services="")]))
    names = set()
    async for reply in replies:
        names = {s.name for s in reply.list_services_response.service}
        break
    assert {"helios.bidder.v1.BidService", "grpc.health.v1.Health"} <= names


@pytest.mark.parametrize("symbol", ["helios.bidder.v1.BidService",
                                    "helios.bidder.v1.BidService.SubmitBid"])
async def test_reflection_finds_the_file_of_a_service_and_of_a_method(served: Any,
                                                                       symbol: str) -> None:
    # ghz asks for the method's symbol; Python's descriptor pool alone knows only services.
    stub = reflection_pb2_grpc.ServerReflectionStub(served[0])
    replies = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(
        file_containing_symbol=symbol)]))
    async for reply in replies:
        assert not reply.HasField("error_response"), reply.error_response
        assert reply.file_descriptor_response.file_descriptor_proto
        break


@pytest.mark.parametrize(
    ("user_id", "code", "message"),
    [
        ("invalid", grpc.StatusCode.INVALID_ARGUMENT, "user_id: is required"),
        ("missing", grpc.StatusCode.NOT_FOUND, "no such thing"),
        ("down", grpc.StatusCode.UNAVAILABLE, "kafka is unavailable"),
        ("bug", grpc.StatusCode.INTERNAL, "internal error"),
    ],
)
async def test_errors_map_to_status_codes(served: Any, user_id: str, code: grpc.StatusCode,
                                          message: str) -> None:
    stub = bidder_pb2_grpc.BidServiceStub(served[0])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SubmitBid(bidder_pb2.SubmitBidRequest(user_id=user_id))
    assert caught.value.code() == code
    assert caught.value.details() == message


async def test_stop_finishes_in_flight_calls_then_runs_cleanups(served: Any) -> None:
    channel, stop, task, cleaned = served
    stub = bidder_pb2_grpc.BidServiceStub(channel)
    health = health_pb2_grpc.HealthStub(channel)
    in_flight = asyncio.ensure_future(stub.SubmitBid(
        bidder_pb2.SubmitBidRequest(user_id="slow", timestamp="0.5")))
    await asyncio.sleep(0.1)
    stop.set()
    await asyncio.sleep(0.1)
    reply = await health.Check(health_pb2.HealthCheckRequest())
    assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
    assert (await in_flight).user_id == "slow"
    await asyncio.wait_for(task, 10)
    assert cleaned == ["done"]


async def test_warmups_run_before_serving_and_one_that_hangs_only_delays_it(
        caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    stop = asyncio.Event()
    warmed: list[str] = []

    async def opens_a_connection() -> None:
        warmed.append("connection")

    async def hangs() -> None:
        await asyncio.Event().wait()

    service = Service(name="test", grpc_port=port, metrics_port=0,
                      warmups=[opens_a_connection, hangs], warmup_seconds=0.5)
    task = asyncio.create_task(run(service, stop))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        await asyncio.wait_for(channel.channel_ready(), 10)
        stub = health_pb2_grpc.HealthStub(channel)
        first = await stub.Check(health_pb2.HealthCheckRequest())
        assert first.status != health_pb2.HealthCheckResponse.SERVING  # still warming up
        serving = health_pb2.HealthCheckResponse.SERVING
        while (await stub.Check(health_pb2.HealthCheckRequest())).status != serving:  # noqa: ASYNC110 - the server's state
            await asyncio.sleep(0.05)
    assert warmed == ["connection"]
    assert "warm-up did not finish; serving anyway" in caplog.text
    stop.set()
    await asyncio.wait_for(task, 10)
