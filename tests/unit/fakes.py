"""A Kafka message for unit tests of pure logic: what confluent_kafka.Message answers."""

from __future__ import annotations


class FakeMessage:
    def __init__(self, value: bytes | None = b"v", *, topic: str = "t", partition: int = 0,
                 offset: int = 0, key: bytes | None = None,
                 headers: list[tuple[str, bytes]] | None = None,
                 timestamp_ms: int = 1_777_000_000_000) -> None:
        self._value, self._topic, self._partition = value, topic, partition
        self._offset, self._key, self._headers = offset, key, headers
        self._timestamp_ms = timestamp_ms

    def value(self) -> bytes | None:
        return self._value

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes | None:
        return self._key

    def headers(self) -> list[tuple[str, bytes]] | None:
        return self._headers

    def timestamp(self) -> tuple[int, int]:
        return (1, self._timestamp_ms)  # TIMESTAMP_CREATE_TIME

    def error(self) -> None:
        return None
