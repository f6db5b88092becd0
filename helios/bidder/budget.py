"""How long a bid may spend on its profile lookup."""

from __future__ import annotations

# Below this a lookup cannot succeed even on a loopback connection; asking anyway would only
# turn every bid with a tiny tmax into a timeout that counts against the circuit breaker.
MIN_LOOKUP_SECONDS = 0.001


def lookup_budget(default: float, tmax_ms: int | None, remaining: float | None,
                  margin: float) -> float:
    """The lookup's deadline in seconds: the configured ``default``, shortened to fit the
    request's ``tmax_ms`` and the caller's own gRPC deadline (``remaining`` seconds), each less
    ``margin`` for pricing and publishing."""
    budget = default
    if tmax_ms is not None:
        budget = min(budget, tmax_ms / 1000 - margin)
    if remaining is not None:
        budget = min(budget, remaining - margin)
    return max(budget, MIN_LOOKUP_SECONDS)
