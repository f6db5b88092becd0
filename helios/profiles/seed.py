"""The deterministic profiles that `helios seed-profiles` (and `make up`) load.

The demo users: the first twelve are written by hand so that docs and tests can name them;
``user-NNN`` with NNN = 1, 5, 9 bids 1.20, 2, 6, 10 bids 0.85, 3, 7, 11 bids 0.60, and 4, 8, 12
bids 0.35. Several sit exactly on a tier boundary (0.90, 0.70, 0.50), where the pricing rule's
``>`` versus ``>=`` matters. The rest come from a random generator with a fixed seed, so every
run produces the same set: a strongest interest drawn evenly across the four tiers, and up to
three weaker ones.

The synthetic users (``synthetic-000001`` onwards, only on request) are drawn the same way from
a generator of their own, so that the benchmark can load a realistic number of profiles (the
original promises 100,000+) without touching the demo set.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

import redis

from helios.profiles import layout
from helios.profiles.model import Profile

DEFAULT_COUNT = 1000
RNG_SEED = 20_240_601
SYNTHETIC_RNG_SEED = 20_261_201
SYNTHETIC_PREFIX = "synthetic-"
# Profiles per pipeline: one round trip each, small enough not to stall Redis.
CHUNK = 500
# Writes a profile only where the user has none, atomically (a script runs alone in Redis), so
# a profile changed through the API between the check and the write is never overwritten.
_WRITE_IF_MISSING = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""

INTERESTS = ("technology", "sports", "travel", "fashion", "music", "finance", "gaming",
             "food", "automotive", "health", "books", "news")

# Strongest score ranges, one per bid price tier (see the pricing rule in the brief).
TIER_RANGES = ((0.91, 1.0), (0.70, 0.90), (0.50, 0.69), (0.0, 0.49))

NAMED: tuple[Profile, ...] = (
    # 1.20: strongest score above 0.9.
    Profile("user-001", {"technology": 0.95, "sports": 0.70}),
    # 0.85: strongest in [0.7, 0.9].
    Profile("user-002", {"fashion": 0.85, "travel": 0.60}),
    # 0.60: strongest in [0.5, 0.7).
    Profile("user-003", {"sports": 0.65, "music": 0.40}),
    # 0.35: strongest below 0.5 (a profile was found, so the bid is still enriched).
    Profile("user-004", {"food": 0.30, "travel": 0.20}),
    Profile("user-005", {"finance": 1.0}),
    Profile("user-006", {"sports": 0.90, "news": 0.10}),  # boundary: 0.90 is not above 0.9
    Profile("user-007", {"travel": 0.50, "books": 0.45}),  # boundary: 0.50 is in [0.5, 0.7)
    Profile("user-008", {"books": 0.49}),
    Profile("user-009", {"gaming": 0.91, "technology": 0.55}),
    Profile("user-010", {"music": 0.70, "health": 0.69}),  # boundary: 0.70 is in [0.7, 0.9]
    Profile("user-011", {"food": 0.69, "automotive": 0.30}),
    Profile("user-012", {"news": 0.0}),
)


def user_id(number: int) -> str:
    return f"user-{number:03d}"


def demo_profiles(count: int = DEFAULT_COUNT) -> list[Profile]:
    """The first ``count`` demo users, ``user-001`` onwards; the same list on every call."""
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    rng = random.Random(RNG_SEED)
    profiles = list(NAMED[:count])
    for number in range(len(NAMED) + 1, count + 1):
        profiles.append(_generated(user_id(number), rng))
    return profiles


def synthetic_id(number: int) -> str:
    """``synthetic-000001`` for 1: the id of the ``number``-th synthetic user (from 1)."""
    return f"{SYNTHETIC_PREFIX}{number:06d}"


def synthetic_profiles(count: int) -> Iterator[Profile]:
    """The first ``count`` synthetic users, lazily (the benchmark asks for 100,000); the same
    profiles on every call, and a smaller count gives a prefix of a larger one."""
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    rng = random.Random(SYNTHETIC_RNG_SEED)
    for number in range(1, count + 1):
        yield _generated(synthetic_id(number), rng)


def _generated(uid: str, rng: random.Random) -> Profile:
    low, high = rng.choice(TIER_RANGES)
    names = rng.sample(INTERESTS, rng.randint(1, 4))
    strongest = round(rng.uniform(low, high), 2)
    interests = {names[0]: strongest}
    for name in names[1:]:
        interests[name] = round(rng.uniform(0.0, strongest), 2)
    return Profile(uid, interests)


def run(redis_url: str, count: int = DEFAULT_COUNT) -> int:
    """Writes each demo profile whose user has no profile in Redis; a profile that exists (one
    a user changed through the API, say) is kept as it is. Returns how many were written."""
    return write_missing(redis_url, demo_profiles(count))


def run_synthetic(redis_url: str, count: int,
                  progress: Callable[[int], None] | None = None) -> int:
    """Writes the first ``count`` synthetic profiles where missing, as :func:`run` does the
    demo users; ``progress`` is told how many have been handled after each pipeline."""
    return write_missing(redis_url, synthetic_profiles(count), progress)


def write_missing(redis_url: str, profiles: Iterable[Profile],
                  progress: Callable[[int], None] | None = None) -> int:
    """Writes each of ``profiles`` whose user has no profile, ``CHUNK`` per pipeline (one round
    trip each); returns how many were written."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    write_if_missing = client.register_script(_WRITE_IF_MISSING)
    written = handled = 0
    pending = iter(profiles)
    try:
        while chunk := list(islice(pending, CHUNK)):
            with client.pipeline(transaction=False) as pipe:
                for profile in chunk:
                    fields = [item for pair in layout.encode(profile.interests).items()
                              for item in pair]
                    write_if_missing(keys=[layout.key(profile.user_id)], args=fields,
                                     client=pipe)
                written += sum(pipe.execute())
            handled += len(chunk)
            if progress is not None:
                progress(handled)
    finally:
        client.close()
    return written
