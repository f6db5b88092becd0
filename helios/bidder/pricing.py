"""The price of a bid from the user's strongest interest: the rule users know from the original
system, kept as it was (including the strict ``> 0.9`` for the top tier)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from helios.platform.interests import ranked

CURRENCY = "USD"
BASE_PRICE = 0.35

# Why a bid is not enriched (BidResponse.enrichment_reason).
NO_PROFILE = "no_profile"
PROFILE_SERVICE_UNAVAILABLE = "profile_service_unavailable"
PROFILE_SERVICE_TIMEOUT = "profile_service_timeout"


@dataclass(frozen=True, slots=True)
class Price:
    bid_price: float
    enriched: bool
    winning_interest: str = ""
    interest_score: float = 0.0
    # The profile's interest names, strongest first (the first one set the price); empty when
    # not enriched.
    interests: tuple[str, ...] = ()
    # Empty when enriched; one of the reasons above otherwise.
    reason: str = ""


def tier(score: float) -> float:
    """The bid price for a strongest interest ``score``."""
    if score > 0.9:
        return 1.20
    if score >= 0.7:
        return 0.85
    if score >= 0.5:
        return 0.60
    return BASE_PRICE


def price(interests: Mapping[str, float] | None, reason: str = NO_PROFILE) -> Price:
    """Prices a bid from a profile's ``interests``, or, when there is none, at the base price
    with ``reason`` saying why."""
    if not interests:
        # The profile service refuses empty profiles, so empty means none was found.
        return Price(BASE_PRICE, enriched=False, reason=reason or NO_PROFILE)
    names = tuple(ranked(interests))
    score = interests[names[0]]
    return Price(tier(score), enriched=True, winning_interest=names[0], interest_score=score,
                 interests=names)
