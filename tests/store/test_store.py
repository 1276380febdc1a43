"""Blob stores: the local folder store and the S3 store against a real S3-compatible server (moto)."""

from __future__ import annotations

import boto3
import pytest

from photosift.errors import InvalidInput, NotFound
from photosift.store import content_key, open_store
from photosift.store.local import LocalStore
from photosift.store.s3 import S3Store


def _exercise(store) -> None:
    data = b"\xff\xd8 some photo bytes"
    key = store.put_content(data)
    assert key == content_key(data)
    assert key.startswith("photos/") and len(key.rsplit("/", 1)[1]) == 64
    assert store.exists(key)
    assert store.get(key) == data
    assert store.put_content(data) == key  # same bytes: same key, stored once
    store.delete(key)
    store.delete(key)  # deleting a missing key is fine
    assert not store.exists(key)
    with pytest.raises(NotFound):
        store.get(key)


def test_local_store_round_trip_and_buckets(tmp_path) -> None:
    store = open_store(str(tmp_path / "blobs"), buckets_root=tmp_path / "buckets")
    assert isinstance(store, LocalStore)
    _exercise(store)
    (tmp_path / "buckets" / "photos-in" / "2024").mkdir(parents=True)
    (tmp_path / "buckets" / "photos-in" / "2024" / "a.jpg").write_bytes(b"abc")
    assert store.get_object("photos-in", "2024/a.jpg") == b"abc"
    with pytest.raises(NotFound):
        store.get_object("photos-in", "2024/missing.jpg")
    with pytest.raises(NotFound):
        store.get_object("photos-in", "2024/a.jpg", version="v2")
    with pytest.raises(InvalidInput):
        store.get_object("photos-in", "../../etc/passwd")
    with pytest.raises(InvalidInput):
        store.get("/etc/passwd")
    assert not list((tmp_path / "blobs").rglob(".tmp-*"))  # atomic writes leave no temporaries


def test_local_store_keeps_only_whole_files(tmp_path) -> None:
    store = LocalStore(tmp_path)
    store.put("a/b", b"one")
    store.put("a/b", b"two")  # replaced atomically
    assert store.get("a/b") == b"two"


@pytest.mark.integration
def test_s3_store_against_moto(moto_s3) -> None:
    client = boto3.client("s3", endpoint_url=moto_s3["PHOTOSIFT_S3_ENDPOINT_URL"])
    client.create_bucket(Bucket="blobs")
    client.create_bucket(Bucket="inbox")
    client.put_bucket_versioning(Bucket="inbox", VersioningConfiguration={"Status": "Enabled"})
    store = open_store("s3://blobs/tenant-a", endpoint_url=moto_s3["PHOTOSIFT_S3_ENDPOINT_URL"])
    assert isinstance(store, S3Store)
    _exercise(store)
    key = store.put_content(b"xyz")
    listed = [o["Key"] for o in client.list_objects_v2(Bucket="blobs")["Contents"]]
    assert listed == [f"tenant-a/{key}"]
    first = client.put_object(Bucket="inbox", Key="p/1.jpg", Body=b"v1")["VersionId"]
    client.put_object(Bucket="inbox", Key="p/1.jpg", Body=b"v2")
    assert store.get_object("inbox", "p/1.jpg") == b"v2"
    assert store.get_object("inbox", "p/1.jpg", first) == b"v1"
    with pytest.raises(NotFound):
        store.get_object("inbox", "p/none.jpg")
    with pytest.raises(NotFound):
        store.get_object("no-such-bucket", "x")
