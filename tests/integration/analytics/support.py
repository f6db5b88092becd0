"""Helpers for the analytics integration tests: outcomes to Kafka, rows from PostgreSQL, a
gRPC stub, and a TCP proxy in front of PostgreSQL that a test can cut and restore."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import grpc
from confluent_kafka import Producer

from helios.analytics.v1 import analytics_pb2_grpc
from helios.auction.v1.auction_pb2 import AuctionOutcome
from helios.local.mesh import free_port
from helios.platform.kafka import producer_config
from helios.platform.settings import libpq_url


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def outcome(request_id: str, *, at: datetime, site: str, user: str = "user-001",
            bid: float = 0.85, win: bool = True, enriched: bool = True) -> AuctionOutcome:
    message = AuctionOutcome(
        bid_request_id=request_id, user_id=user, bid_price=bid, currency="USD",
        enriched=enriched, user_interests=["sports", "music"] if enriched else [],
        interest_scores={"sports": 0.8, "music": 0.3} if enriched else {},
        winning_interest="sports" if enriched else "", interest_score=0.8 if enriched else 0.0,
        enrichment_reason="" if enriched else "no profile", site_domain=site,
        device_type="mobile", page_url=f"https://{site}/a", win_status=win,
        win_price=bid if win else 0.0)
    message.timestamp.FromDatetime(at)
    message.auction_timestamp.FromDatetime(at)
    return message


def produce(bootstrap: str, topic: str, payloads: Iterable[tuple[str, bytes]]) -> None:
    producer = Producer(producer_config(bootstrap))
    for key, value in payloads:
        producer.produce(topic, value, key.encode())
        producer.poll(0)
    assert producer.flush(30) == 0


def produce_outcomes(bootstrap: str, topic: str, outcomes: Iterable[AuctionOutcome]) -> None:
    produce(bootstrap, topic, ((o.bid_request_id, o.SerializeToString()) for o in outcomes))


def db_fetch(database_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Runs one query on a fresh connection (from sync tests: its own event loop, in a thread so
    it works whether or not the caller is inside a running loop)."""
    async def go() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(libpq_url(database_url))
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    result: list[list[asyncpg.Record]] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(go())))
    thread.start()
    thread.join(60)
    return result[0]


def stored_ids(database_url: str, ids: list[str]) -> dict[str, int]:
    rows = db_fetch(database_url, "SELECT bid_request_id, count(*) AS n FROM auction_outcomes "
                                  "WHERE bid_request_id = ANY($1) GROUP BY 1", ids)
    return {row["bid_request_id"]: row["n"] for row in rows}


@contextlib.contextmanager
def analytics_stub(target: str) -> Iterator[analytics_pb2_grpc.AnalyticsServiceStub]:
    with grpc.insecure_channel(target) as channel:
        yield analytics_pb2_grpc.AnalyticsServiceStub(channel)


@dataclass
class TcpProxy:
    """Forwards 127.0.0.1:<port> to an upstream, on its own event loop thread. :meth:`cut`
    closes the listener and drops every open connection (the client sees PostgreSQL vanish:
    refused connects, reset sockets); :meth:`restore` listens again on the same port."""

    upstream_host: str
    upstream_port: int
    port: int = 0

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread.start()

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.upstream_host,
                                                                 self.upstream_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self._writers -= {writer, up_writer}

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port,
                                                  reuse_address=True)

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            transport = writer.transport
            transport.abort()
        self._writers.clear()

    def start(self) -> None:
        self._call(self._start())

    def cut(self) -> None:
        self._call(self._stop())

    def restore(self) -> None:
        self.start()

    def close(self) -> None:
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
