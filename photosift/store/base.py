"""Blob storage interface: content-addressed photos plus plain bucket/key reads (for Rekognition ``S3Object``)."""

from __future__ import annotations

import hashlib
import io
from abc import ABC, abstractmethod
from typing import BinaryIO

CHUNK = 1 << 20  # bytes per read/write when blobs are copied or hashed as streams


def content_key(data: bytes, prefix: str = "photos") -> str:
    """The content-addressed key of ``data``: ``<prefix>/<sha256[:2]>/<sha256>``."""
    digest = hashlib.sha256(data).hexdigest()
    return f"{prefix}/{digest[:2]}/{digest}"


class BlobStore(ABC):
    """Where photo bytes live. Implementations: ``LocalStore`` (a folder) and ``S3Store`` (any S3-compatible server)."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` durably (fsync'd / acknowledged by the server) before returning."""

    def put_file(self, key: str, file: BinaryIO) -> None:
        """Store the rest of ``file`` (from its current position) under ``key``, durably, reading it in chunks of
        ``CHUNK`` bytes (memory does not grow with the file's size). The default reads it whole: implementations
        override it to stream."""
        self.put(key, file.read())

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
        return self.put_content_file(io.BytesIO(data), prefix)[0]

    def put_content_file(self, file: BinaryIO, prefix: str = "photos") -> tuple[str, str]:
        """Store ``file`` (read from its start, in chunks) under its content address, once however often it is
        uploaded; returns ``(key, sha256 hex digest)``."""
        digest = sha256_file(file)
        key = f"{prefix}/{digest[:2]}/{digest}"
        if not self.exists(key):
            file.seek(0)
            self.put_file(key, file)
        return key, digest


def sha256_file(file: BinaryIO) -> str:
    """The SHA-256 hex digest of ``file`` from its start, read in chunks (``hashlib`` releases the GIL)."""
    file.seek(0)
    return hashlib.file_digest(file, "sha256").hexdigest()  # type: ignore[arg-type]  # any binary file reads
