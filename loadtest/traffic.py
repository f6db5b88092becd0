"""The benchmark's users: a Zipf mix over the synthetic profiles, plus users with no profile.

Real bid traffic is skewed: a few users are seen often, most rarely, and some have never been
profiled. :class:`UserMix` draws ``synthetic-NNNNNN`` ids (as `helios seed-profiles --count N`
writes them, see :mod:`helios.profiles.seed`) with the probability of rank ``k`` proportional
to ``1 / k**s`` (rank 1 is ``synthetic-000001``), and a share of ``unknown-NNNNNNN`` ids, which
have no profile, drawn evenly from a pool of their own. Draws are deterministic for a seed and
cheap (two random numbers and a bisect into a precomputed cumulative distribution), so a
generator can draw one per request. :func:`describe` says what the mix promises, for printing
next to a benchmark's figures; :func:`observed` measures what a list of drawn ids holds.

Pure: no I/O, nothing but the standard library and the synthetic ids' format.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from helios.profiles.seed import SYNTHETIC_PREFIX, synthetic_id

UNKNOWN_PREFIX = "unknown-"
DEFAULT_S = 1.1
DEFAULT_UNKNOWN = 0.10
# Large enough that an unknown user is rarely seen twice in a benchmark's tens of thousands of
# requests (new users keep arriving), bounded so that the ids stay short.
DEFAULT_UNKNOWN_POOL = 1_000_000


def unknown_id(number: int) -> str:
    return f"{UNKNOWN_PREFIX}{number:07d}"


@dataclass(frozen=True)
class Shares:
    """Which part of the requests goes to whom, each a share from 0 to 1 of all requests."""

    profiles: int
    top_1pct: float
    top_10pct: float
    unknown: float

    def text(self) -> str:
        return (f"top 1 % of the {self.profiles:,} profiles {self.top_1pct:.1%} of requests, "
                f"top 10 % {self.top_10pct:.1%}, unknown users {self.unknown:.1%}")


class UserMix:
    """Draws user ids: Zipf(``s``) over ``profiles`` synthetic users, ``unknown`` of them
    users without a profile."""

    def __init__(self, profiles: int, *, s: float = DEFAULT_S, unknown: float = DEFAULT_UNKNOWN,
                 seed: int = 0, unknown_pool: int = DEFAULT_UNKNOWN_POOL) -> None:
        if profiles < 1:
            raise ValueError(f"profiles must be at least 1, got {profiles}")
        if s < 0:
            raise ValueError(f"s must not be negative, got {s}")
        if not 0 <= unknown <= 1:
            raise ValueError(f"unknown must be a share from 0 to 1, got {unknown}")
        if unknown_pool < 1:
            raise ValueError(f"unknown_pool must be at least 1, got {unknown_pool}")
        self.profiles = profiles
        self.s = s
        self.unknown = unknown
        self.unknown_pool = unknown_pool
        # cdf[k - 1]: the weight of ranks 1..k; a uniform draw below the total picks a rank.
        self._cdf: list[float] = list(itertools.accumulate(
            float(k) ** -s for k in range(1, profiles + 1)))
        self._total = self._cdf[-1]
        self._rng = random.Random(seed)

    def draw(self) -> str:
        """One user id."""
        rng = self._rng
        if rng.random() < self.unknown:
            return unknown_id(rng.randrange(self.unknown_pool) + 1)
        # min(): a draw a rounding error short of the total lands on the last rank, not past it.
        rank = min(bisect.bisect_right(self._cdf, rng.random() * self._total), self.profiles - 1)
        return synthetic_id(rank + 1)

    def take(self, count: int) -> list[str]:
        """The next ``count`` user ids."""
        return [self.draw() for _ in range(count)]

    def share_of_top(self, fraction: float) -> float:
        """The share of all requests that goes to the most frequent ``fraction`` of profiles
        (at least one profile)."""
        top = max(1, round(self.profiles * fraction))
        return (1 - self.unknown) * self._cdf[top - 1] / self._total

    def describe(self) -> Shares:
        """What the mix promises: the shares of the top 1 % and 10 % of profiles, and of
        unknown users."""
        return Shares(self.profiles, self.share_of_top(0.01), self.share_of_top(0.10),
                      self.unknown)


def describe(mix: UserMix) -> str:
    """One line for a benchmark's output: the distribution and what it promises."""
    return (f"users: Zipf s={mix.s:g} over {mix.profiles:,} synthetic profiles, "
            f"{mix.unknown:.0%} unknown; {mix.describe().text()}")


def observed(ids: Iterable[str], profiles: int) -> Shares:
    """The shares ``ids`` actually hold, measured as :meth:`UserMix.describe` promises them:
    requests for ranks 1..1 % and 1..10 % of ``profiles``, and for ids that are no synthetic
    profile's (unknown users, or ranks beyond ``profiles``)."""
    counts: Counter[int] = Counter()
    total = 0
    for user_id in ids:
        total += 1
        rank = _rank(user_id)
        counts[rank if rank is not None and rank <= profiles else 0] += 1
    if not total:
        raise ValueError("no ids to measure")

    def top(fraction: float) -> float:
        last = max(1, round(profiles * fraction))
        return sum(n for rank, n in counts.items() if 1 <= rank <= last) / total

    return Shares(profiles, top(0.01), top(0.10), counts[0] / total)


def _rank(user_id: str) -> int | None:
    if not user_id.startswith(SYNTHETIC_PREFIX):
        return None
    digits = user_id[len(SYNTHETIC_PREFIX):]
    return int(digits) if digits.isdigit() else None
