"""The native API's boundary against real servers: Host and Origin rules, typed 4xx for bad input on SQLite and
PostgreSQL, SSE positions checked before the stream starts, and a kept connection after a 500."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from service_support import Server, free_port, upload

pytestmark = pytest.mark.integration

EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A keyless server (loopback only)."""
    with Server(tmp_path_factory.mktemp("hardening") / "data").running() as running:
        yield running


def assert_error(response: httpx.Response, status: int, type_: str | None = None) -> dict:
    """``response`` is ``status`` with the native error shape (and type)."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"type", "message"} and error["message"]
    if type_ is not None:
        assert error["type"] == type_, error
    return error


def test_keyless_server_answers_only_requests_addressed_to_loopback(server: Server) -> None:
    port = server.port
    with server.client() as client:
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "localhost", "127.0.0.1"):
            assert client.get("/healthz", headers={"Host": host}).status_code == 200, host
        for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1:{port + 1}", f"localhost.evil.example:{port}",
                     f"127.0.0.1.nip.io:{port}", f"[::1]x:{port}", ""):
            for path in ("/healthz", "/", "/v1/albums", "/docs"):
                assert_error(client.get(path, headers={"Host": host}), 421, "MisdirectedRequest")
        assert_error(client.post("/v1/albums", json={"name": "rebound"}, headers={"Host": "evil.example"}), 421)
        assert all(a["name"] != "rebound" for a in client.get("/v1/albums").json())
        # The Rekognition endpoint refuses in the AWS error shape.
        refused = client.post("/", content=b"{}", headers={
            "Host": "evil.example", "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "RekognitionService.ListCollections"})
        assert refused.status_code == 421
        assert refused.json()["__type"] == "AccessDeniedException" == refused.headers["x-amzn-errortype"]


def test_cross_origin_writes_are_refused(server: Server, images: dict[str, bytes]) -> None:
    own = server.url
    with server.client() as client:
        album = client.post("/v1/albums", json={"name": "origin"}).json()["id"]
        # A page of another site uploads into an album whose id it knows: refused, nothing stored.
        files = [("files", ("x.jpg", images["scene"], "image/jpeg"))]
        assert_error(client.post(f"/v1/albums/{album}/photos", files=files, headers={"Origin": EVIL}), 403,
                     "AccessDenied")
        for headers in ({"Origin": EVIL}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
                        {"Origin": own, "Sec-Fetch-Site": "cross-site"},
                        {"Origin": own.replace("127.0.0.1", "localhost")},
                        {"Origin": f"http://127.0.0.1:{server.port + 1}"}):
            assert_error(client.post("/v1/albums", json={"name": "forged"}, headers=headers), 403, "AccessDenied")
            assert_error(client.delete(f"/v1/albums/{album}", headers=headers), 403)
        assert client.get(f"/v1/albums/{album}").json()["photos"] == 0
        assert all(a["name"] != "forged" for a in client.get("/v1/albums").json())
        # Reads are not refused (the browser keeps their answers from the other page: no CORS headers).
        read = client.get(f"/v1/albums/{album}", headers={"Origin": EVIL})
        assert read.status_code == 200 and "access-control-allow-origin" not in read.headers
        # The app's own pages (same origin), and clients that send no Origin (curl, SDKs), may write.
        for headers in ({"Origin": own}, {"Origin": own, "Sec-Fetch-Site": "same-origin"}, {}):
            assert client.post("/v1/albums", json={"name": "mine"}, headers=headers).status_code == 201
        assert upload(client, album, [("x.jpg", images["scene"])]).status_code == 202
        refused = client.post("/", content=b"{}", headers={"Origin": EVIL, "Content-Type": "application/x-amz-json-1.1",
                                                           "X-Amz-Target": "RekognitionService.DeleteCollection"})
        assert refused.status_code == 403 and refused.json()["__type"] == "AccessDeniedException"


def test_keys_protect_any_host_and_allowed_origins_may_write(make_server) -> None:  # noqa: ANN001 - fixture
    server = make_server("keyed", api_key="k-123", env={
        "PHOTOSIFT_API_KEYS": "k-123", "PHOTOSIFT_ALLOWED_ORIGINS": "https://photos.example, http://lan.example:8080"})
    with server.client() as client:
        assert client.get("/v1/albums", headers={"Host": "photos.example"}).status_code == 200
        assert_error(client.get("/v1/albums", headers={"Authorization": "Bearer wrong"}), 401, "AccessDenied")
        assert_error(client.post("/v1/albums", json={"name": "x"}, headers={"Origin": EVIL}), 403, "AccessDenied")
        for origin in ("https://photos.example", "HTTPS://Photos.Example:443", "http://lan.example:8080"):
            allowed = client.post("/v1/albums", json={"name": "x"},
                                  headers={"Origin": origin, "Sec-Fetch-Site": "cross-site"})
            assert allowed.status_code == 201, (origin, allowed.text)
        # Behind a reverse proxy that forwards Host, the page's https origin is the request's own.
        proxied = client.post("/v1/albums", json={"name": "x"},
                              headers={"Host": "album.example", "Origin": "https://album.example"})
        assert proxied.status_code == 201


def _sse_head(client: httpx.Client, url: str, **kwargs) -> tuple[int, str, list[str]]:  # noqa: ANN003
    """Status, content type and the first lines of an event stream (read for at most ~1 s; a stream that ends or
    breaks in that time fails the test)."""
    lines: list[str] = []
    with client.stream("GET", url, timeout=httpx.Timeout(10, read=1.0), **kwargs) as response:
        if response.status_code != 200:
            response.read()
            return response.status_code, response.headers["content-type"], [response.text]
        try:
            for line in response.iter_lines():
                lines.append(line)
                if len(lines) >= 12:
                    break
            else:
                raise AssertionError(f"the event stream ended early: {lines}")
        except httpx.ReadTimeout:  # open and idle
            pass
        return 200, response.headers["content-type"], lines


def test_event_positions_are_checked_before_the_stream_starts(server: Server, images: dict[str, bytes]) -> None:
    with server.client() as client:
        album = client.post("/v1/albums", json={"name": "sse"}).json()["id"]
        url = f"/v1/albums/{album}/events"
        for after in ("10000000000000000000000000", str(2**63), "-1", "\u0661\u0662", "1e3", "abc"):
            status, content_type, body = _sse_head(client, url, params={"after": after})
            assert (status, content_type) == (400, "application/json"), (after, body)
            assert json.loads(body[0])["error"]["type"] == "InvalidInput"
        for last in ("9" * 5000, str(2**63), "\u0661\u0662".encode(), "abc", "-5", "1.5"):
            headers = [(b"last-event-id", last.encode() if isinstance(last, str) else last)]
            status, content_type, body = _sse_head(client, url, headers=headers)
            assert (status, content_type) == (400, "application/json"), (last, body)
        # The largest id is valid: the stream starts and stays open (no events after it).
        status, _, lines = _sse_head(client, url, headers={"Last-Event-ID": str(2**63 - 1)})
        assert status == 200 and lines[0] == "retry: 2000" and not any(line.startswith("id:") for line in lines)
        # Two events; resuming after the first replays the second (Last-Event-ID overrides ?after).
        for name in ("a.jpg", "b.jpg"):
            assert upload(client, album, [(name, images[name[0] == "a" and "scene" or "blurry"])]).status_code == 202
        status, _, lines = _sse_head(client, url)
        ids = [int(line[4:]) for line in lines if line.startswith("id: ")]
        assert status == 200 and len(ids) >= 2
        _, _, resumed = _sse_head(client, url, params={"after": 0}, headers={"Last-Event-ID": str(ids[0])})
        assert [int(line[4:]) for line in resumed if line.startswith("id: ")][0] == ids[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_server(request: pytest.FixtureRequest, make_server) -> Server:  # noqa: ANN001 - fixture
    """A server on each catalog (PostgreSQL refuses NUL bytes and over-long values where SQLite stores them)."""
    env = {}
    if request.param == "postgresql":
        env["PHOTOSIFT_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    return make_server(request.param, env=env)


def test_bad_input_is_a_typed_400_on_every_catalog(catalog_server: Server, images: dict[str, bytes]) -> None:
    with catalog_server.client() as client:
        album = client.post("/v1/albums", json={"name": "  Trip  "}).json()
        assert album["name"] == "Trip"
        aid = album["id"]
        assert client.post("/v1/albums", json={"name": "n" * 200}).status_code == 201
        for body in ({"name": "a\x00b"}, {"name": "n" * 201}, {"name": "n" * 900_000}, {"name": "bell\x07"},
                     {"name": "   "}, {"name": ""}, {"name": "x", "threshold": 101}, {"name": "x", "threshold": -1},
                     {"name": 5}, {}):
            status = 413 if len(json.dumps(body)) > 1 << 20 else 400
            assert_error(client.post("/v1/albums", json=body), status)
        for raw in (b'{"name": "\\ud800"}', b'{"name": "x", "threshold": NaN}', b"[" * 100_000, b'{"name": "x"',
                    b"\xff\xfe"):
            assert_error(client.post("/v1/albums", content=raw, headers={"Content-Type": "application/json"}), 400)
        # Member names are checked before any photo is looked at.
        files = [("files", ("ann.jpg", images["face"], "image/jpeg"))]
        for name in ("a\x00b", "m" * 201, "tab\tname", " "):
            created = client.post(f"/v1/albums/{aid}/members", data={"name": name}, files=files)
            assert_error(created, 400, "InvalidInput")
        for filename in (b"r" * 600 + b".jpg", b"nul\x00.jpg", b"ctl\x1b[31m.jpg"):  # sent as is (httpx escapes)
            body = (b'--B\r\nContent-Disposition: form-data; name="name"\r\n\r\nAnn\r\n--B\r\nContent-Disposition: '
                    b'form-data; name="files"; filename="' + filename + b'"\r\nContent-Type: image/jpeg\r\n\r\n'
                    + images["face"] + b"\r\n--B--\r\n")
            created = client.post(f"/v1/albums/{aid}/members", content=body,
                                  headers={"Content-Type": "multipart/form-data; boundary=B"})
            assert "file name" in assert_error(created, 400, "InvalidInput")["message"]
        assert client.get(f"/v1/albums/{aid}/members").json() == []
        # Photo uploads: a bad file name refuses that file only; the good file of the batch is stored.
        body = b"".join(b'--B\r\nContent-Disposition: form-data; name="files"; filename="' + name
                        + b'"\r\nContent-Type: image/jpeg\r\n\r\n' + images["face"] + b"\r\n"
                        for name in (b"r" * 600 + b".jpg", b"nul\x00.jpg", b"good.jpg")) + b"--B--\r\n"
        reply = client.post(f"/v1/albums/{aid}/photos", content=body,
                            headers={"Content-Type": "multipart/form-data; boundary=B"})
        assert reply.status_code == 202, reply.text
        results = reply.json()["photos"]
        assert [r.get("error", {}).get("type") for r in results] == ["InvalidInput", "InvalidInput", None]
        assert results[2]["filename"] == "good.jpg" and results[2]["status"] == "pending"
        # Ids: malformed ones are refused before any query; lists are capped.
        for path in (f"/v1/albums/{aid}%00", "/v1/albums/" + "a" * 65, f"/v1/albums/{aid}/people/x%20y",
                     "/v1/photos/a%00b", f"/v1/albums/{aid}/members/" + "m" * 5000,
                     f"/v1/albums/{aid}/photos?member=%00"):
            assert_error(client.get(path), 400, "InvalidInput")
        for face_ids in (["f"] * 1001, ["f"] * 70_000, ["a\x00b"], ["x" * 65], [], [5]):
            assert_error(client.post(f"/v1/albums/{aid}/people", json={"face_ids": face_ids}), 400, "InvalidInput")
        assert_error(client.post(f"/v1/albums/{aid}/people", json={"face_ids": ["f"] * 1000}), 404, "NotFound")
        for body in ({"name": "p\x00"}, {"name": "p" * 201}):
            assert_error(client.post(f"/v1/albums/{aid}/people/unknown/rename", json=body), 400, "InvalidInput")
        assert_error(client.post(f"/v1/albums/{aid}/people/merge", json={"source": "a\x00", "target": "b"}), 400)
        assert_error(client.post(f"/v1/albums/{aid}/faces/f1/move", json={"person_id": "p" * 100}), 400)
        # Any event position in range is served (the stream starts and stays open), beyond it refused.
        for params in ({"after": 2**63 - 1}, {"after": 2**31}):
            status, _, lines = _sse_head(client, f"/v1/albums/{aid}/events", params=params)
            assert status == 200 and lines[0] == "retry: 2000"
        status, _, _ = _sse_head(client, f"/v1/albums/{aid}/events", params={"after": 2**63})
        assert status == 400
        # The server is unharmed.
        assert client.get(f"/v1/albums/{aid}").json()["name"] == "Trip"


def test_a_500_leaves_the_connection_usable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After an unexpected error the server answers a JSON 500 and keeps the keep-alive connection."""
    import uvicorn

    from photosift.api.app import create_app
    from photosift.application import albums
    from photosift.config import Settings

    def broken(*args, **kwargs) -> None:  # noqa: ANN002, ANN003
        raise RuntimeError("a bug")

    monkeypatch.setattr(albums, "list_albums", broken)
    port = free_port()
    app = create_app(Settings(data_dir=tmp_path / "data", port=port, workers=1))
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not uv.started and time.monotonic() < deadline:
            time.sleep(0.05)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/v1/albums")
        failed = connection.getresponse()
        body = json.loads(failed.read())
        assert failed.status == 500 and body == {"error": {"type": "InternalError", "message": "internal server error"}}
        sock = connection.sock
        assert sock is not None  # not closed by the server's "Connection: close"
        connection.request("GET", "/healthz")  # the same socket: a reset connection raises here
        ok = connection.getresponse()
        assert ok.status == 200 and json.loads(ok.read()) == {"status": "ok"} and connection.sock is sock
        connection.close()
    finally:
        uv.should_exit = True
        thread.join(15)
