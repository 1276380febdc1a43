"""The whole native workflow through HTTP against a real server: local store and S3 store (moto)."""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
from pathlib import Path

import boto3
import httpx
import pytest
from PIL import Image
from service_support import Server, upload, wait_analysed

pytestmark = pytest.mark.integration


class EventReader(threading.Thread):
    """Reads an album's SSE stream in the background, like a browser's EventSource would."""

    def __init__(self, server: Server, album_id: str) -> None:
        super().__init__(daemon=True)
        self.server, self.album_id = server, album_id
        self.events: list[dict] = []
        self.connected = threading.Event()

    def run(self) -> None:
        with contextlib.suppress(httpx.TransportError):  # the server went away at the end of the test
            self._read()

    def _read(self) -> None:
        with server_client(self.server) as client, client.stream("GET", f"/v1/albums/{self.album_id}/events") as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            self.connected.set()
            event: dict = {}
            for line in r.iter_lines():
                if line.startswith(("id:", "event:", "data:")):
                    field, _, value = line.partition(":")
                    event[field] = value.strip()
                elif not line and event:
                    if "data" in event:
                        event["data"] = json.loads(event["data"])
                    self.events.append(event)
                    event = {}

    def of_type(self, type_: str) -> list[dict]:
        return [e for e in list(self.events) if e.get("event") == type_]

    def wait_for(self, predicate, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return
            time.sleep(0.1)
        raise AssertionError(f"events never satisfied the condition: {[e.get('event') for e in self.events]}")


def server_client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers=server.headers, timeout=httpx.Timeout(60, read=120))


def run_workflow(server: Server, images: dict[str, bytes], list_blobs) -> None:
    client = server.client()
    album = client.post("/v1/albums", json={"name": "Summer 2024"})
    assert album.status_code == 201, album.text
    album_id = album.json()["id"]
    stream = EventReader(server, album_id)
    stream.start()
    assert stream.connected.wait(10)

    # A batch with one corrupt file: the good files are accepted, the bad one gets its own error.
    reply = upload(client, album_id, [("face2.jpg", images["face2"]), ("scene.jpg", images["scene"]),
                                      ("blurry.jpg", images["blurry"]), ("corrupt.jpg", images["corrupt"]),
                                      ("stranger.jpg", images["stranger"])])
    assert reply.status_code == 202, reply.text
    entries = reply.json()["photos"]
    assert [e["filename"] for e in entries] == ["face2.jpg", "scene.jpg", "blurry.jpg", "corrupt.jpg", "stranger.jpg"]
    assert entries[3]["error"]["type"] == "InvalidImage" and "id" not in entries[3]
    del entries[3]
    assert all(e["status"] == "pending" and e["duplicate"] is False for e in entries)
    ids = {e["filename"]: e["id"] for e in entries}
    again = upload(client, album_id, [("copy.jpg", images["scene"])]).json()["photos"][0]
    assert again["id"] == ids["scene.jpg"] and again["duplicate"] is True

    photos = wait_analysed(client, list(ids.values()))
    face_photo, scene, blurry = photos[ids["face2.jpg"]], photos[ids["scene.jpg"]], photos[ids["blurry.jpg"]]
    assert face_photo["status"] == "done", face_photo["error"]
    assert (face_photo["width"], face_photo["height"]) == (1600, 1200)
    assert len(face_photo["faces"]) == 1
    face = face_photo["faces"][0]
    left, top, width, height = face["box"]
    assert left >= 600 and left + width <= 1368 and top >= 200 and top + height <= 968  # inside the pasted photo
    assert face["confidence"] > 50 and face["unknown"] is True and face["member"] is None
    assert set(face["quality"]) == {"sharpness", "brightness"}
    assert scene["faces"] == [] and scene["face_count"] == 0
    assert len(photos[ids["stranger.jpg"]]["faces"]) == 1
    assert blurry["blur"]["blurry"] is True and blurry["blur"]["sharpness"] < scene["blur"]["sharpness"]
    stream.wait_for(lambda s: {e["data"]["photo"]["id"] for e in s.of_type("photo.analyzed")} == set(ids.values()))

    # A member created afterwards re-matches the photos already analysed.
    member = client.post(f"/v1/albums/{album_id}/members", data={"name": "Eileen"},
                         files=[("files", ("ref.jpg", images["face"], "image/jpeg"))])
    assert member.status_code == 201, member.text
    member_id = member.json()["id"]
    assert len(member.json()["references"]) == 1
    stream.wait_for(lambda s: any(e["data"]["photo_id"] == ids["face2.jpg"] for e in s.of_type("photo.matched")))
    matched = client.get(f"/v1/photos/{ids['face2.jpg']}").json()["faces"][0]
    assert matched["member"]["id"] == member_id and matched["member"]["name"] == "Eileen"
    assert matched["member"]["similarity"] >= 80 and matched["unknown"] is False
    no_face = client.post(f"/v1/albums/{album_id}/members", data={"name": "Nobody"},
                          files=[("files", ("cup.jpg", images["scene"], "image/jpeg"))])
    assert no_face.status_code == 422 and no_face.json()["error"]["type"] == "NoFaceFound"
    duplicate = client.post(f"/v1/albums/{album_id}/members", data={"name": "Eileen"},
                            files=[("files", ("ref.jpg", images["face"], "image/jpeg"))])
    assert duplicate.status_code == 409 and duplicate.json()["error"]["type"] == "AlreadyExists"

    # Queries.
    def page_ids(params: dict) -> list[str]:
        reply = client.get(f"/v1/albums/{album_id}/photos", params=params)
        assert reply.status_code == 200, reply.text
        return [p["id"] for p in reply.json()["items"]]

    matched_photos = client.get(f"/v1/albums/{album_id}/photos", params={"member": member_id}).json()["items"]
    assert [p["id"] for p in matched_photos] == [ids["face2.jpg"]], (ids, [p["faces"] for p in matched_photos])
    assert page_ids({"blurry": "true"}) == [ids["blurry.jpg"]]
    assert page_ids({"has_faces": "false"}) == [ids["scene.jpg"], ids["blurry.jpg"]]
    unknown = client.get(f"/v1/albums/{album_id}/faces", params={"unknown": "true"}).json()["items"]
    assert [f["photo_id"] for f in unknown] == [ids["stranger.jpg"]]  # another person stays unknown
    seen, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/v1/albums/{album_id}/photos", params=params)
        seen += [p["id"] for p in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids.values())

    # Removing the only reference leaves the face unknown again.
    reference_id = member.json()["references"][0]["id"]
    removed = client.delete(f"/v1/albums/{album_id}/members/{member_id}/references/{reference_id}")
    assert removed.status_code == 200 and removed.json()["references"] == []
    stream.wait_for(lambda s: any(e["data"]["photo_id"] == ids["face2.jpg"] and e["data"]["matches"] == []
                                  for e in s.of_type("photo.matched")))
    unknown = client.get(f"/v1/albums/{album_id}/faces", params={"unknown": "true"}).json()["items"]
    assert sorted(f["photo_id"] for f in unknown) == sorted([ids["face2.jpg"], ids["stranger.jpg"]])

    # Bytes and thumbnails.
    content = client.get(f"/v1/photos/{ids['scene.jpg']}/content")
    assert content.content == images["scene"] and content.headers["content-type"] == "image/jpeg"
    thumb = client.get(f"/v1/photos/{ids['face2.jpg']}/thumbnail", params={"size": 256})
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.content)).size) == 256
    assert client.get(f"/v1/photos/{ids['face2.jpg']}/thumbnail", params={"size": 300}).status_code == 400

    # Deleting the album removes its blobs, and the event stream ends.
    assert list_blobs(), "blobs should exist before the album is deleted"
    assert client.delete(f"/v1/albums/{album_id}").status_code == 204
    assert list_blobs() == []
    assert client.get(f"/v1/albums/{album_id}").status_code == 404
    stream.join(30)
    assert not stream.is_alive()


def test_workflow_with_local_store(make_server, images) -> None:
    server = make_server("local")
    blobs = server.data_dir / "blobs"
    run_workflow(server, images, lambda: sorted(str(p.relative_to(blobs)) for p in blobs.rglob("*") if p.is_file()))


def test_workflow_with_s3_store(make_server, images, moto_s3) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_s3["PHOTOSIFT_S3_ENDPOINT_URL"])
    s3.create_bucket(Bucket="photosift")
    server = make_server("s3", env={**moto_s3, "PHOTOSIFT_STORE_URL": "s3://photosift/library"})
    assert not (server.data_dir / "blobs").exists()

    def list_blobs() -> list[str]:
        return sorted(o["Key"] for o in s3.list_objects_v2(Bucket="photosift").get("Contents", []))

    run_workflow(server, images, list_blobs)


def test_workflow_with_postgresql_catalog(make_server, images, postgres_url) -> None:
    server = make_server("pg", env={"PHOTOSIFT_DATABASE_URL": postgres_url})
    assert not (server.data_dir / "catalog.sqlite3").exists()
    blobs = server.data_dir / "blobs"
    run_workflow(server, images, lambda: sorted(str(p.relative_to(blobs)) for p in blobs.rglob("*") if p.is_file()))


def test_errors_access_and_limits(make_server, images, tmp_path: Path) -> None:
    server = make_server("guarded", env={"PHOTOSIFT_API_KEYS": "k1,k2", "PHOTOSIFT_MAX_UPLOAD_BYTES": "100000"},
                         api_key="k2")
    anonymous = httpx.Client(base_url=server.url)
    denied = anonymous.get("/v1/albums")
    assert denied.status_code == 401 and denied.json()["error"]["type"] == "AccessDenied"
    assert anonymous.get("/v1/albums", headers={"Authorization": "Bearer nope"}).status_code == 401
    client = server.client()
    album_id = client.post("/v1/albums", json={"name": "a"}).json()["id"]
    for reply, status, type_ in [
        (client.get("/v1/photos/missing"), 404, "NotFound"),
        (client.get("/v1/nothing-here"), 404, "NotFound"),
        (client.put("/v1/albums"), 405, "MethodNotAllowed"),
        (client.get(f"/v1/albums/{album_id}/photos", params={"limit": 0}), 400, "InvalidInput"),
        (client.post("/v1/albums", content=b"{not json", headers={"content-type": "application/json"}), 400,
         "InvalidInput"),
        (upload(client, album_id, [("corrupt.jpg", images["corrupt"])]), 400, "InvalidImage"),
        (upload(client, album_id, [("big.jpg", images["face2"])]), 413, "ImageTooLarge"),
    ]:
        assert reply.status_code == status, reply.text
        body = reply.json()
        assert set(body["error"]) == {"type", "message"} and body["error"]["type"] == type_, body
        assert "Traceback" not in reply.text
    mixed = upload(client, album_id, [("big.jpg", images["face2"]), ("scene.jpg", images["scene"])])
    assert mixed.status_code == 202
    assert mixed.json()["photos"][0]["error"]["type"] == "ImageTooLarge" and mixed.json()["photos"][1]["id"]
    assert client.get("/docs").status_code == 200 and client.get("/openapi.json").json()["paths"]
