"""``S3Store``: blobs in a bucket of any S3-compatible server (AWS, MinIO, Ceph, moto), through boto3."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from photosift.errors import InvalidInput, NotFound, PhotosiftError
from photosift.store.base import BlobStore

_MISSING = {"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "404", "NotFound", "InvalidArgument"}


class StoreUnavailable(PhotosiftError):
    """The S3 server could not be reached or refused the request."""


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

    def put(self, key: str, data: bytes) -> None:
        self._call("put", key, self.client.put_object, Bucket=self.bucket, Key=self._key(key), Body=data)

    def get(self, key: str) -> bytes:
        reply = self._call("get", key, self.client.get_object, Bucket=self.bucket, Key=self._key(key))
        return reply["Body"].read()

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
        reply = self._call("get", f"s3://{bucket}/{name}", self.client.get_object, **args)
        return reply["Body"].read()

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _call(self, action: str, what: str, method: Any, **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                raise NotFound(f"no blob {what!r}") from exc
            raise StoreUnavailable(f"S3 {action} of {what!r} failed: {code or exc}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"S3 {action} of {what!r} failed: {exc}") from exc
