"""Talking to a real bidder over gRPC and reading what it put in Kafka."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import grpc
from confluent_kafka import Consumer, Message

from helios.bidder.v1.bidder_pb2 import BidResponse, SubmitBidRequest
from helios.bidder.v1.bidder_pb2_grpc import BidServiceStub

Headers = list[tuple[str, bytes | None]]


@dataclass(frozen=True)
class Answer:
    bid: BidResponse
    seconds: float


def new_id(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}"


def submit(target: str, request: SubmitBidRequest, *, request_id: str = "",
           timeout: float = 10.0) -> Answer:
    """One SubmitBid; raises grpc.RpcError on a failed call."""
    metadata = (("x-request-id", request_id),) if request_id else None
    with grpc.insecure_channel(target) as channel:
        stub = BidServiceStub(channel)
        # Connect first, so the time measured is the bid's, not the connection's.
        grpc.channel_ready_future(channel).result(timeout=10)
        started = time.perf_counter()
        bid = stub.SubmitBid(request, timeout=timeout, metadata=metadata)
        return Answer(bid, time.perf_counter() - started)


def failed(target: str, request: SubmitBidRequest, *,
           timeout: float = 10.0) -> tuple[grpc.RpcError, float]:
    with grpc.insecure_channel(target) as channel:
        stub = BidServiceStub(channel)
        grpc.channel_ready_future(channel).result(timeout=10)
        started = time.perf_counter()
        try:
            stub.SubmitBid(request, timeout=timeout)
        except grpc.RpcError as error:
            return error, time.perf_counter() - started
    raise AssertionError("the call succeeded")


def read(bootstrap: str, topic: str, keys: Iterable[str],
         timeout: float = 30.0) -> dict[str, Message]:
    """The messages of ``topic`` with these keys (the topic is shared with other tests of the
    session, so everything else is skipped); fails unless every key arrived."""
    wanted = {key.encode() for key in keys}
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": new_id("bidder-reader"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    found: dict[str, Message] = {}
    deadline = time.monotonic() + timeout
    try:
        while len(found) < len(wanted) and time.monotonic() < deadline:
            for msg in consumer.consume(500, 0.5):
                key = msg.key()
                if msg.error() is None and key in wanted:
                    found[key.decode()] = msg
    finally:
        consumer.close()
    missing = wanted - {key.encode() for key in found}
    assert not missing, f"{topic}: never received {sorted(missing)}"
    return found


def value(msg: Message) -> bytes:
    payload = msg.value()
    assert payload is not None, "a message without a payload"
    return payload


def header(msg: Message, name: str) -> bytes | None:
    for key, value in cast(Headers | None, msg.headers()) or ():
        if key == name:
            return value
    return None
