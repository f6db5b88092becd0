"""`helios serve auction`: the auction hop as a service.

It has no gRPC API of its own: the gRPC server carries health checking and reflection (for
probes and grpcurl), and the work is the Kafka loop running in the background.
"""

from __future__ import annotations

from confluent_kafka import Producer

from helios.auction.consumer import Auction
from helios.auction.rules import Rules
from helios.auction.settings import Settings
from helios.platform import consumer
from helios.platform.kafka import producer_config
from helios.platform.server import Service, run, service_main
from helios.platform.tracing import OFF, Tracing

# The outcomes of a batch are flushed together, so larger producer batches cost no latency.
PRODUCER_OVERRIDES = {
    "linger.ms": 5,
    "batch.size": 1_000_000,
    # Only failures reach the Python callback: successes would cost a call per message.
    "delivery.report.only.error": True,
    # An outcome the broker cannot take fails after this, so the batch is handled again
    # instead of waiting for librdkafka's default of five minutes.
    "message.timeout.ms": 10_000,
}


def build_loop(settings: Settings, tracer: Tracing = OFF) -> consumer.ConsumerLoop:
    producer = Producer(producer_config(settings.kafka_bootstrap, **PRODUCER_OVERRIDES))
    topics = settings.topics
    return consumer.build(
        "auction", settings.kafka_bootstrap, settings.group_id, topics.bid_responses,
        topics.bid_responses_dlq,
        Auction(producer, topics, Rules(settings.rules), tracer=tracer),
        batch_size=settings.batch_size, linger_seconds=settings.batch_linger_ms / 1000,
        backoff=consumer.Backoff(settings.retry_initial_seconds, settings.retry_max_seconds),
        producer=producer)


async def serve(settings: Settings, tracer: Tracing) -> None:
    await run(Service(
        name="auction",
        grpc_port=settings.grpc_port,
        metrics_port=settings.metrics_port,
        background=[build_loop(settings, tracer).run],
        tracing=tracer,
    ))


main = service_main("auction", Settings.from_env, serve)
