"""Request parsing at the boundary: JSON depth, NUL and surrogates, the model's Java-style patterns."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from photosift.api.rekognition import shapes
from photosift.api.rekognition.errors import AwsError

# Strings full of what a depth scanner could trip on: brackets, quotes and backslashes inside strings.
tricky = st.text(alphabet='[]{}"\\ab\n', max_size=12)
values = st.recursive(st.none() | st.integers() | tricky,
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky, inner, max_size=3),
                      max_leaves=30)


def depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


@settings(max_examples=200, deadline=None)
@given(value=values, limit=st.integers(0, 8), chunk=st.integers(1, 16))
def test_nesting_scan_agrees_with_the_parser(value, limit, chunk):
    body = json.dumps(value).encode()
    with mock.patch.object(shapes, "_SCAN_CHUNK", chunk):  # small chunks: carries across chunk boundaries
        assert shapes.nesting_exceeds(body, limit) == (depth(value) > limit)


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet='[]{}"\\,:1 ', max_size=60), limit=st.integers(0, 4))
def test_nesting_scan_bounds_what_any_text_parses_to(text, limit):
    body = text.encode()
    try:
        parsed = json.loads(body)
    except ValueError:
        return
    if not shapes.nesting_exceeds(body, limit):
        assert depth(parsed) <= limit


def test_deep_bodies_are_refused_before_parsing():
    for body in (b"[" * 100_000, b'{"a":' * 33 + b"1" + b"}" * 33):
        with pytest.raises(AwsError) as err:
            shapes.parse_request("ListCollections", body)
        assert err.value.code == "SerializationException"
    fine = {"MaxResults": 5, "NextToken": None, "Unknown": [[["deep enough"]]]}
    assert shapes.parse_request("ListCollections", json.dumps(fine).encode()) == {"MaxResults": 5}  # null is absent


@pytest.mark.parametrize("text", ["nul\x00", "lone\ud800", "\udfff"])
def test_nul_and_unpaired_surrogates_are_invalid_parameters(text):
    for operation, body in (("CreateCollection", {"CollectionId": text}),
                            ("DetectFaces", {"Image": {"S3Object": {"Bucket": "bucket", "Name": text}}})):
        with pytest.raises(AwsError) as err:
            shapes.parse_request(operation, json.dumps(body).encode())
        assert err.value.code == "InvalidParameterException" and "NUL" in err.value.message


def test_the_models_unicode_patterns_compile_and_apply():
    body = {"CollectionId": "c", "Tags": {"Équipe 1": "ü/2"}}
    ok = shapes.parse_request("CreateCollection", json.dumps(body).encode())
    assert ok["Tags"] == {"Équipe 1": "ü/2"}
    with pytest.raises(AwsError) as err:
        shapes.parse_request("CreateCollection", b'{"CollectionId": "c", "Tags": {"aws:owner": "x"}}')
    assert "tags.key" in err.value.message
