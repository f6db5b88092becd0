"""`helios serve analytics`: the query API over gRPC, and the ingest loop in the background."""

from __future__ import annotations

from confluent_kafka import Consumer, Producer
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from helios.analytics.ingest import Backoff, Ingestor
from helios.analytics.queries import OutcomeQueries
from helios.analytics.servicer import AnalyticsServicer
from helios.analytics.settings import Settings
from helios.analytics.store import OutcomeStore
from helios.analytics.v1 import analytics_pb2
from helios.analytics.v1.analytics_pb2_grpc import add_AnalyticsServiceServicer_to_server
from helios.platform import logging as helios_logging
from helios.platform import tracing
from helios.platform.kafka import DeadLetters, consumer_config, producer_config
from helios.platform.server import Registration, Service, run, run_forever
from helios.platform.settings import process_env

SERVICE_NAME = analytics_pb2.DESCRIPTOR.services_by_name["AnalyticsService"].full_name
CONSUMER_OVERRIDES = {
    # Fetch in large chunks: batches of thousands are what make one INSERT per batch fast.
    "fetch.min.bytes": 65_536,
    "fetch.wait.max.ms": 50,
}


def build_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        # A connection that died with PostgreSQL is noticed before use, not mid-query.
        pool_pre_ping=True,
        # Bounded waits, so an outage surfaces as an error (and a retry) instead of a hang.
        pool_timeout=10,
        connect_args={"timeout": 5, "command_timeout": 30},
    )


def build_ingestor(settings: Settings, engine: AsyncEngine) -> Ingestor:
    consumer = Consumer(consumer_config(settings.kafka_bootstrap, settings.consumer_group,
                                        **CONSUMER_OVERRIDES))
    dead_letters = DeadLetters(Producer(producer_config(settings.kafka_bootstrap)),
                               settings.topics.auction_outcomes_dlq)
    return Ingestor(consumer, OutcomeStore(engine), dead_letters,
                    settings.topics.auction_outcomes,
                    batch_size=settings.batch_size,
                    linger_seconds=settings.batch_linger_ms / 1000,
                    backoff=Backoff(settings.retry_initial_seconds, settings.retry_max_seconds))


async def serve(settings: Settings) -> None:
    engine = build_engine(settings)
    servicer = AnalyticsServicer(OutcomeQueries(engine))
    ingestor = build_ingestor(settings, engine)
    await run(Service(
        name="analytics",
        grpc_port=settings.grpc_port,
        metrics_port=settings.metrics_port,
        registrations=[Registration(
            SERVICE_NAME, lambda server: add_AnalyticsServiceServicer_to_server(servicer, server))],
        background=[ingestor.run],
        cleanups=[engine.dispose],
    ))


def main() -> None:
    settings = Settings.from_env(process_env())
    helios_logging.configure("analytics", settings.log_level)
    with tracing.configured("analytics", process_env()):
        run_forever(lambda: serve(settings))
