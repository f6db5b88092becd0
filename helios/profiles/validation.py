"""Input rules for profile calls. Each failure is an
:class:`~helios.platform.errors.InvalidArgument` whose message names the offending field the
way a caller wrote it (``profile.interests["sports"]``, ``user_ids[3]``)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

from helios.platform import validation
from helios.platform.errors import InvalidArgument
from helios.profiles.model import Profile

MAX_INTERESTS = 256
# One BatchGet is one Redis round trip and one reply; this keeps both bounded.
MAX_BATCH_SIZE = 1000


def check_user_id(user_id: str, field: str = "user_id") -> str:
    return validation.USER_ID.check(field, user_id)


def check_user_ids(user_ids: Sequence[str], field: str = "user_ids") -> list[str]:
    """Validates a batch and drops repeated ids (first occurrence kept, order preserved)."""
    if len(user_ids) > MAX_BATCH_SIZE:
        raise InvalidArgument(
            field, f"must hold at most {MAX_BATCH_SIZE} ids, got {len(user_ids)}")
    for index, user_id in enumerate(user_ids):
        check_user_id(user_id, f"{field}[{index}]")
    return list(dict.fromkeys(user_ids))


def check_profile(user_id: str, interests: Mapping[str, float],
                  field: str = "profile") -> Profile:
    check_user_id(user_id, f"{field}.user_id")
    if not interests:
        # Redis cannot hold an empty hash, and a profile without interests cannot price a bid;
        # removing a profile is what DeleteProfile is for.
        raise InvalidArgument(f"{field}.interests", "must hold at least one interest")
    if len(interests) > MAX_INTERESTS:
        raise InvalidArgument(f"{field}.interests",
                              f"must hold at most {MAX_INTERESTS} interests, got {len(interests)}")
    for name, score in interests.items():
        where = f"{field}.interests[{json.dumps(name)}]"
        validation.INTEREST_NAME.check(where, name)
        if not math.isfinite(score):
            raise InvalidArgument(where, f"score must be a finite number, got {score}")
        if not 0.0 <= score <= 1.0:
            raise InvalidArgument(where, f"score must be between 0 and 1, got {score}")
    return Profile(user_id, dict(interests))
