"""Access on a server with API keys: share links reach their album and nothing else (every route family), view-only
links write nothing, revocation and expiry act at once, owner sign-in sessions (key or password) with cookie rules,
secrets stored hashed and never logged."""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from service_support import Server, upload, wait_analysed

pytestmark = pytest.mark.integration

KEY = "owner-key-0123456789abcdef"
PASSWORD = "correct horse battery staple"
PASSWORD_HASH = PasswordHasher().hash(PASSWORD)
REKOGNITION = {"X-Amz-Target": "RekognitionService.ListCollections", "Content-Type": "application/x-amz-json-1.1"}


def keyed_env(**extra: str) -> dict[str, str]:
    return {"PHOTOSIFT_API_KEYS": f"another-key,{KEY}", "PHOTOSIFT_OWNER_PASSWORD_HASH": PASSWORD_HASH, **extra}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("access") / "data", keyed_env(), api_key=KEY).running() as running:
        yield running


@pytest.fixture(scope="module")
def albums(server: Server, images: dict[str, bytes]) -> dict[str, dict[str, str]]:
    """Two albums, each with a member, an analysed photo with a face, and (in B) an unknown face's person."""
    found: dict[str, dict[str, str]] = {}
    with server.client() as owner:
        for name, selfie, photo in (("A", "face", "face2"), ("B", "face", "face2")):
            album = owner.post("/v1/albums", json={"name": name}).json()["id"]
            member = owner.post(f"/v1/albums/{album}/members", data={"name": "Eileen"},
                                files=[("files", ("me.jpg", images[selfie], "image/jpeg"))]).json()
            photos = upload(owner, album, [("p.jpg", images[photo]), ("s.jpg", images["stranger"])]).json()["photos"]
            analysed = wait_analysed(owner, [p["id"] for p in photos])
            faces = [f for p in analysed.values() for f in p["faces"]]
            found[name] = {"album": album, "member": member["id"], "reference": member["references"][0]["id"],
                           "photo": photos[0]["id"], "face": faces[0]["id"]}
    return found


def share(server: Server, album: str, **body: object) -> dict:
    with server.client() as owner:
        reply = owner.post(f"/v1/albums/{album}/shares", json=body)
    assert reply.status_code == 201, reply.text
    return reply.json()


def bearer(server: Server, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def status_of(client: httpx.Client, method: str, path: str, **kwargs: object) -> tuple[int, str]:
    reply = client.request(method, path, **kwargs)
    error = reply.json().get("error", {}) if reply.headers.get("content-type", "").startswith("application/json") \
        and reply.status_code >= 400 else {}
    return reply.status_code, error.get("type", "")


def test_a_share_token_reaches_its_album_and_nothing_else(server: Server, albums: dict, images: dict) -> None:
    a, b = albums["A"], albums["B"]
    link = share(server, a["album"], label="friends", can_upload=True)
    assert set(link) >= {"id", "token", "url", "can_upload", "expires_at", "label"} and link["can_upload"] is True
    assert link["url"] == f"{server.url}/#share={link['token']}"
    with bearer(server, link["token"]) as visitor:
        reachable = [f"/v1/albums/{a['album']}", f"/v1/albums/{a['album']}/photos", f"/v1/albums/{a['album']}/faces",
                     f"/v1/albums/{a['album']}/members", f"/v1/albums/{a['album']}/members/{a['member']}",
                     f"/v1/albums/{a['album']}/people", f"/v1/albums/{a['album']}/people/unknown",
                     f"/v1/photos/{a['photo']}", f"/v1/photos/{a['photo']}/content",
                     f"/v1/photos/{a['photo']}/thumbnail?size=256"]
        for path in reachable:
            assert visitor.get(path).status_code == 200, path
        with visitor.stream("GET", f"/v1/albums/{a['album']}/events", timeout=httpx.Timeout(10, read=2)) as stream:
            assert stream.status_code == 200 and next(stream.iter_lines()) == "retry: 2000"

        # Every route family with the other album's ids: as if they did not exist.
        other = [("GET", f"/v1/albums/{b['album']}"), ("GET", f"/v1/albums/{b['album']}/photos"),
                 ("GET", f"/v1/albums/{b['album']}/faces"), ("GET", f"/v1/albums/{b['album']}/members"),
                 ("GET", f"/v1/albums/{b['album']}/members/{b['member']}"), ("GET", f"/v1/albums/{b['album']}/people"),
                 ("GET", f"/v1/albums/{b['album']}/people/unknown"), ("GET", f"/v1/albums/{b['album']}/events"),
                 ("GET", f"/v1/photos/{b['photo']}"), ("GET", f"/v1/photos/{b['photo']}/content"),
                 ("GET", f"/v1/photos/{b['photo']}/thumbnail"), ("DELETE", f"/v1/albums/{b['album']}"),
                 ("POST", f"/v1/albums/{b['album']}/faces/{b['face']}/move"),
                 ("POST", f"/v1/albums/{a['album']}/faces/{b['face']}/move"),  # B's face under A's path
                 ("POST", f"/v1/albums/{b['album']}/people"),
                 ("DELETE", f"/v1/albums/{b['album']}/members/{b['member']}")]
        for method, path in other:
            body = {"json": {}} if method == "POST" else {}
            assert status_of(visitor, method, path, **body) == (404, "NotFound"), (method, path)
        assert upload(visitor, b["album"], [("x.jpg", images["scene"])]).status_code == 404

        # What is no album's: the album list, new albums, status, share management, the Rekognition endpoint.
        for method, path, body in [("GET", "/v1/albums", None), ("POST", "/v1/albums", {"name": "mine"}),
                                   ("GET", "/v1/status", None), ("GET", f"/v1/albums/{a['album']}/shares", None),
                                   ("GET", f"/v1/albums/{b['album']}/shares", None),
                                   ("POST", f"/v1/albums/{a['album']}/shares", {}),
                                   ("DELETE", f"/v1/albums/{a['album']}/shares/{link['id']}", None)]:
            assert status_of(visitor, method, path, json=body) == (403, "Forbidden"), (method, path)
        refused = visitor.post("/", content=b"{}", headers=REKOGNITION)
        assert refused.status_code == 403 and refused.json()["__type"] == "AccessDeniedException"

        # An upload share adds photos, a member and corrections, but deletes nothing.
        assert upload(visitor, a["album"], [("visitor.jpg", images["blurry"])]).status_code == 202
        joined = visitor.post(f"/v1/albums/{a['album']}/members", data={"name": "Cameraman"},
                              files=[("files", ("selfie.jpg", images["stranger"], "image/jpeg"))])
        assert joined.status_code == 201, joined.text
        moved = visitor.post(f"/v1/albums/{a['album']}/faces/{a['face']}/move", json={"member_id": a["member"]})
        assert moved.status_code == 200, moved.text
        for method, path in [("DELETE", f"/v1/albums/{a['album']}"),
                             ("DELETE", f"/v1/albums/{a['album']}/members/{joined.json()['id']}"),
                             ("DELETE", f"/v1/albums/{a['album']}/members/{a['member']}/references/{a['reference']}")]:
            assert status_of(visitor, method, path) == (403, "Forbidden"), (method, path)
    with server.client() as owner:  # the owner (an API key) reaches everything, the share list included
        assert {x["id"] for x in owner.get("/v1/albums").json()} >= {a["album"], b["album"]}
        listed = owner.get(f"/v1/albums/{a['album']}/shares").json()
        assert [x["id"] for x in listed] == [link["id"]] and "token" not in listed[0]


def test_a_view_only_share_writes_nothing(server: Server, albums: dict, images: dict) -> None:
    a = albums["A"]
    link = share(server, a["album"])
    assert link["can_upload"] is False
    with bearer(server, link["token"]) as viewer:
        assert viewer.get(f"/v1/albums/{a['album']}/photos").status_code == 200
        refused = upload(viewer, a["album"], [("x.jpg", images["scene"])])
        assert refused.status_code == 403 and refused.json()["error"]["type"] == "Forbidden"
        assert viewer.post(f"/v1/albums/{a['album']}/members", data={"name": "Z"},
                           files=[("files", ("z.jpg", images["face"], "image/jpeg"))]).status_code == 403
        for method, path, body in [
                ("POST", f"/v1/albums/{a['album']}/faces/{a['face']}/move", {}),
                ("POST", f"/v1/albums/{a['album']}/faces/{a['face']}/reject", {"member_id": a["member"]}),
                ("POST", f"/v1/albums/{a['album']}/people", {"face_ids": [a["face"]]}),
                ("POST", f"/v1/albums/{a['album']}/members/{a['member']}/references", None),
                ("DELETE", f"/v1/albums/{a['album']}/members/{a['member']}", None),
                ("DELETE", f"/v1/albums/{a['album']}", None)]:
            assert status_of(viewer, method, path, json=body) == (403, "Forbidden"), (method, path)
    with server.client() as owner:
        assert owner.get(f"/v1/albums/{a['album']}/members/{a['member']}").status_code == 200


def test_revocation_and_expiry_take_effect_at_once(server: Server, albums: dict) -> None:
    a = albums["A"]
    link = share(server, a["album"], can_upload=True)
    anonymous = httpx.Client(base_url=server.url, timeout=30)
    signed_in = anonymous.post("/v1/session", json={"share_token": link["token"]})
    assert signed_in.status_code == 200 and signed_in.json()["album_id"] == a["album"]
    assert anonymous.get(f"/v1/albums/{a['album']}").status_code == 200  # the session cookie
    with server.client() as owner:
        assert owner.get(f"/v1/albums/{a['album']}/shares").json()[-1]["sessions"] == 1
    ended = threading.Event()

    def watch() -> None:  # an event stream opened with the share: it must end once the share is revoked
        with bearer(server, link["token"]) as visitor, visitor.stream(
                "GET", f"/v1/albums/{a['album']}/events", timeout=httpx.Timeout(10, read=30)) as stream:
            for _ in stream.iter_lines():
                pass
        ended.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with server.client() as owner:
        assert owner.delete(f"/v1/albums/{a['album']}/shares/{link['id']}").status_code == 204
        assert owner.delete(f"/v1/albums/{a['album']}/shares/{link['id']}").status_code == 404
    with bearer(server, link["token"]) as visitor:
        assert status_of(visitor, "GET", f"/v1/albums/{a['album']}") == (401, "AccessDenied")
    assert status_of(anonymous, "GET", f"/v1/albums/{a['album']}") == (401, "AccessDenied")
    assert anonymous.get("/v1/session").json()["signed_in"] is False
    assert anonymous.post("/v1/session", json={"share_token": link["token"]}).status_code == 401
    watcher.join(20)
    assert ended.is_set(), "the revoked share's event stream stayed open"

    # Expiry: a share whose time has passed opens nothing (set in the catalog: no test waits for a clock).
    late = share(server, a["album"], expires_in=3600)
    assert late["expires_at"] is not None
    with bearer(server, late["token"]) as visitor:
        assert visitor.get(f"/v1/albums/{a['album']}").status_code == 200
        with sqlite3.connect(server.data_dir / "catalog.sqlite3") as db:
            db.execute("UPDATE shares SET expires_at = '2001-01-01 00:00:00.000000' WHERE id = ?", (late["id"],))
        assert visitor.get(f"/v1/albums/{a['album']}").status_code == 401
    with server.client() as owner:
        assert [s["expired"] for s in owner.get(f"/v1/albums/{a['album']}/shares").json()
                if s["id"] == late["id"]] == [True]
        for body in ({"expires_in": 5}, {"expires_at": "2001-01-01T00:00:00Z"}, {"expires_in": 60, "expires_at":
                     "2100-01-01T00:00:00Z"}, {"label": "\u0000"}, {"can_upload": "maybe"}, {"token": "mine"}):
            assert status_of(owner, "POST", f"/v1/albums/{a['album']}/shares", json=body) == (400, "InvalidInput")
        assert status_of(owner, "POST", "/v1/albums/missing/shares", json={}) == (404, "NotFound")


def test_owner_sign_in_sessions(server: Server, albums: dict) -> None:
    a = albums["A"]
    browser = httpx.Client(base_url=server.url, timeout=30)
    own = {"Origin": server.url}
    assert browser.get("/v1/session").json() == {"signed_in": False, "role": None, "via": None, "album_id": None,
                                                 "can_upload": False, "keyless": False, "password": True}
    assert status_of(browser, "GET", "/v1/albums") == (401, "AccessDenied")
    for body in ({"secret": "wrong"}, {"secret": KEY + "x"}, {"share_token": "not-a-token"}):
        assert status_of(browser, "POST", "/v1/session", json=body) == (401, "AccessDenied"), body
    for body in ({}, {"secret": KEY, "share_token": "x"}, {"secret": ""}, {"key": KEY}):
        assert status_of(browser, "POST", "/v1/session", json=body) == (400, "InvalidInput"), body

    for secret in (KEY, PASSWORD):  # an API key or the owner password
        reply = browser.post("/v1/session", json={"secret": secret}, headers=own)
        assert reply.status_code == 200 and reply.json()["role"] == "owner", reply.text
        cookie = reply.headers["set-cookie"].lower()
        assert "photosift_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
        assert "secure" not in cookie  # plain http: a Secure cookie would not come back
        assert browser.get("/v1/albums").status_code == 200
    # Writes with the cookie: from the app's own page only (SameSite=Lax plus Origin / Sec-Fetch-Site).
    assert status_of(browser, "POST", "/v1/albums", json={"name": "x"}) == (403, "Forbidden")
    assert status_of(browser, "POST", "/v1/albums", json={"name": "x"},
                     headers={"Origin": "https://evil.example"}) == (403, "AccessDenied")
    assert browser.post("/v1/albums", json={"name": "x"}, headers=own).status_code == 201
    assert browser.post("/v1/albums", json={"name": "x"}, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 201
    # Signing out deletes the session on the server: the old cookie opens nothing.
    old = dict(browser.cookies)
    assert browser.delete("/v1/session", headers=own).status_code == 204
    stale = httpx.Client(base_url=server.url, cookies=old, timeout=30)
    assert status_of(stale, "GET", f"/v1/albums/{a['album']}") == (401, "AccessDenied")
    assert browser.get("/v1/session").json()["signed_in"] is False

    # Behind an HTTPS reverse proxy (X-Forwarded-Proto from loopback is trusted): a Secure, host-only cookie.
    proxied = httpx.Client(base_url=server.url, timeout=30)
    reply = proxied.post("/v1/session", json={"secret": KEY}, headers={"X-Forwarded-Proto": "https"})
    cookie = reply.headers["set-cookie"].lower()
    assert cookie.startswith("__host-photosift_session=") and "; secure" in cookie and "httponly" in cookie
    secure_token = reply.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    over_https = httpx.Client(base_url=server.url, cookies={"__Host-photosift_session": secure_token}, timeout=30)
    assert over_https.get("/v1/albums").status_code == 200


def test_secrets_are_stored_hashed_and_never_logged(server: Server, albums: dict) -> None:
    link = share(server, albums["A"]["album"], can_upload=True)
    browser = httpx.Client(base_url=server.url, timeout=30)
    browser.post("/v1/session", json={"share_token": link["token"]})
    session_token = next(iter(browser.cookies.values()))
    with sqlite3.connect(server.data_dir / "catalog.sqlite3") as db:
        stored = db.execute("SELECT token_hash FROM shares WHERE id = ?", (link["id"],)).fetchone()[0]
        sessions = [row[0] for row in db.execute("SELECT token_hash FROM sessions")]
    assert stored == hashlib.sha256(link["token"].encode()).hexdigest()
    assert hashlib.sha256(session_token.encode()).hexdigest() in sessions
    files = [p for p in server.data_dir.glob("catalog.sqlite3*") if p.is_file()]
    log = server.log.read_bytes()
    for secret in (link["token"], session_token, KEY, PASSWORD):
        assert secret.encode() not in log
        assert all(secret.encode() not in p.read_bytes() for p in files), secret


def test_owner_sign_ins_are_limited_per_address(make_server) -> None:  # noqa: ANN001 - fixture
    """Ten owner sign-ins a minute from one address; the next is 429 with Retry-After, even with the right secret,
    and the password is not checked. API keys and share links keep working meanwhile."""
    server = make_server("throttled", env=keyed_env(), api_key=KEY)
    with httpx.Client(base_url=server.url, timeout=60) as guesser:
        for attempt in range(10):
            assert status_of(guesser, "POST", "/v1/session", json={"secret": f"guess-{attempt}"}) == (401,
                                                                                                      "AccessDenied")
        refused = guesser.post("/v1/session", json={"secret": PASSWORD})
        assert refused.status_code == 429 and refused.json()["error"]["type"] == "TooManyAttempts"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "signed_in" not in refused.text and guesser.get("/v1/session").json()["signed_in"] is False
    with server.client() as owner:
        album = owner.post("/v1/albums", json={"name": "still mine"}).json()["id"]
        token = owner.post(f"/v1/albums/{album}/shares", json={}).json()["token"]
    with httpx.Client(base_url=server.url, timeout=60) as guest:
        assert guest.post("/v1/session", json={"share_token": token}).json()["album_id"] == album


def test_removing_a_key_ends_its_sessions_and_keys_may_be_given_hashed(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", {"PHOTOSIFT_API_KEYS": f"{KEY},second-key",
                                         "PHOTOSIFT_AWS_CREDENTIALS": "AKIDPHOTOSIFT01:a-long-secret"})
    server.start()
    try:
        # With AWS credentials the Rekognition endpoint is open to SigV4 only: a bearer credential is refused.
        refused = httpx.post(f"{server.url}/", content=b"{}", headers={**REKOGNITION, "Authorization": f"Bearer {KEY}"})
        assert refused.status_code == 403 and refused.json()["__type"] == "AccessDeniedException"
        assert "sign the request" in refused.json()["message"]
        first, second = (httpx.Client(base_url=server.url, timeout=30) for _ in range(2))
        assert first.post("/v1/session", json={"secret": KEY}).status_code == 200
        assert second.post("/v1/session", json={"secret": "second-key"}).status_code == 200
        assert first.get("/v1/session").json()["password"] is False  # no password configured
    finally:
        server.stop()
    digest = hashlib.sha256(b"second-key").hexdigest()
    server.env["PHOTOSIFT_API_KEYS"] = f"sha256:{digest}"  # KEY removed; the other given as its SHA-256
    server.start()
    try:
        assert first.get("/v1/albums").status_code == 401
        assert second.get("/v1/albums").status_code == 200
        assert httpx.get(f"{server.url}/v1/albums", headers={"Authorization": "Bearer second-key"}).status_code == 200
        assert httpx.get(f"{server.url}/v1/albums", headers={"Authorization": f"Bearer {digest}"}).status_code == 401
    finally:
        server.stop()


def test_an_upload_without_credentials_is_refused_before_its_body_is_read(server: Server, albums: dict) -> None:
    """The server answers 401 to an upload's headers alone: a client without a valid key cannot make it spool files
    (it would otherwise read the whole declared body, here 40 MB that never come, before checking the key)."""
    album = albums["A"]["album"]
    for authorization in ("", "Authorization: Bearer not-a-key\r\n"):
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall((f"POST /v1/albums/{album}/photos HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                          f"{authorization}Content-Type: multipart/form-data; boundary=b\r\n"
                          f"Content-Length: {40 << 20}\r\n\r\n--b\r\n").encode())
            reply = http.client.HTTPResponse(sock)
            reply.begin()
            assert reply.status == 401 and json.loads(reply.read())["error"]["type"] == "AccessDenied"


def test_rekognition_on_a_keyed_server_takes_signed_requests_only(server: Server) -> None:
    for headers in (REKOGNITION, {**REKOGNITION, "Authorization": f"Bearer {KEY}"}):
        refused = httpx.post(f"{server.url}/", content=b"{}", headers=headers)
        assert refused.status_code == 403 and refused.json()["__type"] == "AccessDeniedException", refused.text


def test_shares_and_sessions_on_postgresql(make_server, postgres_url: str) -> None:  # noqa: ANN001 - fixture
    server = make_server("pg", env=keyed_env(PHOTOSIFT_DATABASE_URL=postgres_url), api_key=KEY)
    with server.client() as owner:
        mine, other = (owner.post("/v1/albums", json={"name": n}).json()["id"] for n in ("mine", "other"))
    link = share(server, mine, can_upload=True, expires_in=86400, label="pg")
    with bearer(server, link["token"]) as visitor:
        assert visitor.get(f"/v1/albums/{mine}").status_code == 200
        assert status_of(visitor, "GET", f"/v1/albums/{other}") == (404, "NotFound")
        assert status_of(visitor, "GET", "/v1/albums") == (403, "Forbidden")
    browser = httpx.Client(base_url=server.url, timeout=30)
    assert browser.post("/v1/session", json={"share_token": link["token"]}).json()["album_id"] == mine
    assert browser.get(f"/v1/albums/{mine}/members").status_code == 200
    second = share(server, mine)
    with server.client() as owner:
        listed = owner.get(f"/v1/albums/{mine}/shares").json()
        assert [(s["label"], s["sessions"], s["expired"]) for s in listed] == [("pg", 1, False), (None, 0, False)]
        assert owner.delete(f"/v1/albums/{mine}/shares/{link['id']}").status_code == 204
        assert status_of(browser, "GET", f"/v1/albums/{mine}/members") == (401, "AccessDenied")
        assert bearer(server, link["token"]).get("/v1/session").json()["signed_in"] is False
        assert bearer(server, second["token"]).get(f"/v1/albums/{mine}").status_code == 200
        assert owner.delete(f"/v1/albums/{mine}").status_code == 204  # its shares and sessions go with it
    assert status_of(bearer(server, second["token"]), "GET", f"/v1/albums/{mine}") == (401, "AccessDenied")
