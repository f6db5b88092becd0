"""What the service knows about a user: a name per interest and a score in [0, 1]."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from helios.platform.interests import ranked


@dataclass(frozen=True)
class Profile:
    user_id: str
    interests: Mapping[str, float]

    def strongest(self) -> tuple[str, float] | None:
        """The interest first in :func:`~helios.platform.interests.ranked` order, with its
        score, or None for a profile without interests."""
        if not self.interests:
            return None
        name = ranked(self.interests)[0]
        return name, self.interests[name]
