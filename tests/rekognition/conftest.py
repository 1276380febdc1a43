"""Fixtures: a SigV4-protected server (session), boto3 clients whose every reply is checked against botocore's model."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import boto3
import numpy as np
import pytest
from botocore.config import Config
from rk_helpers import CREDENTIALS, ResponseChecker, Server, jpeg, start_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that requires SigV4 with ``CREDENTIALS``."""
    pairs = ",".join(f"{k}:{v}" for k, v in CREDENTIALS.items())
    running = start_server(tmp_path_factory.mktemp("photosift-rk"), pairs)
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
