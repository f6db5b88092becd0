"""The text rule every stored client text meets, with examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helios.platform.errors import InvalidArgument
from helios.platform.validation import USER_ID, Text


def refusal(rule: Text, value: str) -> str:
    with pytest.raises(InvalidArgument) as caught:
        rule.check("f", value)
    assert caught.value.field == "f"
    return str(caught.value)


@pytest.mark.parametrize("value", ["user-001", "é" * 128, "a b", "名前", "😀", "e\u0301"])
def test_printable_text_is_accepted_raw(value: str) -> None:
    assert USER_ID.check("f", value) == value


@pytest.mark.parametrize(("value", "code", "position"), [
    ("\x00", "U+0000", 0), ("a\tb", "U+0009", 1), ("ab\n", "U+000A", 2), ("\x7f", "U+007F", 0),
    ("x\x85", "U+0085", 1), ("\u200bx", "U+200B", 0), ("a\u2028", "U+2028", 1),
    ("\ufeff", "U+FEFF", 0), ("\u202e", "U+202E", 0),
])
def test_control_and_format_characters_are_refused_by_code_point(
        value: str, code: str, position: int) -> None:
    assert refusal(USER_ID, value) == \
        f"f: must hold printable characters only, got {code} at position {position}"


def test_required_empty_and_blank_and_too_long() -> None:
    assert refusal(USER_ID, "") == "f: is required"
    assert refusal(USER_ID, "  ") == "f: must not be blank"
    assert refusal(USER_ID, "x" * 129) == "f: must be at most 128 characters, got 129"
    assert Text(10).check("f", "") == ""


@given(st.text(max_size=200))
def test_accepted_text_is_storable_and_printable(value: str) -> None:
    try:
        kept = USER_ID.check("f", value)
    except InvalidArgument as exc:
        assert str(exc).startswith("f: ")
        return
    assert kept == value
    assert "\x00" not in kept and kept.strip() and len(kept) <= 128
    # A btree index key stays far below PostgreSQL's ~2,700-byte limit.
    assert len(kept.encode()) <= 4 * 128
    assert all(c.isprintable() for c in kept)
