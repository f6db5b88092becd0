"""The auction hop's own Prometheus metrics, served on the service's `/metrics` endpoint. What
every consumer has (batches, messages, retries, dead letters, lag) is helios.platform.consumer's
``helios_consumer_*``, labelled ``consumer="auction"``.

All three count outcomes once the broker acknowledged them, so they agree with each other and
with what analytics stores: the average bid price is ``bid_price_usd_total`` over
``outcomes_produced_total``, the win rate ``outcomes_produced_total{win_status="won"}`` over all,
the revenue ``win_price_usd_total``. Sums are taken in whole cents per batch and added in
dollars (bids are in USD). A batch handled again after a failed delivery is counted once, when
it is acknowledged; a batch re-delivered after a crash is counted again, as its outcomes are
published again.
"""

from __future__ import annotations

from prometheus_client import Counter

RESULTS = ("won", "lost")

PRODUCED = Counter(
    "helios_auction_outcomes_produced_total",
    "AuctionOutcome messages acknowledged by the broker, by result.",
    ["win_status"],
)
BID_PRICE = Counter(
    "helios_auction_bid_price_usd_total",
    "Sum of the bid prices of the acknowledged outcomes, in USD, by result.",
    ["win_status"],
)
WIN_PRICE = Counter(
    "helios_auction_win_price_usd_total",
    "Sum of the prices paid by the won auctions of the acknowledged outcomes, in USD: the "
    "revenue.",
)
# Both results exist from the start, so a win rate is 0, not missing, before the first win.
for _result in RESULTS:
    PRODUCED.labels(_result)
    BID_PRICE.labels(_result)
