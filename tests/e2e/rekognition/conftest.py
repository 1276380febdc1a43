"""Fixtures: a SigV4-protected server (session), one whose store is a real S3 (moto; session), and boto3 clients whose
every reply is checked against botocore's model."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import boto3
import numpy as np
import pytest
from botocore.config import Config
from rk_helpers import BUCKET, CREDENTIALS, S3_FACE, ResponseChecker, Server, free_port, jpeg, start_server

S3_ENV = {"AWS_ACCESS_KEY_ID": "moto", "AWS_SECRET_ACCESS_KEY": "moto", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that requires SigV4 with ``CREDENTIALS``."""
    pairs = ",".join(f"{k}:{v}" for k, v in CREDENTIALS.items())
    running = start_server(tmp_path_factory.mktemp("photosift-rk"), pairs)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[str]:
    """A real S3-compatible server (moto) on loopback: its URL (any credentials, e.g. ``S3_ENV``)."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    s3.start()
    yield f"http://127.0.0.1:{port}"
    s3.stop()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory, moto_s3: str, astronaut_jpeg: bytes) -> Iterator[Server]:
    """A server like ``server`` whose store is bucket ``sdk-store`` of ``moto_s3``: an ``S3Object`` is a real S3
    object there (``BUCKET``/``S3_FACE`` holds the astronaut photo)."""
    s3 = boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1", aws_access_key_id="moto",
                      aws_secret_access_key="moto")
    for bucket in ("sdk-store", BUCKET):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=BUCKET, Key=S3_FACE, Body=astronaut_jpeg)
    pairs = ",".join(f"{k}:{v}" for k, v in CREDENTIALS.items())
    running = start_server(tmp_path_factory.mktemp("photosift-rk-s3"), pairs, PHOTOSIFT_STORE_URL="s3://sdk-store/data",
                           PHOTOSIFT_S3_ENDPOINT_URL=moto_s3, **S3_ENV)
    yield running
    running.stop()


@pytest.fixture()
def checker() -> Iterator[ResponseChecker]:
    check = ResponseChecker()
    yield check
    assert not check.violations, "\n".join(check.violations)


@pytest.fixture()
def make_client(server: Server, checker: ResponseChecker) -> Callable[..., object]:
    """``make_client(key=..., secret=..., region=..., url=...)`` -> a boto3 Rekognition client (no retries)."""

    def make(key: str = "AKIDPHOTOSIFTTEST01", secret: str | None = None, region: str = "eu-west-1",
             url: str | None = None) -> object:
        client = boto3.client(
            "rekognition", endpoint_url=url or server.url, region_name=region, aws_access_key_id=key,
            aws_secret_access_key=secret if secret is not None else CREDENTIALS.get(key, "x"),
            config=Config(retries={"total_max_attempts": 1}, read_timeout=120),
        )
        client.meta.events.register("after-call.rekognition", checker)
        return client

    return make


@pytest.fixture()
def rek(make_client: Callable[..., object]) -> object:
    """A boto3 Rekognition client with valid credentials."""
    return make_client()


@pytest.fixture(scope="session")
def astronaut_jpeg(astronaut: np.ndarray) -> bytes:
    """The astronaut photo (one real face), JPEG."""
    return jpeg(astronaut)
