"""The bidder's own Prometheus metrics (the gRPC server metrics come from the platform)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

BIDS = Counter("helios_bidder_bids_total",
               "Bids answered, by enrichment reason (empty when enriched).", ["reason"])
PROFILE_BATCH_USERS = Histogram(
    "helios_bidder_profile_batch_users", "Users carried by one BatchGetProfiles call.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000))
PROFILE_BATCH_FAILURES = Counter(
    "helios_bidder_profile_batch_failures_total",
    "BatchGetProfiles calls that failed, by gRPC status code.", ["grpc_code"])
BREAKER_OPEN = Gauge("helios_bidder_profile_breaker_open",
                     "1 while the circuit to the profile service is open.")
PUBLISH_FAILURES = Counter("helios_bidder_publish_failures_total",
                           "Bids not acknowledged by Kafka, so answered UNAVAILABLE.")

_STAGE_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1,
                  0.25, 1.0)
STAGE_SECONDS = Histogram(
    "helios_bidder_stage_seconds",
    "Time a bid spends in each stage: profile lookup, Kafka publish (until acknowledged).",
    ["stage"], buckets=_STAGE_BUCKETS)

CACHE_LOOKUPS = Counter(
    "helios_bidder_cache_lookups_total",
    "Profile lookups by the near cache's answer: hit, miss (asked the profile service), "
    "bypass (the cache was off: its stream was down).", ["result"])
CACHE_INVALIDATIONS = Counter(
    "helios_bidder_cache_invalidations_total",
    "Profile changes received on the WatchProfiles stream.")
CACHE_ENTRIES = Gauge("helios_bidder_cache_entries",
                      "Lookups held by the near cache (profiles and no-profile answers).")
CACHE_STREAM_UP = Gauge(
    "helios_bidder_cache_stream_up",
    "1 while the WatchProfiles stream is in place (the near cache is on), else 0.")
