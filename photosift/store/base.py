"""Blob storage interface: content-addressed photos plus plain bucket/key reads (for Rekognition ``S3Object``)."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod


def content_key(data: bytes, prefix: str = "photos") -> str:
    """The content-addressed key of ``data``: ``<prefix>/<sha256[:2]>/<sha256>``."""
    digest = hashlib.sha256(data).hexdigest()
    return f"{prefix}/{digest[:2]}/{digest}"


class BlobStore(ABC):
    """Where photo bytes live. Implementations: ``LocalStore`` (a folder) and ``S3Store`` (any S3-compatible server)."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` durably (fsync'd / acknowledged by the server) before returning."""

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The bytes under ``key``; raises ``photosift.errors.NotFound``."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; deleting a missing key is not an error."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""

    @abstractmethod
    def get_object(self, bucket: str, name: str, version: str | None = None) -> bytes:
        """Bytes of an object addressed the S3 way (Rekognition ``S3Object``); raises ``NotFound``."""

    def put_content(self, data: bytes, prefix: str = "photos") -> str:
        """Store ``data`` under its content address (once, however often it is uploaded); return the key."""
        key = content_key(data, prefix)
        if not self.exists(key):
            self.put(key, data)
        return key
