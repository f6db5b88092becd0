import pytest

from helios.platform.interests import ranked
from helios.profiles.model import Profile
from helios.profiles.seed import INTERESTS, demo_profiles, synthetic_id, synthetic_profiles
from helios.profiles.validation import check_profile


def strongest(profile: Profile) -> tuple[str, float]:
    """The interest the bidder prices from, with its score."""
    name = ranked(profile.interests)[0]
    return name, profile.interests[name]


def tier(profile: Profile) -> float:
    """The brief's pricing rule, restated here so the demo set is checked against the rule,
    not against itself."""
    score = strongest(profile)[1]
    if score > 0.9:
        return 1.20
    if score >= 0.7:
        return 0.85
    if score >= 0.5:
        return 0.60
    return 0.35


def test_user_001_is_the_one_in_the_original_docs() -> None:
    assert demo_profiles(1) == [Profile("user-001", {"technology": 0.95, "sports": 0.70})]


def test_the_default_set_is_user_001_to_user_1000() -> None:
    profiles = demo_profiles()
    assert len(profiles) == 1000
    assert [p.user_id for p in profiles[:3]] == ["user-001", "user-002", "user-003"]
    assert profiles[-1].user_id == "user-1000"
    assert len({p.user_id for p in profiles}) == 1000


def test_every_run_gives_the_same_set() -> None:
    assert demo_profiles(1000) == demo_profiles(1000)


def test_a_smaller_set_is_a_prefix_of_a_larger_one() -> None:
    assert demo_profiles(2000)[:1000] == demo_profiles(1000)


def test_generated_users_are_pinned_so_a_change_to_the_set_is_deliberate() -> None:
    profiles = {p.user_id: p for p in demo_profiles(20)}
    assert profiles["user-013"] == Profile(
        "user-013", {"gaming": 0.95, "food": 0.19, "music": 0.41, "fashion": 0.36})
    assert profiles["user-020"] == Profile(
        "user-020", {"sports": 0.81, "gaming": 0.2, "fashion": 0.22})


def test_the_named_users_sit_in_the_documented_tiers() -> None:
    profiles = demo_profiles(12)
    assert [(p.user_id, tier(p)) for p in profiles] == [
        ("user-001", 1.20), ("user-002", 0.85), ("user-003", 0.60), ("user-004", 0.35),
        ("user-005", 1.20), ("user-006", 0.85), ("user-007", 0.60), ("user-008", 0.35),
        ("user-009", 1.20), ("user-010", 0.85), ("user-011", 0.60), ("user-012", 0.35),
    ]


def test_the_named_users_include_every_tier_boundary() -> None:
    named = {p.user_id: strongest(p) for p in demo_profiles(12)}
    assert named["user-006"] == ("sports", 0.90)
    assert named["user-010"] == ("music", 0.70)
    assert named["user-007"] == ("travel", 0.50)


def test_the_generated_users_cover_every_tier_in_fair_shares() -> None:
    generated = demo_profiles(1000)[12:]
    counts = {price: sum(1 for p in generated if tier(p) == price)
              for price in (1.20, 0.85, 0.60, 0.35)}
    assert all(150 <= count <= 350 for count in counts.values()), counts


def test_every_demo_profile_passes_the_service_validation() -> None:
    for profile in demo_profiles(1000):
        assert check_profile(profile.user_id, profile.interests) == profile

PINNED_FIRST = Profile("synthetic-000001", {"travel": 0.74, "fashion": 0.74})
PINNED_LAST = Profile("synthetic-001000", {"food": 0.54, "books": 0.06})


def test_synthetic_ids_are_numbered_from_one() -> None:
    assert [p.user_id for p in synthetic_profiles(2)] == ["synthetic-000001", "synthetic-000002"]
    assert synthetic_id(100_000) == "synthetic-100000"
    assert synthetic_id(1_234_567) == "synthetic-1234567"


def test_synthetic_profiles_are_the_same_on_every_run_and_a_prefix_of_more() -> None:
    assert list(synthetic_profiles(500)) == list(synthetic_profiles(500))
    assert list(synthetic_profiles(2000))[:500] == list(synthetic_profiles(500))
    assert list(synthetic_profiles(0)) == []


def test_synthetic_profiles_are_pinned_so_a_change_to_the_set_is_deliberate() -> None:
    first, *_, last = synthetic_profiles(1000)
    assert (first, last) == (PINNED_FIRST, PINNED_LAST)


def test_synthetic_profiles_are_not_the_demo_users_renamed() -> None:
    demo = [p.interests for p in demo_profiles(1000)[12:]]
    synthetic = [p.interests for p in synthetic_profiles(988)]
    assert sum(a == b for a, b in zip(demo, synthetic, strict=True)) < 10


def test_synthetic_profiles_are_valid_and_cover_every_tier() -> None:
    profiles = list(synthetic_profiles(2000))
    assert len({p.user_id for p in profiles}) == 2000
    for profile in profiles:
        assert check_profile(profile.user_id, profile.interests) == profile
        assert set(profile.interests) <= set(INTERESTS)
    counts = {price: sum(1 for p in profiles if tier(p) == price)
              for price in (1.20, 0.85, 0.60, 0.35)}
    assert all(350 <= count <= 650 for count in counts.values()), counts


def test_a_negative_synthetic_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        list(synthetic_profiles(-1))
