"""``LocalStore``: blobs as files in a folder, written atomically and fsync'd before ``put`` returns.

A full disk raises ``InsufficientStorage``, other I/O failures ``StoreUnavailable`` (never a bare ``OSError``).
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from photosift.errors import InvalidInput, NotFound
from photosift.store.base import CHUNK, BlobStore
from photosift.store.failures import os_failure


class LocalStore(BlobStore):
    """Blobs under ``root`` (``<root>/<key>``); S3-style buckets under ``buckets_root/<bucket>/<name>``.

    ``get_object`` serves Rekognition ``S3Object`` references on a server without S3: put a file at
    ``<data_dir>/buckets/<bucket>/<name>`` and refer to it as ``{"Bucket": bucket, "Name": name}``. Versions are
    not kept: a ``version`` other than ``None`` or ``"null"`` is ``NotFound``.
    """

    def __init__(self, root: str | Path, buckets_root: str | Path | None = None) -> None:
        self.root = Path(root).resolve()
        self.buckets_root = Path(buckets_root).resolve() if buckets_root else self.root.parent / "buckets"
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def put(self, key: str, data: bytes) -> None:
        self.put_file(key, io.BytesIO(data))

    def put_file(self, key: str, file: BinaryIO) -> None:
        path = self._path(key)
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                shutil.copyfileobj(file, handle, CHUNK)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
            tmp = None
            _fsync_dir(path.parent)
        except OSError as exc:
            raise os_failure(exc, f"blob {key!r}") from exc
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFound(f"no blob {key!r}") from exc
        except OSError as exc:
            raise os_failure(exc, f"blob {key!r}") from exc

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise os_failure(exc, f"blob {key!r}") from exc

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except OSError as exc:  # is_file() answers False for a missing file; anything else is a failing disk
            raise os_failure(exc, f"blob {key!r}") from exc

    def get_object(self, bucket: str, name: str, version: str | None = None) -> bytes:
        if version not in (None, "", "null"):
            raise NotFound(f"object s3://{bucket}/{name} has no version {version!r} (local buckets keep no versions)")
        base = self.buckets_root / _safe_part(bucket)
        path = _inside(base, name)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFound(f"no object s3://{bucket}/{name}") from exc
        except OSError as exc:
            raise os_failure(exc, f"object s3://{bucket}/{name}") from exc

    def _path(self, key: str) -> Path:
        return _inside(self.root, key)


def _safe_part(part: str) -> str:
    if not part or "/" in part or part in (".", ".."):
        raise InvalidInput(f"invalid bucket name {part!r}")
    return part


def _inside(base: Path, key: str) -> Path:
    """``base/key``, refusing keys that would escape ``base`` (absolute paths, ``..``)."""
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in key.split("/")):
        raise InvalidInput(f"invalid key {key!r}")
    return base / key


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
