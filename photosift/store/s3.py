"""``S3Store``: blobs in a bucket of any S3-compatible server (AWS, MinIO, Ceph, moto), through boto3."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, BinaryIO
from urllib.parse import urlparse

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from photosift.errors import InsufficientStorage, InvalidInput, NotFound, StoreUnavailable
from photosift.store.base import BlobStore

__all__ = ["S3Store", "StoreUnavailable"]

_MISSING = {"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "404", "NotFound", "InvalidArgument"}
_FULL = {"XMinioStorageFull", "InsufficientStorage", "StorageFull", "507"}  # MinIO, Ceph and plain HTTP 507
# Uploads stream from the file: one PUT up to 64 MB (above the default upload limit), else 16 MB parts one at a time,
# so one upload holds at most one part in memory.
_TRANSFER = TransferConfig(multipart_threshold=64 << 20, multipart_chunksize=16 << 20, use_threads=False)


class S3Store(BlobStore):
    """Blobs under ``s3://bucket/prefix/<key>``. Credentials and region come from boto3's usual sources
    (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, profiles, instance roles).

    ``put`` returns once the server acknowledged the write (S3's durability contract). ``get_object`` reads any
    bucket the credentials can read, with an optional object version.
    """

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None, client: Any = None) -> None:
        if not bucket:
            raise InvalidInput("S3 store URL needs a bucket: s3://bucket/prefix")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client or boto3.client(
            "s3", endpoint_url=endpoint_url, config=Config(retries={"max_attempts": 5, "mode": "standard"})
        )

    @classmethod
    def from_url(cls, url: str, *, endpoint_url: str | None = None) -> S3Store:
        """An ``S3Store`` for ``s3://bucket/prefix``."""
        parsed = urlparse(url)
        if parsed.scheme != "s3":
            raise InvalidInput(f"not an s3:// URL: {url!r}")
        return cls(parsed.netloc, parsed.path, endpoint_url=endpoint_url)

    def __repr__(self) -> str:
        return f"S3Store('s3://{self.bucket}/{self.prefix}')"

    def __reduce__(self) -> tuple:
        """Pickled (e.g. to an analysis process) as its address: the receiving process opens its own client, once."""
        return _shared_store, (self.bucket, self.prefix, self.client.meta.endpoint_url)

    def put(self, key: str, data: bytes) -> None:
        self._call("put", key, self.client.put_object, Bucket=self.bucket, Key=self._key(key), Body=data)

    def put_file(self, key: str, file: BinaryIO) -> None:
        self._call("put", key, self.client.upload_fileobj, file, self.bucket, self._key(key), Config=_TRANSFER)

    def get(self, key: str) -> bytes:
        return self._call("get", key, self._read, Bucket=self.bucket, Key=self._key(key))

    def delete(self, key: str) -> None:
        self._call("delete", key, self.client.delete_object, Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        try:
            self._call("head", key, self.client.head_object, Bucket=self.bucket, Key=self._key(key))
        except NotFound:
            return False
        return True

    def get_object(self, bucket: str, name: str, version: str | None = None) -> bytes:
        args: dict[str, Any] = {"Bucket": bucket, "Key": name}
        if version:
            args["VersionId"] = version
        return self._call("get", f"s3://{bucket}/{name}", self._read, **args)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _read(self, **kwargs: Any) -> bytes:
        return self.client.get_object(**kwargs)["Body"].read()  # reading the body may fail too (cut connection)

    def _call(self, action: str, what: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _MISSING:
                raise NotFound(f"no blob {what!r}") from exc
            if code in _FULL or status == 507:
                raise InsufficientStorage(f"S3 {action} of {what!r}: the S3 server has no space left ({code})") from exc
            raise StoreUnavailable(f"S3 {action} of {what!r} failed: {code or exc}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"S3 {action} of {what!r} failed: {exc}") from exc


@lru_cache(maxsize=8)
def _shared_store(bucket: str, prefix: str, endpoint_url: str | None) -> S3Store:
    return S3Store(bucket, prefix, endpoint_url=endpoint_url)
