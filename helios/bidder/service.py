"""`helios serve bidder`: the BidService over gRPC, a client of the profile service and a
producer to Kafka."""

from __future__ import annotations

import grpc.aio

from helios.bidder.bidding import Bidder, Profiles
from helios.bidder.breaker import CircuitBreaker
from helios.bidder.near_cache import NearCache
from helios.bidder.profiles_client import BatchGet, ProfilesClient, traced
from helios.bidder.publisher import BidPublisher, producer_overrides
from helios.bidder.servicer import BidServicer
from helios.bidder.settings import Settings
from helios.bidder.v1 import bidder_pb2
from helios.bidder.v1.bidder_pb2_grpc import add_BidServiceServicer_to_server
from helios.bidder.watcher import CacheWatcher
from helios.platform.kafka import AsyncProducer, producer_config
from helios.platform.server import Registration, Service, run, service_main
from helios.platform.tracing import OFF, Tracing
from helios.profiles.v1.profiles_pb2_grpc import ProfileServiceStub

CHANNEL_OPTIONS = [
    # A restarted profile service is found again within a second, not after grpc's default
    # backoff of up to two minutes (the circuit breaker already spares it a thundering herd).
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    # Notice a silently dead connection (a hung host) between bursts of traffic.
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 2_000),
]


def build(settings: Settings, channel: grpc.aio.Channel, producer: AsyncProducer,
          tracer: Tracing = OFF) -> Service:
    """The service description for :func:`helios.platform.server.run`; closing ``channel``
    and flushing ``producer`` are its clean-ups."""
    stub = ProfileServiceStub(channel)
    breaker = CircuitBreaker(settings.breaker.failure_threshold, settings.breaker.reset_seconds)
    batch_get: BatchGet = traced(stub.BatchGetProfiles) if tracer.enabled else stub.BatchGetProfiles
    profiles = ProfilesClient(batch_get, breaker, batch_max=settings.batch_max,
                              max_in_flight=settings.max_in_flight, tracer=tracer)
    lookups: Profiles = profiles
    background = []
    if settings.cache_entries > 0:
        cache = NearCache(profiles, settings.cache_entries)
        lookups = cache
        background.append(CacheWatcher(stub.WatchProfiles, cache).run)
    publisher = BidPublisher(producer, settings.topics.bid_responses,
                             settings.publish_timeout_seconds, tracer=tracer)
    servicer = BidServicer(Bidder(lookups, publisher,
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
        registrations=[Registration.of(bidder_pb2.DESCRIPTOR.services_by_name["BidService"],
                                       add_BidServiceServicer_to_server, servicer)],
        background=background,
        # Run in reverse: the channel closes first, the producer flushes last.
        cleanups=[flush_producer, close_channel],
        warmups=[channel.channel_ready],
        tracing=tracer,
    )


async def serve(settings: Settings, tracer: Tracing) -> None:
    channel = grpc.aio.insecure_channel(settings.profiles_target, options=CHANNEL_OPTIONS)
    producer = AsyncProducer(producer_config(
        settings.kafka_bootstrap, **producer_overrides(settings.publish_timeout_seconds,
                                                    settings.kafka_linger_ms)))
    await run(build(settings, channel, producer, tracer))


main = service_main("bidder", Settings.from_env, serve)
