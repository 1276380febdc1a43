"""Blob storage: ``LocalStore`` (a folder, the default) or ``S3Store`` (any S3-compatible server), by URL."""

from photosift.store.base import BlobStore, content_key
from photosift.store.factory import open_store, store_from_settings

__all__ = ["BlobStore", "content_key", "open_store", "store_from_settings"]
