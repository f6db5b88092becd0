"""The analytics handler with a fake store: what is stored, what is dead-lettered and why,
and which failures are a retry (the loop itself: tests/unit/platform/test_consumer.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy.exc import OperationalError

from helios.analytics.decode import OutcomeRow
from helios.analytics.ingest import OutcomeWriter
from helios.analytics.partitions import Retention
from helios.analytics.store import Refused
from helios.auction.v1.auction_pb2 import AuctionOutcome
from helios.platform.consumer import Retry
from helios.platform.tracing import OFF
from tests.unit.fakes import FakeMessage


class FlakyStore:
    """Fails ``failures`` times with a connection error, then stores."""

    def __init__(self, failures: int = 0, bad_ids: frozenset[str] = frozenset()) -> None:
        self.failures = failures
        self.bad_ids = bad_ids
        self.stored: list[str] = []

    async def insert(self, rows: list[OutcomeRow]) -> None:
        if self.failures:
            self.failures -= 1
            raise OperationalError("INSERT", {}, ConnectionRefusedError("down"))
        if any(row.bid_request_id in self.bad_ids for row in rows):
            raise Refused("numeric field overflow")
        self.stored.extend(row.bid_request_id for row in rows)


TODAY = datetime(2026, 5, 31, 12, tzinfo=UTC)


def payload(request_id: str, at: datetime = datetime(2026, 5, 1, tzinfo=UTC)) -> bytes:
    message = AuctionOutcome(bid_request_id=request_id, user_id="u", bid_price=0.5,
                             currency="USD", win_status=False)
    message.auction_timestamp.FromDatetime(at)
    return message.SerializeToString()


async def handle(store: FlakyStore, *messages: FakeMessage) -> list[tuple[int | None, str]]:
    writer = OutcomeWriter(store, "t", tracer=OFF, retention=Retention(30),
                           clock=lambda: TODAY)
    dead = await writer.handle(cast(Any, list(messages)))
    return [(message.offset(), reason) for message, reason in dead]


async def test_a_batch_is_stored_in_one_insert() -> None:
    store = FlakyStore()
    messages = [FakeMessage(payload(f"r{i}"), offset=i) for i in range(3)]
    assert await handle(store, *messages) == []
    assert store.stored == ["r0", "r1", "r2"]


async def test_a_database_away_is_a_retry_of_the_whole_batch() -> None:
    store = FlakyStore(failures=1)
    with pytest.raises(Retry, match="database write failed: OperationalError"):
        await handle(store, FakeMessage(payload("a")))
    assert store.stored == []


async def test_an_undecodable_message_is_dead_lettered_and_the_rest_stored() -> None:
    store = FlakyStore()
    dead = await handle(store, FakeMessage(b"\xff\xff"), FakeMessage(payload("ok"), offset=1))
    assert store.stored == ["ok"]
    [(offset, reason)] = dead
    assert offset == 0 and reason.startswith("undecodable: not an AuctionOutcome")


async def test_a_row_the_database_refuses_is_dead_lettered_and_the_rest_stored() -> None:
    store = FlakyStore(bad_ids=frozenset({"bad"}))
    dead = await handle(store, *(FakeMessage(payload(rid), offset=i, key=rid.encode())
                                 for i, rid in enumerate(["a", "bad", "c"])))
    assert store.stored == ["a", "c"]
    assert dead == [(1, "refused by PostgreSQL: numeric field overflow")]


async def test_an_empty_payload_is_dead_lettered() -> None:
    assert await handle(FlakyStore(), FakeMessage(b"")) == [(0, "undecodable: empty payload")]


async def test_an_outcome_older_than_the_retention_is_dead_lettered_and_the_rest_stored(
) -> None:
    store = FlakyStore()
    dead = await handle(store,
                        FakeMessage(payload("kept", datetime(2026, 5, 1, tzinfo=UTC)), offset=1),
                        FakeMessage(payload("old", datetime(2026, 4, 30, 23, 59, tzinfo=UTC)),
                                    offset=2))
    assert store.stored == ["kept"]
    assert dead == [(2, "expired: auction_timestamp 2026-04-30T23:59:00+00:00 is older than "
                       "the retention of 30 days")]
