"""The auction hop's Prometheus metrics, served on the service's `/metrics` endpoint."""

from __future__ import annotations

from prometheus_client import Counter

CONSUMED = Counter(
    "helios_auction_messages_consumed_total",
    "bid_responses messages consumed and committed.",
)
PRODUCED = Counter(
    "helios_auction_outcomes_produced_total",
    "AuctionOutcome messages acknowledged by the broker, by result.",
    ["win_status"],
)
DLQ = Counter(
    "helios_auction_messages_dlq_total",
    "bid_responses messages sent to the dead-letter topic, undecodable or invalid.",
)
DELIVERY_FAILURES = Counter(
    "helios_auction_delivery_failures_total",
    "Batches whose outcomes the broker did not acknowledge; they are consumed again.",
)
