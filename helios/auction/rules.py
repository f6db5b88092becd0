"""The auction's decision for one bid: pure, no I/O, and deterministic for a bid request id.

Randomness comes from BLAKE2b keyed with the configured seed over the ``bid_request_id``
(never Python's ``hash()``, which is salted per process): the same id and seed give the same
decision in any process, so re-processing a message after a crash publishes the same outcome.
The 16-byte digest supplies two independent uniforms in [0, 1).

Money is handled in whole cents. A price given as a float is converted with its shortest
decimal representation rounded half-up (``0.305`` -> 31 cents, ``1.005`` -> 101 cents), the
way a person reading the number would round it, rather than trusting the float's binary value.

Modes:

``first_price`` (the original rule, the default)
    A bid below ``min_bid`` loses. Otherwise it wins with probability ``win_probability`` and
    pays its own bid.

``second_price``
    A competing bid is simulated from the configured distribution (uniform between ``low`` and
    ``high``, or lognormal with ``mu`` and ``sigma``), rounded to cents. The bid wins only when
    it is strictly above both the floor and the competing bid (a tie goes to the competitor)
    and then pays the higher of the two plus one cent. Because prices are whole cents and the
    bid is strictly higher, that price never exceeds the bid itself. ``min_bid`` and
    ``win_probability`` do not apply in this mode: the competition decides.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from helios.auction.settings import FIRST_PRICE, LOGNORMAL, RuleSettings

_TWO_TO_MINUS_53 = 2.0 ** -53


@dataclass(frozen=True, slots=True)
class Decision:
    won: bool
    # The price paid in cents; 0 when the bid lost.
    price_cents: int
    # second_price only: the simulated competing bid in cents (0 in first_price mode).
    competing_cents: int = 0

    @property
    def win_price(self) -> float:
        return self.price_cents / 100


@lru_cache(maxsize=4096)
def to_cents(price: float) -> int:
    """Whole cents, half-up on the shortest decimal form of ``price``. Cached because bid
    prices come in a handful of tiers; raises ValueError for NaN or infinity."""
    if not math.isfinite(price):
        raise ValueError(f"price must be finite, got {price!r}")
    return int((Decimal(repr(price)) * 100).to_integral_value(rounding=ROUND_HALF_UP))


def uniforms(bid_request_id: str, key: bytes) -> tuple[float, float]:
    """Two independent uniforms in [0, 1) fixed by the id and the key (the encoded seed)."""
    digest = hashlib.blake2b(bid_request_id.encode(), digest_size=16, key=key).digest()
    return ((int.from_bytes(digest[:8], "big") >> 11) * _TWO_TO_MINUS_53,
            (int.from_bytes(digest[8:], "big") >> 11) * _TWO_TO_MINUS_53)


class Rules:
    """The settings compiled once (thresholds in cents, the hash key) for the hot path."""

    def __init__(self, settings: RuleSettings) -> None:
        self.settings = settings
        self._first_price = settings.mode == FIRST_PRICE
        self._lognormal = settings.competitor_distribution == LOGNORMAL
        self._key = settings.seed.encode()
        self._min_cents = to_cents(settings.min_bid)
        self._floor_cents = to_cents(settings.floor)

    def decide(self, bid_request_id: str, bid_price: float) -> Decision:
        """Raises ValueError when ``bid_price`` is not a finite number."""
        bid_cents = to_cents(bid_price)
        u1, u2 = uniforms(bid_request_id, self._key)
        if self._first_price:
            if bid_cents >= self._min_cents and u1 < self.settings.win_probability:
                return Decision(True, bid_cents)
            return Decision(False, 0)
        competing = self._competing_cents(u1, u2)
        reserve = max(self._floor_cents, competing)
        if bid_cents > reserve:
            return Decision(True, reserve + 1, competing)
        return Decision(False, 0, competing)

    def _competing_cents(self, u1: float, u2: float) -> int:
        s = self.settings
        if self._lognormal:
            # Box-Muller: 1 - u1 is in (0, 1], so the logarithm is defined.
            z = math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)
            price = math.exp(s.competitor_mu + s.competitor_sigma * z)
        else:
            price = s.competitor_low + u1 * (s.competitor_high - s.competitor_low)
        # A simulated draw has no decimal form to respect, so plain half-up on the float.
        return math.floor(price * 100.0 + 0.5)
