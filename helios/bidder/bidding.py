"""One bid, start to finish: validate, look the user up, price, publish, answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from helios.bidder import metrics, pricing
from helios.bidder.budget import lookup_budget
from helios.bidder.profiles_client import Lookup
from helios.bidder.v1.bidder_pb2 import BidResponse, SubmitBidRequest
from helios.bidder.validation import validate


class Profiles(Protocol):
    async def lookup(self, user_id: str, budget: float) -> Lookup: ...


class Publisher(Protocol):
    async def publish(self, bid: BidResponse, request_id: str = "",
                      within: float | None = None) -> None: ...


class Bidder:
    def __init__(self, profiles: Profiles, publisher: Publisher, *,
                 profile_deadline: float, margin: float,
                 clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._profiles = profiles
        self._publisher = publisher
        self._profile_deadline = profile_deadline
        self._margin = margin
        self._clock_ns = clock_ns
        self._lookup_seconds = metrics.STAGE_SECONDS.labels("profile_lookup")
        self._publish_seconds = metrics.STAGE_SECONDS.labels("publish")
        self._bids_by_reason = {reason: metrics.BIDS.labels(reason) for reason in (
            "", pricing.NO_PROFILE, pricing.PROFILE_SERVICE_UNAVAILABLE,
            pricing.PROFILE_SERVICE_TIMEOUT)}

    async def submit(self, request: SubmitBidRequest, *, request_id: str = "",
                     remaining: float | None = None) -> BidResponse:
        """The priced bid, answered once Kafka has it. ``remaining`` is the caller's gRPC time
        budget in seconds (None without a deadline); ``request_id`` goes into Kafka headers.

        Raises InvalidArgument for a bad request and Unavailable when Kafka cannot take the bid.
        """
        bid_request = validate(request, self._clock_ns())
        budget = lookup_budget(self._profile_deadline, bid_request.tmax_ms, remaining,
                               self._margin)
        started = time.perf_counter()
        found = await self._profiles.lookup(bid_request.user_id, budget)
        looked_up = time.perf_counter()
        self._lookup_seconds.observe(looked_up - started)
        price = pricing.price(found.interests, found.reason)

        # The same message is published and returned.
        bid = BidResponse()
        bid.bid_request_id = bid_request.request_id
        bid.user_id = bid_request.user_id
        bid.bid_price = price.bid_price
        bid.currency = pricing.CURRENCY
        bid.timestamp.FromNanoseconds(bid_request.timestamp_ns)
        bid.enriched = price.enriched
        bid.user_interests.extend(price.interests)
        if found.interests:
            bid.interest_scores.update(found.interests)
        bid.winning_interest = price.winning_interest
        bid.interest_score = price.interest_score
        bid.enrichment_reason = price.reason
        bid.site_domain = bid_request.site_domain
        bid.device_type = bid_request.device_type
        bid.page_url = bid_request.page_url

        published = time.perf_counter()
        await self._publisher.publish(bid, request_id, remaining)
        self._publish_seconds.observe(time.perf_counter() - published)
        self._bids_by_reason[price.reason].inc()
        return bid
