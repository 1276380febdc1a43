"""What an album's lists say, through HTTP against a real server: every face carries its photo's id (photo results,
photo and face lists, events); one upload's photos keep the order of its parts; the album list's cover photos."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from PIL import Image
from service_support import Server, events_until, jpeg, upload, wait_analysed

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("lists") / "data").running() as running:
        yield running


def new_album(client: httpx.Client, name: str) -> str:
    reply = client.post("/v1/albums", json={"name": name})
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def photo_ids(reply: httpx.Response) -> list[str]:
    assert reply.status_code == 202, reply.text
    return [entry["id"] for entry in reply.json()["photos"]]


def test_every_face_carries_its_photo_id(server: Server, images: dict[str, bytes]) -> None:
    client = server.client()
    album = new_album(client, "faces")
    ids = photo_ids(upload(client, album, [("face.jpg", images["face"]), ("face2.jpg", images["face2"]),
                                           ("stranger.jpg", images["stranger"])]))
    analysed = wait_analysed(client, ids)
    assert all(photo["status"] == "done" and photo["faces"] for photo in analysed.values())

    def faces_of(photos: list[dict]) -> list[tuple[str, str]]:
        return [(face["photo_id"], photo["id"]) for photo in photos for face in photo["faces"]]

    in_results = faces_of(list(analysed.values()))
    assert len(in_results) >= 3 and all(got == want for got, want in in_results)
    listed = client.get(f"/v1/albums/{album}/photos").json()["items"]
    assert sorted(faces_of(listed)) == sorted(in_results)
    events = events_until(server, album, lambda evs: sum(e["event"] == "photo.analyzed" for e in evs) == len(ids))
    in_events = [e["data"]["photo"] for e in events if e["event"] == "photo.analyzed"]
    assert sorted(faces_of(in_events)) == sorted(in_results)
    face_list = client.get(f"/v1/albums/{album}/faces").json()["items"]
    by_face = {face["id"]: photo_id for photo in listed for face in photo["faces"] for photo_id in [photo["id"]]}
    assert {face["id"]: face["photo_id"] for face in face_list} == by_face


def noise_jpeg(width: int, height: int, seed: int) -> bytes:
    """A JPEG of noise (it compresses badly: a big file for its size)."""
    rgb = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return jpeg(rgb, quality=95)


def test_one_request_keeps_the_order_of_its_parts(server: Server, images: dict[str, bytes]) -> None:
    """The parts of one upload are stored side by side (the big first ones finish last), yet recorded and listed in
    the order they were sent; refused parts and repeats keep their places in the reply."""
    client = server.client()
    album = new_album(client, "order")
    parts = [(f"{n:02}.jpg", noise_jpeg(1600 - 36 * n, 1200 - 27 * n, n)) for n in range(40)]
    parts[5:5] = [("cut.jpg", images["scene"][:-500])]
    parts[20:20] = [("again.jpg", parts[3][1])]
    reply = upload(client, album, parts)
    assert reply.status_code == 202, reply.text
    entries = reply.json()["photos"]
    assert [e["filename"] for e in entries] == [name for name, _ in parts]
    assert "error" in entries[5] and entries[20]["duplicate"] and entries[20]["id"] == entries[3]["id"]
    expected = [e["id"] for e in entries if "id" in e and not e["duplicate"]]
    assert len(expected) == 40

    def listed(sort: str, limit: int) -> list[str]:
        seen, cursor = [], None
        while True:
            page = client.get(f"/v1/albums/{album}/photos",
                              params={"sort": sort, "limit": limit, **({"cursor": cursor} if cursor else {})}).json()
            seen += [p["id"] for p in page["items"]]
            if (cursor := page["next_cursor"]) is None:
                return seen

    assert listed("uploaded", 7) == listed("uploaded", 500) == expected
    assert listed("taken_at", 6) == expected  # no EXIF date: by upload time, then upload order
    assert listed("-taken_at", 6) == expected[::-1]


def test_the_album_list_shows_a_cover_photo_once_one_is_analysed(server: Server, images: dict[str, bytes]) -> None:
    client = server.client()
    album = new_album(client, "covers")
    strict = client.post("/v1/albums", json={"name": "strict", "threshold": 90}).json()["id"]

    def listed() -> dict[str, dict]:
        reply = client.get("/v1/albums")
        assert reply.status_code == 200, reply.text
        return {a["id"]: a for a in reply.json()}

    before = listed()
    assert before[album]["cover_photo_id"] is None and "threshold" not in before[album]
    assert before[strict]["threshold"] == 90 and before[strict]["cover_photo_id"] is None
    dated = Image.open(io.BytesIO(images["scene"]))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2020:01:02 03:04:05"
    out = io.BytesIO()
    dated.save(out, "JPEG", exif=exif)
    ids = photo_ids(upload(client, album, [("face.jpg", images["face"]), ("dated.jpg", out.getvalue())]))
    wait_analysed(client, ids)
    after = listed()
    assert after[album]["cover_photo_id"] == ids[1]  # taken in 2020: before the other one's upload time
    assert (after[album]["photos"], after[album]["members"]) == (2, 0)
    assert client.get(f"/v1/photos/{after[album]['cover_photo_id']}/thumbnail").status_code == 200
