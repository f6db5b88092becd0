"""`helios serve auction`: the auction hop as a service.

It has no gRPC API of its own: the gRPC server carries health checking and reflection (for
probes and grpcurl), and the work is the Kafka loop running in the background.
"""

from __future__ import annotations

from confluent_kafka import Consumer, Producer

from helios.auction.consumer import AuctionLoop
from helios.auction.rules import Rules
from helios.auction.settings import Settings
from helios.platform import logging as helios_logging
from helios.platform import tracing
from helios.platform.kafka import consumer_config, producer_config
from helios.platform.server import Service, run, run_forever
from helios.platform.settings import process_env

# The outcomes of a batch are flushed together, so larger producer batches cost no latency.
PRODUCER_OVERRIDES = {
    "linger.ms": 5,
    "batch.size": 1_000_000,
    # Only failures reach the Python callback: successes would cost a call per message.
    "delivery.report.only.error": True,
}
CONSUMER_OVERRIDES = {
    # Fetch in large chunks; the loop takes up to a batch at a time from the local queue.
    "fetch.min.bytes": 65_536,
    "fetch.wait.max.ms": 50,
}


def build_loop(settings: Settings) -> AuctionLoop:
    consumer = Consumer(consumer_config(settings.kafka_bootstrap, settings.group_id,
                                        **CONSUMER_OVERRIDES))
    producer = Producer(producer_config(settings.kafka_bootstrap, **PRODUCER_OVERRIDES))
    return AuctionLoop(consumer, producer, settings.topics, Rules(settings.rules),
                       batch_size=settings.batch_size)


async def serve(settings: Settings) -> None:
    loop = build_loop(settings)
    await run(Service(
        name="auction",
        grpc_port=settings.grpc_port,
        metrics_port=settings.metrics_port,
        # The loop flushes, commits and closes its clients itself when it is cancelled.
        background=[loop.run_async],
    ))


def main() -> None:
    settings = Settings.from_env(process_env())
    helios_logging.configure("auction", settings.log_level)
    with tracing.configured("auction", process_env()):
        run_forever(lambda: serve(settings))
