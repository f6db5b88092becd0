"""A circuit breaker for calls to one dependency, with no I/O: the caller reports outcomes and
asks before each call; time comes from an injected clock so tests can drive it.

    closed     calls pass; ``failure_threshold`` consecutive failures open the circuit
    open       calls are refused at once, for ``reset_seconds``
    half-open  one trial call passes; its success closes the circuit, its failure reopens it
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable


class State(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(self, failure_threshold: int, reset_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self._threshold = failure_threshold
        self._reset = reset_seconds
        self._clock = clock
        self._state = State.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_started: float | None = None

    @property
    def state(self) -> State:
        if self._state is State.OPEN and self._clock() - self._opened_at >= self._reset:
            return State.HALF_OPEN
        return self._state

    def allow(self) -> bool:
        """May a call go out now? In half-open, True once per trial."""
        if self._state is State.CLOSED:
            return True
        now = self._clock()
        if self._state is State.OPEN:
            if now - self._opened_at < self._reset:
                return False
            self._state = State.HALF_OPEN
            self._trial_started = None
        # A trial whose outcome never came back (its caller gave up before the call was
        # made) must not hold the circuit half-open forever: after another reset period a
        # new trial may go.
        if self._trial_started is not None and now - self._trial_started < self._reset:
            return False
        self._trial_started = now
        return True

    def record_success(self) -> None:
        self._state = State.CLOSED
        self._failures = 0
        self._trial_started = None

    def record_failure(self) -> None:
        if self._state is State.HALF_OPEN:
            self._open()
            return
        self._failures += 1
        if self._state is State.CLOSED and self._failures >= self._threshold:
            self._open()

    def _open(self) -> None:
        self._state = State.OPEN
        self._opened_at = self._clock()
        self._failures = 0
        self._trial_started = None
