"""Rekognition request/response shapes, checked against botocore's service model (the one AWS's SDKs are built from).

``parse_request`` turns a JSON 1.1 request body into Python values (blobs base64-decoded) and enforces the model's
constraints (required members, types, enums, min/max, patterns; the model's Java-style patterns are compiled with
``regex``, which knows ``\\p{L}``). Beyond the model, at this boundary: JSON nesting deeper than ``MAX_JSON_DEPTH`` is
refused before parsing, and no string may hold NUL or an unpaired surrogate (neither SQLite nor PostgreSQL would store
them alike). A member that is JSON ``null`` counts as absent. ``check`` walks a value against a shape and lists every
violation; with ``strict=True`` (used for responses in tests) unknown members are violations too.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from functools import cache
from typing import Any

import botocore.session
import numpy as np
import regex
from botocore.model import OperationModel, ServiceModel, Shape

from photosift.api.rekognition.errors import AwsError, invalid_parameter

_INTEGER = ("integer", "long")
_FLOAT = ("float", "double")
MAX_JSON_DEPTH = 32  # Rekognition's deepest request is 4 levels; json.loads itself would recurse ~1000 deep
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_SHOWN = 64  # characters of a refused value echoed in a message
_SCAN_CHUNK = 1 << 20
_DEPTH_STEP = np.zeros(256, dtype=np.int8)
_DEPTH_STEP[[ord("["), ord("{")]] = 1
_DEPTH_STEP[[ord("]"), ord("}")]] = -1


@cache
def service_model() -> ServiceModel:
    """botocore's model of Rekognition 2016-06-27."""
    return botocore.session.get_session().get_service_model("rekognition")


def operation_model(name: str) -> OperationModel:
    """The model of operation ``name`` (raises botocore's ``OperationNotFoundError``)."""
    return service_model().operation_model(name)


def parse_request(operation: str, body: bytes) -> dict[str, Any]:
    """The decoded, validated input of ``operation``; raises ``AwsError`` (Serialization / InvalidParameter)."""
    if nesting_exceeds(body, MAX_JSON_DEPTH):
        raise AwsError("SerializationException", f"Request body nests arrays/objects deeper than {MAX_JSON_DEPTH}")
    try:
        params = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise AwsError("SerializationException", f"Request body is not valid JSON: {exc}") from exc
    if not isinstance(params, dict):
        raise AwsError("SerializationException", "Request body must be a JSON object")
    shape = operation_model(operation).input_shape
    problems = check(shape, params, decode_blobs=True)
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        raise invalid_parameter(f"{count} validation {noun} detected: " + "; ".join(problems[:5]))
    return _decode_blobs(shape, params)


def check(shape: Shape | None, value: Any, *, strict: bool = False, decode_blobs: bool = False) -> list[str]:
    """Every violation of ``shape``'s constraints by JSON-decoded ``value`` (empty list when it conforms).

    ``decode_blobs``: blobs are base64 strings (a request body) rather than ``bytes`` (already decoded).
    Blob ``max`` is not enforced here: oversize images have their own error (``ImageTooLargeException``).
    """
    problems: list[str] = []
    if shape is not None:
        _walk(shape, value, "", problems, strict, decode_blobs)
    return problems


def _walk(shape: Shape, value: Any, path: str, out: list[str], strict: bool, b64: bool) -> None:
    where = path or "request"
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            out.append(f"Value at '{where}' must be an object")
            return
        for name in shape.required_members:
            if name not in value or value[name] is None:
                out.append(f"Value null at '{_join(path, name)}' failed to satisfy constraint: Member must not be null")
        for name, item in value.items():
            member = shape.members.get(name)
            if member is None:
                if strict:
                    out.append(f"Unknown member '{_join(path, name)}'")
                continue
            if item is not None:
                _walk(member, item, _join(path, name), out, strict, b64)
        return
    if kind == "list":
        if not isinstance(value, list):
            out.append(f"Value at '{where}' must be a list")
            return
        _check_size(len(value), meta, where, "length", out)
        for i, item in enumerate(value):
            _walk(shape.member, item, f"{path}.{i + 1}", out, strict, b64)
        return
    if kind == "map":
        if not isinstance(value, dict):
            out.append(f"Value at '{where}' must be a map")
            return
        _check_size(len(value), meta, where, "length", out)
        for key, item in value.items():
            _walk(shape.key, key, f"{path}.key", out, strict, b64)
            _walk(shape.value, item, f"{path}.{key}", out, strict, b64)
        return
    _walk_scalar(shape, value, where, out, b64)


def _walk_scalar(shape: Shape, value: Any, where: str, out: list[str], b64: bool) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "string":
        if not isinstance(value, str):
            out.append(f"Value at '{where}' must be a string")
            return
        if _BAD_TEXT.search(value):
            out.append(f"Value at '{where}' must not contain NUL or unpaired surrogate characters")
            return
        enum = meta.get("enum")
        if enum and value not in enum:
            out.append(f"Value '{_shown(value)}' at '{where}' failed to satisfy constraint: "
                       f"Member must satisfy enum value set: [{', '.join(enum)}]")
        _check_size(len(value), meta, where, "length", out, value)
        pattern = meta.get("pattern")
        if pattern and not _pattern(pattern).fullmatch(value):
            out.append(f"Value '{_shown(value)}' at '{where}' failed to satisfy constraint: "
                       f"Member must satisfy regular expression pattern: {pattern}")
    elif kind in _INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            out.append(f"Value at '{where}' must be an integer")
            return
        _check_size(value, meta, where, "value", out, value)
    elif kind in _FLOAT:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            out.append(f"Value at '{where}' must be a number")
            return
        _check_size(value, meta, where, "value", out, value)
    elif kind == "boolean":
        if not isinstance(value, bool):
            out.append(f"Value at '{where}' must be a boolean")
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float):
            out.append(f"Value at '{where}' must be epoch seconds")
    elif kind == "blob":
        size = _blob_size(value, b64)
        if size is None:
            out.append(f"Value at '{where}' must be base64-encoded bytes")
        elif size < meta.get("min", 0):
            out.append(f"Value at '{where}' failed to satisfy constraint: Member must have length greater than or "
                       f"equal to {meta['min']}")


def _check_size(size: float, meta: dict, where: str, what: str, out: list[str], shown: Any = None) -> None:
    label = f"Value '{_shown(shown)}' at '{where}'" if shown is not None and what == "value" else f"Value at '{where}'"
    low, high = meta.get("min"), meta.get("max")
    if low is not None and size < low:
        out.append(f"{label} failed to satisfy constraint: Member must have {what} greater than or equal to {low}")
    if high is not None and size > high:
        out.append(f"{label} failed to satisfy constraint: Member must have {what} less than or equal to {high}")


def _blob_size(value: Any, b64: bool) -> int | None:
    if isinstance(value, bytes | bytearray) and not b64:
        return len(value)
    if isinstance(value, str) and b64:
        try:
            return len(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            return None
    return None


def _decode_blobs(shape: Shape, value: Any) -> Any:
    """``value`` with blobs decoded; a structure keeps only its modelled, non-null members (null is absent)."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {k: _decode_blobs(shape.members[k], v) for k, v in value.items() if k in shape.members and v is not None}
    if kind == "list" and isinstance(value, list):
        return [_decode_blobs(shape.member, v) for v in value]
    if kind == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    return value


@cache
def _pattern(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern)


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def nesting_exceeds(body: bytes, limit: int) -> bool:
    """Whether JSON text ``body`` nests arrays/objects more than ``limit`` deep (brackets in strings do not count).

    Linear and vectorised, 1 MiB at a time. For text that is not valid JSON the answer is still an upper bound of
    how deep a parser gets before it fails (outside strings a backslash is already an error).
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    level, inside, slashes = 0, 0, 0  # carried across chunks: depth, within a string, trailing backslashes
    for start in range(0, len(body), _SCAN_CHUNK):
        chunk = np.frombuffer(body, np.uint8, count=min(_SCAN_CHUNK, len(body) - start), offset=start)
        pos = np.arange(len(chunk), dtype=np.int64)
        last_plain = np.maximum.accumulate(np.where(chunk == 0x5C, -1 - slashes, pos))  # last non-backslash
        run = pos - 1 - np.concatenate(([-1 - slashes], last_plain[:-1]))  # backslashes just before each byte
        quotes = np.cumsum((chunk == 0x22) & (run % 2 == 0), dtype=np.int64) + inside
        levels = level + np.cumsum(np.where(quotes % 2 == 1, 0, _DEPTH_STEP[chunk]), dtype=np.int64)
        if levels.max() > limit:
            return True
        level, inside, slashes = int(levels[-1]), int(quotes[-1] % 2), int(len(chunk) - 1 - last_plain[-1])
    return False


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name[:1].lower() + name[1:]
