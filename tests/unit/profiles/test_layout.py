from helios.profiles import layout
from helios.profiles.model import Profile


def test_one_hash_per_user_under_a_documented_prefix() -> None:
    assert layout.key("user-001") == "helios:profile:user-001"


def test_scores_survive_the_text_round_trip_exactly() -> None:
    interests = {"a": 0.7, "b": 0.1 + 0.2, "c": 1.0, "d": 0.0, "e": 0.9000000000000001}
    decoded = layout.decode("u", layout.encode(interests))
    assert decoded == Profile("u", interests)
    assert decoded is not None and decoded.interests["b"] == 0.1 + 0.2


def test_an_absent_key_is_no_profile() -> None:
    assert layout.decode("u", {}) is None
