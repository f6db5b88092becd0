from __future__ import annotations

import pytest

from helios.bidder.breaker import CircuitBreaker, State


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def opened(clock: Clock) -> CircuitBreaker:
    breaker = CircuitBreaker(3, 2.0, clock)
    for _ in range(3):
        breaker.record_failure()
    return breaker


def test_closed_lets_calls_through_until_the_threshold(clock: Clock) -> None:
    breaker = CircuitBreaker(3, 2.0, clock)
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.allow() and breaker.state is State.CLOSED
    breaker.record_failure()
    assert breaker.state is State.OPEN  # type: ignore[comparison-overlap]  # state changed
    assert not breaker.allow()


def test_a_success_resets_the_consecutive_count(clock: Clock) -> None:
    breaker = CircuitBreaker(3, 2.0, clock)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is State.CLOSED


def test_open_refuses_until_the_reset_period_passes(clock: Clock) -> None:
    breaker = opened(clock)
    clock.now += 1.999
    assert not breaker.allow()
    clock.now += 0.001
    assert breaker.state is State.HALF_OPEN


def test_half_open_lets_exactly_one_trial_through(clock: Clock) -> None:
    breaker = opened(clock)
    clock.now += 2.0
    assert breaker.allow()
    assert not breaker.allow()
    assert not breaker.allow()


def test_a_successful_trial_closes_the_circuit(clock: Clock) -> None:
    breaker = opened(clock)
    clock.now += 2.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is State.CLOSED
    assert all(breaker.allow() for _ in range(10))


def test_a_failed_trial_reopens_for_another_period(clock: Clock) -> None:
    breaker = opened(clock)
    clock.now += 2.0
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is State.OPEN
    clock.now += 1.0
    assert not breaker.allow()
    clock.now += 1.0
    assert breaker.allow()


def test_a_trial_that_never_reports_is_replaced_after_a_period(clock: Clock) -> None:
    breaker = opened(clock)
    clock.now += 2.0
    assert breaker.allow()
    clock.now += 1.0
    assert not breaker.allow()
    clock.now += 1.0
    assert breaker.allow()


def test_the_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(0, 1.0)
