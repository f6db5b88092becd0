"""`helios serve analytics`: the query API over gRPC, and the ingest loop in the background."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from helios.analytics import partitions
from helios.analytics.ingest import OutcomeWriter
from helios.analytics.queries import OutcomeQueries
from helios.analytics.servicer import AnalyticsServicer
from helios.analytics.settings import Settings
from helios.analytics.store import OutcomeStore
from helios.analytics.v1 import analytics_pb2
from helios.analytics.v1.analytics_pb2_grpc import add_AnalyticsServiceServicer_to_server
from helios.platform import consumer
from helios.platform.server import Registration, Service, run, service_main
from helios.platform.tracing import Tracing


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


def build_ingest(settings: Settings, engine: AsyncEngine,
                 tracer: Tracing) -> consumer.ConsumerLoop:
    topics = settings.topics
    return consumer.build(
        "analytics", settings.kafka_bootstrap, settings.consumer_group,
        topics.auction_outcomes, topics.auction_outcomes_dlq,
        OutcomeWriter(OutcomeStore(engine), topics.auction_outcomes, tracer=tracer,
                      retention=settings.retention),
        batch_size=settings.batch_size, linger_seconds=settings.batch_linger_ms / 1000,
        backoff=consumer.Backoff(settings.retry_initial_seconds, settings.retry_max_seconds))


async def serve(settings: Settings, tracer: Tracing) -> None:
    engine = build_engine(settings)
    servicer = AnalyticsServicer(OutcomeQueries(engine))
    await run(Service(
        name="analytics",
        grpc_port=settings.grpc_port,
        metrics_port=settings.metrics_port,
        registrations=[Registration.of(analytics_pb2.DESCRIPTOR.services_by_name[
            "AnalyticsService"], add_AnalyticsServiceServicer_to_server, servicer)],
        background=[
            build_ingest(settings, engine, tracer).run,
            lambda: partitions.keep_maintained(engine, settings.retention),
        ],
        cleanups=[engine.dispose],
        tracing=tracer,
    ))


main = service_main("analytics", Settings.from_env, serve)
