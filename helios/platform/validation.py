"""The rule for every piece of text a client sends that Helios stores or matches against stored
data: ids, domains, URLs, interest names and the analytics filters that look them up.

Whatever the front door accepts, every later hop must be able to store: PostgreSQL ``text`` and
``jsonb`` refuse NUL, and a btree index refuses a key of more than about 2,700 bytes. The rule
is stricter than those limits on purpose, so that an id reads the same in a log line, a
dashboard cell and a terminal:

- printable characters only, as :meth:`str.isprintable` defines them: no C0 or C1 control
  characters (NUL, TAB, newline, DEL, U+0080-U+009F), no format characters (zero-width space,
  BOM, bidirectional overrides), no line or paragraph separators; a plain space is allowed;
- taken raw: the text is not Unicode-normalised, so ``é`` written as one code point and as
  ``e`` plus a combining accent are two different ids, as they are to the exchange that sent
  them;
- at most ``max_length`` characters (code points), which keeps every indexed value far below
  the index's limit (4 bytes per code point at most in UTF-8).

Each failure is an :class:`~helios.platform.errors.InvalidArgument` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass

from helios.platform.errors import InvalidArgument


@dataclass(frozen=True, slots=True)
class Text:
    """One kind of client text: how long it may be and whether it may be empty."""

    max_length: int
    required: bool = False

    def check(self, field: str, value: str) -> str:
        """``value`` if it meets the rule, else InvalidArgument naming ``field``."""
        if not value:
            if self.required:
                raise InvalidArgument(field, "is required")
            return value
        if self.required and not value.strip():
            raise InvalidArgument(field, "must not be blank")
        if len(value) > self.max_length:
            raise InvalidArgument(
                field, f"must be at most {self.max_length} characters, got {len(value)}")
        if not value.isprintable():
            position, char = next((i, c) for i, c in enumerate(value) if not c.isprintable())
            raise InvalidArgument(
                field, f"must hold printable characters only, got U+{ord(char):04X} at "
                       f"position {position}")
        return value


# Ids an exchange or an operator chooses. The bidder, the profile service and the analytics
# API apply the same rule, so an id accepted by one is accepted by every other.
REQUEST_ID = Text(128, required=True)
USER_ID = Text(128, required=True)
# A DNS name is at most 253 characters.
SITE_DOMAIN = Text(253)
DEVICE_TYPE = Text(64)
PAGE_URL = Text(4096)
INTEREST_NAME = Text(128, required=True)
