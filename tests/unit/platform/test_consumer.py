"""The consumer loop's rules, with a fake consumer, handler and dead-letter sink (the real
ones run in tests/integration/auction and tests/integration/analytics)."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from helios.platform.consumer import Backoff, ConsumerLoop, Retry, commit_positions
from tests.unit.fakes import FakeMessage


def message(partition: int, offset: int) -> FakeMessage:
    return FakeMessage(partition=partition, offset=offset)


class FakeConsumer:
    """Hands out ``queued`` messages (then nothing), records what the loop asks of it."""

    def __init__(self, events: list[str], queued: list[FakeMessage] | None = None) -> None:
        self.events = events
        self.queued = list(queued or [])
        self.commits: list[list[tuple[str, int, int]]] = []
        self.paused: list[Any] = []
        self.resumed: list[Any] = []

    def subscribe(self, topics: list[str]) -> None:
        pass

    def poll(self, timeout: float) -> FakeMessage | None:
        if self.queued:
            return self.queued.pop(0)
        time.sleep(min(timeout, 0.01))
        return None

    def consume(self, num: int, timeout: float) -> list[FakeMessage]:
        taken, self.queued = self.queued[:num], self.queued[num:]
        return taken

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition("t", 0)]

    def get_watermark_offsets(self, partition: TopicPartition, timeout: float | None = None,
                              cached: bool = False) -> tuple[int, int]:
        return (0, 10)

    def committed(self, partitions: list[TopicPartition],
                  timeout: float | None = None) -> list[TopicPartition]:
        # The group has committed offset 3 of partition 0, nothing elsewhere.
        return [TopicPartition(p.topic, p.partition, 3 if p.partition == 0 else -1001)
                for p in partitions]

    def pause(self, partitions: list[Any]) -> None:
        self.paused.append(partitions)

    def resume(self, partitions: list[Any]) -> None:
        self.resumed.append(partitions)

    def commit(self, offsets: list[Any], asynchronous: bool) -> None:
        self.events.append("commit")
        self.commits.append([(tp.topic, tp.partition, tp.offset) for tp in offsets])

    def close(self) -> None:
        self.events.append("close")


class FlakyHandler:
    """Asks for a retry ``failures`` times, then takes the batch; dead-letters ``bad``
    offsets."""

    def __init__(self, events: list[str], failures: int = 0,
                 bad: frozenset[int] = frozenset()) -> None:
        self.events = events
        self.failures = failures
        self.bad = bad
        self.calls = 0
        self.handled: list[int] = []

    async def handle(self, messages: list[Any]) -> list[tuple[Any, str]]:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise Retry("database away")
        self.handled += [m.offset() for m in messages]
        self.events.append("handled")
        return [(m, "bad") for m in messages if m.offset() in self.bad]

    def committed(self, messages: list[Any]) -> None:
        self.events.append("committed")


class FakeDeadLetters:
    """Fails ``failures`` times as an unreachable Kafka would, then keeps the messages."""

    def __init__(self, events: list[str], failures: int = 0) -> None:
        self.events = events
        self.failures = failures
        self.kept: list[tuple[int, str]] = []

    def send(self, dead: list[tuple[Any, str]], timeout: float) -> None:
        if self.failures:
            self.failures -= 1
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT, "not acknowledged"))
        self.events.append("dead letters")
        self.kept += [(message.offset(), reason) for message, reason in dead]


def loop(consumer: FakeConsumer, handler: FlakyHandler,
         dead: FakeDeadLetters | None = None) -> ConsumerLoop:
    return ConsumerLoop("test", cast(Any, consumer), handler,
                        dead or FakeDeadLetters(consumer.events), "t", batch_size=10,
                        linger_seconds=0.01, backoff=Backoff(0.001, 0.004, jitter=0))


async def process(consumer: FakeConsumer, handler: FlakyHandler, batch: list[FakeMessage],
                  ahead: list[FakeMessage] | None = None,
                  dead: FakeDeadLetters | None = None) -> ConsumerLoop:
    """Handles ``batch`` while ``ahead`` is the next batch already collected."""
    future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
    future.set_result(list(ahead or []))
    looped = loop(consumer, handler, dead)
    await looped._process(cast(Any, batch), future)
    return looped


def test_backoff_doubles_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(0.5, 3.0, jitter=0)
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_backoff_jitter_spreads_each_delay_around_its_value() -> None:
    low = Backoff(1.0, 4.0, jitter=0.25, rand=lambda: 0.0)
    high = Backoff(1.0, 4.0, jitter=0.25, rand=lambda: 1.0)
    assert [low.next_delay(), low.next_delay()] == [0.75, 1.5]
    assert [high.next_delay(), high.next_delay()] == [1.25, 2.5]


def test_commit_positions_are_one_past_the_highest_offset_per_partition() -> None:
    messages = [message(0, 5), message(1, 2), message(0, 7), message(0, 6)]
    got = [(tp.topic, tp.partition, tp.offset) for tp in commit_positions(cast(Any, messages))]
    assert got == [("t", 0, 8), ("t", 1, 3)]


async def test_offsets_are_committed_only_after_the_handler_took_the_batch() -> None:
    events: list[str] = []
    consumer, handler = FakeConsumer(events), FlakyHandler(events, failures=3)
    looped = await process(consumer, handler, [message(0, i) for i in range(3)])
    assert handler.calls == 4
    assert handler.handled == [0, 1, 2]
    assert len(consumer.paused) == len(consumer.resumed) == 1
    assert consumer.commits == [[("t", 0, 3)]]
    assert events == ["handled", "commit", "committed"]
    assert looped.processed == 3


async def test_dead_letters_are_acknowledged_before_their_offsets_are_committed() -> None:
    events: list[str] = []
    consumer, handler = FakeConsumer(events), FlakyHandler(events, bad=frozenset({0}))
    dead = FakeDeadLetters(events, failures=3)
    await process(consumer, handler, [message(0, 0), message(0, 1)], dead=dead)
    assert dead.kept == [(0, "bad")]
    assert events == ["handled", "dead letters", "commit", "committed"]
    assert consumer.commits == [[("t", 0, 2)]]


async def test_a_long_outage_keeps_retrying_without_committing() -> None:
    events: list[str] = []
    consumer, handler = FakeConsumer(events), FlakyHandler(events, failures=10_000)
    task = asyncio.create_task(process(consumer, handler, [message(0, 0)]))
    await asyncio.sleep(0.2)
    assert not task.done() and handler.calls > 5 and consumer.commits == []
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_batch_collected_during_an_outage_is_handled_before_any_commit() -> None:
    events: list[str] = []
    consumer, handler = FakeConsumer(events), FlakyHandler(events, failures=2)
    await process(consumer, handler, [message(0, 0)],
                  ahead=[message(0, 1), message(1, 0)])
    assert sorted(handler.handled) == [0, 0, 1]
    assert consumer.commits == [[("t", 0, 2), ("t", 1, 1)]]


async def test_without_an_outage_the_next_batch_is_left_to_the_loop() -> None:
    events: list[str] = []
    consumer, handler = FakeConsumer(events), FlakyHandler(events)
    await process(consumer, handler, [message(0, 0)], ahead=[message(0, 1)])
    assert handler.handled == [0]
    assert consumer.commits == [[("t", 0, 1)]]


async def test_run_takes_batches_until_cancelled_then_closes_the_consumer() -> None:
    events: list[str] = []
    consumer = FakeConsumer(events, [message(0, i) for i in range(25)])
    handler = FlakyHandler(events)
    looped = loop(consumer, handler)
    task = asyncio.create_task(looped.run())
    while looped.processed < 25:  # noqa: ASYNC110 - the loop's own counter
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert handler.handled == list(range(25))
    # At most batch_size (10) a batch: the first message, then the rest within the linger.
    assert [c[0][2] for c in consumer.commits] == [10, 20, 25]
    assert events[-1] == "close"


async def test_the_lag_after_a_commit_is_what_the_partitions_still_hold() -> None:
    from prometheus_client import REGISTRY

    events: list[str] = []
    consumer, handler = FakeConsumer(events), FlakyHandler(events)
    await process(consumer, handler, [message(0, i) for i in range(4)])
    # High watermark 10, committed 4.
    assert REGISTRY.get_sample_value("helios_consumer_lag_messages",
                                     {"consumer": "test"}) == 6


async def test_while_a_batch_is_retried_the_lag_is_measured_from_the_broker() -> None:
    """The lag after the last commit would stand still during an outage, which is when it
    matters: each retry asks the broker for the committed offset and the high watermark."""
    from prometheus_client import REGISTRY

    events: list[str] = []
    consumer, handler = FakeConsumer(events), FlakyHandler(events, failures=10_000)
    task = asyncio.create_task(process(consumer, handler, [message(0, 3)]))
    await asyncio.sleep(0.1)
    # High watermark 10, committed 3, and nothing of this loop's own committed yet.
    assert REGISTRY.get_sample_value("helios_consumer_lag_messages",
                                     {"consumer": "test"}) == 7
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_the_failure_counters_exist_at_zero_before_any_failure() -> None:
    from prometheus_client import REGISTRY

    name = "never-failed"
    ConsumerLoop(name, cast(Any, FakeConsumer([])), FlakyHandler([]), FakeDeadLetters([]), "t",
                 batch_size=10, linger_seconds=0.01, backoff=Backoff(0.001, 0.004))

    for step in ("handler", "dead_letters"):
        assert REGISTRY.get_sample_value("helios_consumer_retries_total",
                                         {"consumer": name, "step": step}) == 0
    assert REGISTRY.get_sample_value("helios_consumer_dead_letters_total",
                                     {"consumer": name}) == 0
