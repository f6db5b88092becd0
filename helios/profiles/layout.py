"""The Redis key layout, shared by the store and the seed command.

One hash per user::

    helios:profile:<user_id>    field = interest name, value = score as a decimal string

Scores are written with ``repr(float)``, the shortest text that reads back as the same double,
so a score survives the round trip exactly (0.7 stays 0.7, which matters at tier boundaries).
A user without a key has no profile; an empty hash cannot exist in Redis, so a stored profile
always has at least one interest.
"""

from __future__ import annotations

from collections.abc import Mapping

from helios.profiles.model import Profile

KEY_PREFIX = "helios:profile:"


def key(user_id: str) -> str:
    return KEY_PREFIX + user_id


def encode(interests: Mapping[str, float]) -> dict[str, str]:
    return {name: repr(float(score)) for name, score in interests.items()}


def decode(user_id: str, fields: Mapping[str, str]) -> Profile | None:
    """The profile stored under ``user_id`` (HGETALL's reply), or None when the key is absent."""
    if not fields:
        return None
    return Profile(user_id, {name: float(value) for name, value in fields.items()})
