"""The ingest loop's rules with a fake consumer and store (the real ones are exercised in
tests/integration/analytics)."""

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException
from sqlalchemy.exc import DataError, OperationalError

from helios.analytics.decode import OutcomeRow
from helios.analytics.ingest import Backoff, Batch, Ingestor, commit_positions
from helios.auction.v1.auction_pb2 import AuctionOutcome


class FakeMessage:
    def __init__(self, partition: int, offset: int, value: bytes | None,
                 key: bytes | None = None) -> None:
        self._partition, self._offset, self._value, self._key = partition, offset, value, key

    def key(self) -> bytes | None:
        return self._key

    def topic(self) -> str:
        return "t"

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def value(self) -> bytes | None:
        return self._value

    def error(self) -> None:
        return None

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_777_000_000_000)


class FakeConsumer:
    def __init__(self, events: list[str] | None = None) -> None:
        self.events = events if events is not None else []
        self.commits: list[list[tuple[str, int, int]]] = []
        self.paused: list[Any] = []
        self.resumed: list[Any] = []

    def consume(self, num: int, timeout: float) -> list[FakeMessage]:
        time.sleep(min(timeout, 0.01))
        return []

    def assignment(self) -> list[str]:
        return ["t-0"]

    def pause(self, partitions: list[Any]) -> None:
        self.paused.append(partitions)

    def resume(self, partitions: list[Any]) -> None:
        self.resumed.append(partitions)

    def commit(self, offsets: list[Any], asynchronous: bool) -> None:
        self.events.append("commit")
        self.commits.append([(tp.topic, tp.partition, tp.offset) for tp in offsets])


class FakeDeadLetters:
    """Fails ``failures`` times as an unreachable Kafka would, then keeps the messages."""

    def __init__(self, events: list[str], failures: int = 0) -> None:
        self.events = events
        self.failures = failures
        self.kept: list[tuple[int, str]] = []

    def send(self, dead: list[tuple[FakeMessage, str]], timeout: float) -> None:
        if self.failures:
            self.failures -= 1
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT, "not acknowledged"))
        self.events.append("dead letters")
        self.kept += [(message.offset(), reason) for message, reason in dead]


class FlakyStore:
    """Fails ``failures`` times with a connection error, then stores."""

    def __init__(self, failures: int = 0, bad_ids: frozenset[str] = frozenset()) -> None:
        self.failures = failures
        self.bad_ids = bad_ids
        self.stored: list[str] = []
        self.calls = 0

    async def insert(self, rows: list[OutcomeRow]) -> None:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise OperationalError("INSERT", {}, ConnectionRefusedError("down"))
        if any(row.bid_request_id in self.bad_ids for row in rows):
            raise DataError("INSERT", {}, ValueError("numeric field overflow"))
        self.stored.extend(row.bid_request_id for row in rows)


def payload(request_id: str) -> bytes:
    message = AuctionOutcome(bid_request_id=request_id, user_id="u", bid_price=0.5,
                             currency="USD", win_status=False)
    message.auction_timestamp.FromDatetime(datetime(2026, 5, 1, tzinfo=UTC))
    return message.SerializeToString()


def ingestor(consumer: FakeConsumer, store: FlakyStore,
             dead_letters: FakeDeadLetters | None = None) -> Ingestor:
    sink = dead_letters or FakeDeadLetters(consumer.events)
    return Ingestor(consumer, store, sink, "t", batch_size=10, linger_seconds=0.01,  # type: ignore[arg-type]
                    backoff=Backoff(0.001, 0.004))


def collected(*messages: FakeMessage) -> Batch:
    """What the Kafka thread hands over: the messages, their decoded rows, the undecodable."""
    return ingestor(FakeConsumer(), FlakyStore())._decode(list(messages))  # type: ignore[arg-type]


async def write(consumer: FakeConsumer, store: FlakyStore, batch: Batch,
                ahead: Batch | None = None, dead_letters: FakeDeadLetters | None = None) -> None:
    """Writes ``batch`` while ``ahead`` is the next batch already collected."""
    future: asyncio.Future[Batch] = asyncio.get_running_loop().create_future()
    future.set_result(ahead or Batch())
    await ingestor(consumer, store, dead_letters)._write(batch, future)


def test_backoff_doubles_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(0.5, 3.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_commit_positions_are_one_past_the_highest_offset_per_partition() -> None:
    messages = [FakeMessage(0, 5, b""), FakeMessage(1, 2, b""), FakeMessage(0, 7, b""),
                FakeMessage(0, 6, b"")]
    got = [(tp.topic, tp.partition, tp.offset) for tp in commit_positions(messages)]  # type: ignore[arg-type]
    assert got == [("t", 0, 8), ("t", 1, 3)]


async def test_offsets_are_committed_only_after_the_database_accepted_the_batch() -> None:
    consumer, store = FakeConsumer(), FlakyStore(failures=3)
    await write(consumer, store, collected(*(FakeMessage(0, i, payload(f"r{i}"))
                                             for i in range(3))))
    assert store.calls == 4
    assert store.stored == ["r0", "r1", "r2"]
    assert consumer.paused == [["t-0"]] and consumer.resumed == [["t-0"]]
    assert consumer.commits == [[("t", 0, 3)]]


async def test_undecodable_messages_are_dead_lettered_before_their_offsets_are_committed(
        ) -> None:
    consumer, store = FakeConsumer(), FlakyStore()
    dead_letters = FakeDeadLetters(consumer.events)
    await write(consumer, store, collected(FakeMessage(0, 0, b"\xff\xff"),
                                           FakeMessage(0, 1, payload("ok"))),
                dead_letters=dead_letters)
    assert store.stored == ["ok"]
    [(offset, reason)] = dead_letters.kept
    assert offset == 0 and reason.startswith("undecodable: not an AuctionOutcome")
    assert consumer.events == ["dead letters", "commit"]
    assert consumer.commits == [[("t", 0, 2)]]


async def test_a_row_the_database_refuses_is_dead_lettered_and_the_rest_stored() -> None:
    consumer, store = FakeConsumer(), FlakyStore(bad_ids=frozenset({"bad"}))
    dead_letters = FakeDeadLetters(consumer.events)
    await write(consumer, store, collected(*(FakeMessage(0, i, payload(rid), rid.encode())
                                             for i, rid in enumerate(["a", "bad", "c"]))),
                dead_letters=dead_letters)
    assert store.stored == ["a", "c"]
    assert dead_letters.kept == [(1, "refused by PostgreSQL: numeric field overflow")]
    assert consumer.commits == [[("t", 0, 3)]]


async def test_offsets_wait_until_kafka_acknowledged_the_dead_letters() -> None:
    consumer, store = FakeConsumer(), FlakyStore()
    dead_letters = FakeDeadLetters(consumer.events, failures=3)
    await write(consumer, store, collected(FakeMessage(0, 0, b"")), dead_letters=dead_letters)
    assert dead_letters.kept == [(0, "undecodable: empty payload")]
    assert consumer.events == ["dead letters", "commit"]


async def test_a_long_outage_keeps_retrying_without_committing() -> None:
    consumer, store = FakeConsumer(), FlakyStore(failures=10_000)
    task = asyncio.create_task(write(consumer, store, collected(FakeMessage(0, 0, payload("x")))))
    await asyncio.sleep(0.2)
    assert not task.done() and store.calls > 5 and consumer.commits == []
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_batch_collected_during_an_outage_is_written_before_any_commit() -> None:
    consumer, store = FakeConsumer(), FlakyStore(failures=2)
    await write(consumer, store, collected(FakeMessage(0, 0, payload("a"))),
                ahead=collected(FakeMessage(0, 1, payload("b")), FakeMessage(1, 0, payload("c"))))
    assert store.stored == ["a", "b", "c"]
    assert consumer.commits == [[("t", 0, 2), ("t", 1, 1)]]


async def test_without_an_outage_the_next_batch_is_left_to_the_loop() -> None:
    consumer, store = FakeConsumer(), FlakyStore()
    await write(consumer, store, collected(FakeMessage(0, 0, payload("a"))),
                ahead=collected(FakeMessage(0, 1, payload("b"))))
    assert store.stored == ["a"]
    assert consumer.commits == [[("t", 0, 1)]]
