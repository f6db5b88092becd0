"""The benchmark's user mix: its shape (Zipf over the synthetic profiles, a share of unknown
users), its determinism, and what it says about itself."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from helios.profiles.seed import synthetic_id
from loadtest.traffic import UserMix, describe, observed, unknown_id

PROFILES = 100_000
DRAWS = 200_000


@pytest.fixture(scope="module")
def drawn() -> list[str]:
    return UserMix(PROFILES, seed=7).take(DRAWS)


def harmonic(n: int, s: float) -> float:
    """sum(1 / k**s for k = 1..n), written out here so the mix is checked against the
    definition, not against its own cumulative distribution."""
    return math.fsum(k ** -s for k in range(1, n + 1))


def test_the_same_seed_draws_the_same_users_and_another_seed_others() -> None:
    assert UserMix(1000, seed=1).take(500) == UserMix(1000, seed=1).take(500)
    assert UserMix(1000, seed=1).take(500) != UserMix(1000, seed=2).take(500)


def test_every_id_is_a_synthetic_profile_or_an_unknown_user(drawn: list[str]) -> None:
    synthetic = {synthetic_id(k) for k in range(1, PROFILES + 1)}
    unknown = [u for u in drawn if u not in synthetic]
    assert all(u.startswith("unknown-") for u in unknown)
    assert unknown_id(1) == "unknown-0000001"


def test_a_tenth_of_the_users_are_unknown(drawn: list[str]) -> None:
    # Binomial: one standard deviation is 0.07 % of the draws.
    assert observed(drawn, PROFILES).unknown == pytest.approx(0.10, abs=0.004)


def test_frequencies_fall_as_rank_to_the_power_minus_s(drawn: list[str]) -> None:
    counts = Counter(drawn)
    ranks = range(1, 31)
    xs = [math.log(k) for k in ranks]
    ys = [math.log(counts[synthetic_id(k)]) for k in ranks]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = (sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
             / sum((x - mean_x) ** 2 for x in xs))
    assert slope == pytest.approx(-1.1, abs=0.08)
    # The most frequent user: 0.9 / H(N, 1.1) of the requests.
    assert counts[synthetic_id(1)] / DRAWS == pytest.approx(0.9 / harmonic(PROFILES, 1.1),
                                                            rel=0.03)


def test_the_promised_shares_follow_from_the_definition() -> None:
    shares = UserMix(PROFILES).describe()
    total = harmonic(PROFILES, 1.1)
    assert shares.top_1pct == pytest.approx(0.9 * harmonic(1000, 1.1) / total)
    assert shares.top_10pct == pytest.approx(0.9 * harmonic(10_000, 1.1) / total)
    assert shares.unknown == 0.10
    # Skewed, as real traffic is: the top 1 % take over half of the requests.
    assert 0.5 < shares.top_1pct < shares.top_10pct < 0.9


def test_what_is_drawn_matches_what_is_promised(drawn: list[str]) -> None:
    promised, measured = UserMix(PROFILES).describe(), observed(drawn, PROFILES)
    assert measured.top_1pct == pytest.approx(promised.top_1pct, abs=0.01)
    assert measured.top_10pct == pytest.approx(promised.top_10pct, abs=0.01)


def test_s_zero_is_uniform_and_the_unknown_share_is_a_setting() -> None:
    uniform = UserMix(1000, s=0.0, unknown=0.0, seed=3)
    assert uniform.describe().top_10pct == pytest.approx(0.10)
    measured = observed(uniform.take(50_000), 1000)
    assert measured.unknown == 0
    assert measured.top_10pct == pytest.approx(0.10, abs=0.01)
    assert observed(UserMix(10, unknown=1.0).take(100), 10).unknown == 1.0


def test_a_tiny_set_still_has_a_top_user() -> None:
    mix = UserMix(1, unknown=0.0)
    assert set(mix.take(100)) == {"synthetic-000001"}
    assert mix.describe().top_1pct == pytest.approx(1.0)


def test_the_description_names_the_mix_and_its_shares() -> None:
    text = describe(UserMix(PROFILES))
    shares = UserMix(PROFILES).describe()
    assert text.startswith("users: Zipf s=1.1 over 100,000 synthetic profiles, 10% unknown; ")
    assert f"top 1 % of the 100,000 profiles {shares.top_1pct:.1%} of requests" in text
    assert f"top 10 % {shares.top_10pct:.1%}, unknown users 10.0%" in text


@pytest.mark.parametrize("options", [{"profiles": 0}, {"profiles": 10, "s": -1.0},
                                     {"profiles": 10, "unknown": 1.5},
                                     {"profiles": 10, "unknown_pool": 0}])
def test_a_bad_option_is_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        UserMix(**options)  # type: ignore[arg-type]


def test_measuring_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="no ids"):
        observed([], 10)
