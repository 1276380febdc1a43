"""NextToken: every key round-trips within AWS's 255 characters; anything else is InvalidPaginationTokenException."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from photosift.api.rekognition import paging
from photosift.api.rekognition.errors import AwsError

keys = st.text(alphabet=paging.ALPHABET, min_size=1, max_size=255)


@settings(max_examples=200, deadline=None)
@given(key=keys, scope=st.text(max_size=40))
def test_tokens_round_trip_and_fit_the_models_limit(key, scope):
    token = paging.encode("ListCollections", scope, key)
    assert 0 < len(token) <= 255 and token.isascii()
    assert paging.decode("ListCollections", scope, token) == key


def test_a_token_is_only_valid_for_its_operation_and_collection():
    token = paging.encode("ListUsers", "family", "anna")
    assert paging.decode("ListUsers", "family", token) == "anna"
    for operation, scope in (("ListUsers", "work"), ("ListFaces", "family"), ("ListCollections", "")):
        with pytest.raises(AwsError) as err:
            paging.decode(operation, scope, token)
        assert err.value.code == "InvalidPaginationTokenException"
    assert paging.decode("ListUsers", "family", None) is None and paging.decode("ListUsers", "family", "") is None


@settings(max_examples=300, deadline=None)
@given(token=st.text(min_size=1, max_size=255) | keys)
def test_foreign_tokens_are_refused(token):
    with pytest.raises(AwsError) as err:
        paging.decode("ListCollections", "", token)
    assert err.value.code == "InvalidPaginationTokenException"
