"""``NextToken`` of ListCollections, ListFaces and ListUsers: opaque, checksummed page keys.

A token names the last key of the page before it (a CollectionId, FaceId or UserId), so a page stays valid when
items are added or deleted between calls. It is the key packed as a base-67 number (one digit 1..66 per character
those ids may hold), behind a 4-byte BLAKE2b checksum of the operation, its scope (the collection) and the key, in
Base85: at most 248 characters for a 255-character CollectionId (AWS caps tokens at 255). The checksum is not a
secret: it tells a token this server issued for this listing from anything else (a typo, a token of another
collection or operation), which is refused with ``InvalidPaginationTokenException``; anyone may still start a page
after any key, which reveals nothing a listing does not.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from photosift.api.rekognition.errors import AwsError

# Every character a CollectionId, UserId or FaceId may hold (see their patterns in botocore's model).
ALPHABET = "-.0123456789:ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_BASE = len(ALPHABET) + 1  # digit 0 is never used, so a key starting with "-" keeps its length
_DIGIT = {ch: i + 1 for i, ch in enumerate(ALPHABET)}
_CHECK = 4
MAX_KEY = 255


def encode(operation: str, scope: str, key: str) -> str:
    """The token of the page after ``key`` of ``operation`` within ``scope`` (``""`` for ListCollections)."""
    number = 0
    for ch in key:
        number = number * _BASE + _DIGIT[ch]
    packed = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.b85encode(_checksum(operation, scope, key) + packed).decode("ascii")


def decode(operation: str, scope: str, token: str | None) -> str | None:
    """The key ``token`` points after (``None`` for no token); ``InvalidPaginationTokenException`` if not ours."""
    if token is None or token == "":
        return None
    try:
        raw = base64.b85decode(token.encode("ascii"))
    except (ValueError, binascii.Error) as exc:  # not ASCII, not Base85
        raise _invalid() from exc
    key = _unpack(raw[_CHECK:]) if len(raw) > _CHECK else None
    if key is None or raw[:_CHECK] != _checksum(operation, scope, key):
        raise _invalid()
    return key


def _unpack(packed: bytes) -> str | None:
    """The key packed in ``packed``, or ``None`` if no key packs to exactly these bytes."""
    if packed[:1] == b"\0":  # encode() writes no leading zero byte
        return None
    number, chars = int.from_bytes(packed, "big"), list[str]()
    while number and len(chars) <= MAX_KEY:
        number, digit = divmod(number, _BASE)
        if digit == 0:
            return None
        chars.append(ALPHABET[digit - 1])
    return "".join(reversed(chars)) if chars and not number else None


def _checksum(operation: str, scope: str, key: str) -> bytes:
    return hashlib.blake2b(f"{operation}\n{scope}\n{key}".encode(), digest_size=_CHECK).digest()


def _invalid() -> AwsError:
    return AwsError("InvalidPaginationTokenException", "Invalid pagination token")
