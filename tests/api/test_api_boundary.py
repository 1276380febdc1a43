"""The API boundary in-process: Host/Origin parsing of ``photosift.api.middleware`` and the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

import pytest

from photosift.api.deps import is_loopback_name
from photosift.api.middleware import normal_origin, parse_origins, same_origin, split_host


def test_host_headers_are_parsed_strictly() -> None:
    assert split_host("127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert split_host("[::1]:8000") == ("::1", 8000) and split_host("[::1]") == ("::1", None)
    assert split_host("LocalHost") == ("localhost", None)
    for bad in ("", ":80", "[::1", "[::1]x", "a:b:c", "host:port", "host:99999999", "host:\u0661"):
        assert split_host(bad) is None, bad


def test_loopback_hosts() -> None:
    assert all(map(is_loopback_name, ("localhost", "127.0.0.1", "127.1.2.3", "::1")))
    assert not any(map(is_loopback_name, ("evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "0.0.0.0",
                                          "192.168.1.2", "::", "", "testclient")))  # a Host header may say anything


def test_origins() -> None:
    assert normal_origin("https://Photos.Example") == "https://photos.example:443"
    assert normal_origin("http://[::1]:8000/") == "http://[::1]:8000"
    assert normal_origin("null") is None and normal_origin("http://[bad") is None
    assert parse_origins(" https://a.example , ,http://b.example:81") == {"https://a.example:443",
                                                                          "http://b.example:81"}
    assert same_origin("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert same_origin("https://album.example", "album.example")  # TLS ended by a proxy that forwards Host
    assert same_origin("http://album.example", "album.example:80")
    assert not same_origin("http://127.0.0.1:8001", "127.0.0.1:8000")
    assert not same_origin("http://localhost:8000", "127.0.0.1:8000")
    assert not same_origin("https://evil.example", "127.0.0.1:8000")
    assert not same_origin("null", "127.0.0.1:8000") and not same_origin("http://a.example", None)


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from photosift.api.app import create_app
    from photosift.config import Settings

    return create_app(Settings(data_dir=Path(tmp_path_factory.mktemp("openapi")))).openapi()


def test_openapi_lists_error_responses(openapi: dict) -> None:
    """Every native operation documents its 400 and 404 (and 401/403) answers with the error shape, and none the
    FastAPI default 422 body it never sends."""
    error = {"$ref": "#/components/schemas/ErrorBody"}
    operations = [(path, method, op) for path, item in openapi["paths"].items() if path.startswith("/v1/")
                  for method, op in item.items()]
    assert len(operations) >= 20
    for path, method, op in operations:
        for status in ("400", "401", "403", "404"):
            assert op["responses"][status]["content"]["application/json"]["schema"] == error, (method, path, status)
        assert "HTTPValidationError" not in str(op["responses"]), (method, path)


def test_album_threshold_is_optional_in_responses(openapi: dict) -> None:
    album = openapi["components"]["schemas"]["Album"]
    assert "threshold" in album["properties"] and "threshold" not in album["required"]


def test_an_upload_body_is_capped(tmp_path: Path) -> None:
    """A multipart body may hold ``max_files_per_request`` files of ``max_upload_bytes`` (plus part headers) and no
    more: a larger declared length is refused at once, a larger chunked body once it passes the cap (413)."""
    from fastapi.testclient import TestClient

    from photosift.api.app import create_app
    from photosift.api.middleware import PART_OVERHEAD
    from photosift.config import Settings

    settings = Settings(data_dir=tmp_path, max_upload_bytes=1000, max_files_per_request=2)
    client = TestClient(create_app(settings), base_url="http://localhost")
    cap = 2 * (1000 + PART_OVERHEAD)
    album = client.post("/v1/albums", json={"name": "capped"}).json()["id"]
    url = f"/v1/albums/{album}/photos"
    declared = client.post(url, files=[("files", ("big.jpg", b"x" * (cap + 1), "image/jpeg"))])
    assert declared.status_code == 413 and declared.json()["error"]["type"] == "RequestTooLarge"
    assert "several requests" in declared.json()["error"]["message"]

    def chunks():  # no Content-Length: the body is counted as it arrives
        yield b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.jpg\"\r\n\r\n"
        for _ in range(cap // 65536 + 2):
            yield b"x" * 65536

    chunked = client.post(url, content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert chunked.status_code == 413 and chunked.json()["error"]["type"] == "RequestTooLarge"
    small = client.post(url, files=[("files", ("small.jpg", b"x" * 100, "image/jpeg"))])
    assert small.status_code == 400 and small.json()["photos"][0]["error"]["type"] == "InvalidImage"
