"""One validation of sizes and characters for what callers send, the same on SQLite and PostgreSQL.

Every check raises ``InvalidInput`` (HTTP 400) with a message naming the field, and returns the value to use.
The limits keep every value within what both databases store (PostgreSQL refuses NUL bytes and lone surrogates in
text; columns have fixed lengths) and every query within their parameter limits (``MAX_LIST`` ids per request).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from photosift.errors import InvalidInput

MAX_NAME = 200  # album, member and person names, in characters (after stripping surrounding spaces)
MAX_FILENAME = 255  # the basename of an uploaded file, in characters
MAX_ID = 64  # ids of albums, photos, members, people, faces, references
ID_PATTERN = r"^[0-9A-Za-z_-]{1,64}$"
MAX_LIST = 1000  # ids in one request (face_ids, ...)
MAX_EVENT_ID = 2**63 - 1  # event ids are within the signed 64-bit range of both databases

_ID = re.compile(ID_PATTERN)
_DIGITS = re.compile(r"^[0-9]{1,19}$")
_FORBIDDEN = frozenset({"Cc", "Cs"})  # control characters (NUL included) and lone surrogates


def _bad_character(value: str) -> str | None:
    """The first control character or lone surrogate of ``value``, if any."""
    return next((c for c in value if unicodedata.category(c) in _FORBIDDEN), None)


def check_name(value: str, what: str = "name") -> str:
    """A display name without surrounding spaces: 1-``MAX_NAME`` characters, no control characters."""
    name = value.strip()
    if not name:
        raise InvalidInput(f"{what} must not be empty")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"{what} is {len(name)} characters long; the limit is {MAX_NAME}")
    if (bad := _bad_character(name)) is not None:
        raise InvalidInput(f"{what} contains U+{ord(bad):04X} (control characters and lone surrogates are refused)")
    return name


def check_filename(value: str | None) -> str | None:
    """The basename of an uploaded file's name (``None`` when there is none): at most ``MAX_FILENAME`` characters,
    no control characters. Folders a client sends (``a/b.jpg``, ``C:\\x\\b.jpg``) are dropped."""
    if value is None:
        return None
    name = re.split(r"[/\\]", value)[-1].strip()
    if not name:
        return None
    if len(name) > MAX_FILENAME:
        raise InvalidInput(f"file name is {len(name)} characters long; the limit is {MAX_FILENAME}")
    if (bad := _bad_character(name)) is not None:
        raise InvalidInput(f"file name contains U+{ord(bad):04X} (control characters and lone surrogates are refused)")
    return name


def check_id(value: str, what: str = "id") -> str:
    """An identifier: 1-``MAX_ID`` characters of ``[0-9A-Za-z_-]``."""
    if not _ID.fullmatch(value):
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise InvalidInput(f"{what} {shown!r} is not a valid id (1-{MAX_ID} characters of 0-9, A-Z, a-z, _ and -)")
    return value


def check_ids(values: Sequence[str], what: str = "ids") -> list[str]:
    """1-``MAX_LIST`` identifiers (each as ``check_id``), duplicates removed, order kept."""
    if not values:
        raise InvalidInput(f"{what} must not be empty")
    if len(values) > MAX_LIST:
        raise InvalidInput(f"{len(values)} {what} in one request; the limit is {MAX_LIST}")
    return list(dict.fromkeys(check_id(v, what) for v in values))


def check_threshold(value: float | None) -> float | None:
    """A similarity threshold: a finite number from 0 to 100, or ``None`` (the default)."""
    if value is not None and not 0 <= value <= 100:  # NaN fails both comparisons
        raise InvalidInput("threshold must be a number from 0 to 100")
    return value


def check_event_id(value: str | int, what: str = "event id") -> int:
    """An event id: ASCII digits (or an int) from 0 to ``MAX_EVENT_ID``."""
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value.strip()):
            raise InvalidInput(f"{what} must be a whole number from 0 to {MAX_EVENT_ID}")
        value = int(value.strip())
    if not 0 <= value <= MAX_EVENT_ID:
        raise InvalidInput(f"{what} must be a whole number from 0 to {MAX_EVENT_ID}")
    return value


__all__ = [
    "ID_PATTERN", "MAX_EVENT_ID", "MAX_FILENAME", "MAX_ID", "MAX_LIST", "MAX_NAME", "check_event_id",
    "check_filename", "check_id", "check_ids", "check_name", "check_threshold",
]
