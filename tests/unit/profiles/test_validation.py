import math

import pytest

from helios.platform.errors import InvalidArgument
from helios.profiles.model import Profile
from helios.profiles.validation import (
    MAX_BATCH_SIZE,
    check_profile,
    check_user_id,
    check_user_ids,
)


def message(exc: pytest.ExceptionInfo[InvalidArgument]) -> str:
    return str(exc.value)


def test_a_user_id_of_up_to_128_characters_is_accepted() -> None:
    assert check_user_id("user-001") == "user-001"
    assert check_user_id("u" * 128) == "u" * 128


@pytest.mark.parametrize(("user_id", "expected"), [
    ("", "user_id: is required"),
    ("   ", "user_id: must not be blank"),
    ("\t\n", "user_id: must not be blank"),
    ("u" * 129, "user_id: must be at most 128 characters, got 129"),
])
def test_bad_user_ids_are_rejected_naming_the_field(user_id: str, expected: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        check_user_id(user_id)
    assert message(exc) == expected
    assert exc.value.field == "user_id"


def test_a_batch_keeps_request_order_and_drops_repeats() -> None:
    assert check_user_ids(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]
    assert check_user_ids([]) == []


def test_a_batch_of_exactly_the_limit_is_accepted() -> None:
    assert len(check_user_ids([f"u{i}" for i in range(MAX_BATCH_SIZE)])) == MAX_BATCH_SIZE


def test_a_batch_over_the_limit_is_rejected() -> None:
    with pytest.raises(InvalidArgument) as exc:
        check_user_ids(["u"] * (MAX_BATCH_SIZE + 1))
    assert message(exc) == "user_ids: must hold at most 1000 ids, got 1001"


def test_a_bad_id_in_a_batch_is_named_by_its_index() -> None:
    with pytest.raises(InvalidArgument) as exc:
        check_user_ids(["user-001", "user-002", " "])
    assert message(exc) == "user_ids[2]: must not be blank"


def test_a_valid_profile_comes_back_as_a_profile() -> None:
    profile = check_profile("user-x", {"technology": 0.0, "sports": 1.0, "music": 0.5})
    assert profile == Profile("user-x", {"technology": 0.0, "sports": 1.0, "music": 0.5})


@pytest.mark.parametrize(("user_id", "interests", "expected"), [
    ("", {"a": 0.5}, "profile.user_id: is required"),
    (" ", {"a": 0.5}, "profile.user_id: must not be blank"),
    ("u" * 129, {"a": 0.5}, "profile.user_id: must be at most 128 characters, got 129"),
    ("u", {}, "profile.interests: must hold at least one interest"),
    ("u", {"x": 1.5}, 'profile.interests["x"]: score must be between 0 and 1, got 1.5'),
    ("u", {"x": -0.01}, 'profile.interests["x"]: score must be between 0 and 1, got -0.01'),
    ("u", {"x": math.nan}, 'profile.interests["x"]: score must be a finite number, got nan'),
    ("u", {"x": math.inf}, 'profile.interests["x"]: score must be a finite number, got inf'),
    ("u", {"ok": 0.5, "": 0.5}, 'profile.interests[""]: is required'),
    ("u", {"  ": 0.5}, 'profile.interests["  "]: must not be blank'),
    ("u", {"n" * 129: 0.5},
     f'profile.interests["{"n" * 129}"]: must be at most 128 characters, got 129'),
    ("u", {"a\x00b": 0.5},
     'profile.interests["a\\u0000b"]: must hold printable characters only, got U+0000 at '
     'position 1'),
    ("u\u200b", {"a": 0.5},
     "profile.user_id: must hold printable characters only, got U+200B at position 1"),
    ("u", {f"i{n}": 0.5 for n in range(257)},
     "profile.interests: must hold at most 256 interests, got 257"),
])
def test_bad_profiles_are_rejected_naming_the_field(
        user_id: str, interests: dict[str, float], expected: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        check_profile(user_id, interests)
    assert message(exc) == expected


def test_an_interest_name_with_quotes_is_quoted_unambiguously() -> None:
    with pytest.raises(InvalidArgument) as exc:
        check_profile("u", {'say "hi"': 2.0})
    assert message(exc) == (
        'profile.interests["say \\"hi\\""]: score must be between 0 and 1, got 2.0')
