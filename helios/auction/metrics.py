"""The auction hop's own Prometheus metrics, served on the service's `/metrics` endpoint. What
every consumer has (batches, messages, retries, dead letters, lag) is helios.platform.consumer's
``helios_consumer_*``, labelled ``consumer="auction"``."""

from __future__ import annotations

from prometheus_client import Counter

PRODUCED = Counter(
    "helios_auction_outcomes_produced_total",
    "AuctionOutcome messages acknowledged by the broker, by result.",
    ["win_status"],
)
