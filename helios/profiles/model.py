"""What the service knows about a user: a name per interest and a score in [0, 1]."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    user_id: str
    interests: Mapping[str, float]
