from __future__ import annotations

import pytest

from helios.bidder.budget import MIN_LOOKUP_SECONDS, lookup_budget


def test_the_default_without_tmax_or_deadline() -> None:
    assert lookup_budget(0.050, None, None, 0.005) == 0.050


def test_a_larger_tmax_leaves_the_default() -> None:
    assert lookup_budget(0.050, 200, None, 0.005) == 0.050


def test_a_smaller_tmax_less_the_margin() -> None:
    assert lookup_budget(0.050, 20, None, 0.005) == pytest.approx(0.015)


def test_the_callers_grpc_deadline_less_the_margin() -> None:
    assert lookup_budget(0.050, 200, 0.030, 0.005) == pytest.approx(0.025)


def test_never_below_the_minimum() -> None:
    assert lookup_budget(0.050, 1, None, 0.005) == MIN_LOOKUP_SECONDS
    assert lookup_budget(0.050, None, 0.0, 0.005) == MIN_LOOKUP_SECONDS
