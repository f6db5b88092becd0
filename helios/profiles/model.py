"""What the service knows about a user: a name per interest and a score in [0, 1]."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    user_id: str
    interests: Mapping[str, float]

    def strongest(self) -> tuple[str, float] | None:
        """The interest with the highest score (ties: the name first in sort order), or None
        for a profile without interests."""
        if not self.interests:
            return None
        name = min(self.interests, key=lambda key: (-self.interests[key], key))
        return name, self.interests[name]
