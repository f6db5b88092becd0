"""The order of a profile's interests, strongest first: highest score first, a tie going to
the name first in code-point order (Python's ``str`` order), so the same profile always lists
its interests, and names its strongest one, the same way.

The bidder prices a bid from the first of them and publishes the whole list as
``user_interests``; the profile model answers its strongest interest from the same order.
"""

from __future__ import annotations

from collections.abc import Mapping


def ranked(interests: Mapping[str, float]) -> list[str]:
    """The interest names of ``interests`` (name -> score), strongest first."""
    return sorted(interests, key=lambda name: (-interests[name], name))
