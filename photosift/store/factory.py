"""Pick the store implementation from a URL: a folder path (default) or ``s3://bucket/prefix``."""

from __future__ import annotations

from pathlib import Path

from photosift.config import Settings
from photosift.store.base import BlobStore
from photosift.store.local import LocalStore


def open_store(url: str, *, endpoint_url: str | None = None, buckets_root: str | Path | None = None) -> BlobStore:
    """A ``BlobStore`` for ``url``: ``s3://bucket/prefix`` (with an optional ``endpoint_url``) or a folder path."""
    if url.startswith("s3://"):
        from photosift.store.s3 import S3Store  # boto3 is imported only when S3 is used

        return S3Store.from_url(url, endpoint_url=endpoint_url)
    if url.startswith("file://"):
        url = url[len("file://"):]
    return LocalStore(url, buckets_root=buckets_root)


def store_from_settings(settings: Settings) -> BlobStore:
    """The store ``settings`` configure; local buckets for ``get_object`` live in ``<data_dir>/buckets``."""
    return open_store(
        settings.resolved_store_url,
        endpoint_url=settings.s3_endpoint_url,
        buckets_root=(settings.data_dir / "buckets").resolve(),
    )
