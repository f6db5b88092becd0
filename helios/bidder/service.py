"""`helios serve bidder`: the BidService over gRPC, a client of the profile service and a
producer to Kafka."""

from __future__ import annotations

import grpc.aio

from helios.bidder.bidding import Bidder
from helios.bidder.breaker import CircuitBreaker
from helios.bidder.profiles_client import BatchGet, ProfilesClient, traced
from helios.bidder.publisher import BidPublisher, producer_overrides
from helios.bidder.servicer import BidServicer
from helios.bidder.settings import Settings
from helios.bidder.v1 import bidder_pb2
from helios.bidder.v1.bidder_pb2_grpc import add_BidServiceServicer_to_server
from helios.platform import logging as helios_logging
from helios.platform import tracing
from helios.platform.kafka import AsyncProducer, producer_config
from helios.platform.server import Registration, Service, run, run_forever
from helios.platform.settings import process_env
from helios.profiles.v1.profiles_pb2_grpc import ProfileServiceStub

SERVICE_NAME = bidder_pb2.DESCRIPTOR.services_by_name["BidService"].full_name

CHANNEL_OPTIONS = [
    # A restarted profile service is found again within a second, not after grpc's default
    # backoff of up to two minutes (the circuit breaker already spares it a thundering herd).
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    # Notice a silently dead connection (a hung host) between bursts of traffic.
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 2_000),
]


def build(settings: Settings, channel: grpc.aio.Channel, producer: AsyncProducer) -> Service:
    """The service description for :func:`helios.platform.server.run`; closing ``channel``
    and flushing ``producer`` are its clean-ups."""
    stub = ProfileServiceStub(channel)
    breaker = CircuitBreaker(settings.breaker.failure_threshold, settings.breaker.reset_seconds)
    batch_get: BatchGet = (traced(stub.BatchGetProfiles) if tracing.enabled()
                           else stub.BatchGetProfiles)
    profiles = ProfilesClient(batch_get, breaker, batch_max=settings.batch_max,
                              max_in_flight=settings.max_in_flight,
                              interval=settings.batch_interval_seconds)
    publisher = BidPublisher(producer, settings.topics.bid_responses,
                             settings.publish_timeout_seconds)
    servicer = BidServicer(Bidder(profiles, publisher,
                                  profile_deadline=settings.profile_deadline_seconds,
                                  margin=settings.deadline_margin_seconds))

    async def close_channel() -> None:
        await profiles.close()
        await channel.close(grace=None)

    async def flush_producer() -> None:
        await producer.close(flush_seconds=settings.publish_timeout_seconds * 5)

    return Service(
        name="bidder",
        grpc_port=settings.grpc_port,
        metrics_port=settings.metrics_port,
        registrations=[Registration(
            SERVICE_NAME, lambda server: add_BidServiceServicer_to_server(servicer, server))],
        # Run in reverse: the channel closes first, the producer flushes last.
        cleanups=[flush_producer, close_channel],
    )


async def serve(settings: Settings) -> None:
    channel = grpc.aio.insecure_channel(settings.profiles_target, options=CHANNEL_OPTIONS)
    producer = AsyncProducer(producer_config(
        settings.kafka_bootstrap, **producer_overrides(settings.publish_timeout_seconds,
                                                    settings.kafka_linger_ms)))
    await run(build(settings, channel, producer))


def main() -> None:
    settings = Settings.from_env(process_env())
    helios_logging.configure("bidder", settings.log_level)
    with tracing.configured("bidder", process_env()):
        run_forever(lambda: serve(settings))
