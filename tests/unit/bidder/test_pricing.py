from __future__ import annotations

import pytest

from helios.bidder.pricing import (
    NO_PROFILE,
    PROFILE_SERVICE_TIMEOUT,
    PROFILE_SERVICE_UNAVAILABLE,
    Price,
    price,
    tier,
)


@pytest.mark.parametrize(("score", "expected"), [
    (1.0, 1.20), (0.95, 1.20), (0.9000001, 1.20),
    (0.9, 0.85), (0.75, 0.85), (0.7, 0.85),
    (0.6999999, 0.60), (0.5, 0.60),
    (0.4999999, 0.35), (0.1, 0.35), (0.0, 0.35),
])
def test_tiers_at_and_around_every_boundary(score: float, expected: float) -> None:
    assert tier(score) == expected


def test_the_strongest_interest_sets_the_price_and_is_reported() -> None:
    assert price({"sports": 0.70, "technology": 0.95}) == Price(
        1.20, enriched=True, winning_interest="technology", interest_score=0.95,
        interests=("technology", "sports"))


def test_a_weak_profile_still_counts_as_enriched() -> None:
    assert price({"gardening": 0.2}) == Price(
        0.35, enriched=True, winning_interest="gardening", interest_score=0.2,
        interests=("gardening",))


def test_a_tie_goes_to_the_first_name_alphabetically() -> None:
    priced = price({"sports": 0.8, "autos": 0.8, "music": 0.1})
    assert priced.winning_interest == "autos"
    assert priced.interests == ("autos", "sports", "music")


@pytest.mark.parametrize("reason", [NO_PROFILE, PROFILE_SERVICE_UNAVAILABLE,
                                    PROFILE_SERVICE_TIMEOUT])
def test_without_a_profile_the_base_price_and_the_reason(reason: str) -> None:
    assert price(None, reason) == Price(0.35, enriched=False, reason=reason)


def test_no_interests_means_no_profile() -> None:
    assert price({}, "") == Price(0.35, enriched=False, reason=NO_PROFILE)
