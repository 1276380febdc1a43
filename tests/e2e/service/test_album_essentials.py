"""Album essentials through HTTP against real servers: uploads checked whole at once, capture dates (EXIF) shown,
sorted and filtered, a JPEG display version of every photo and square thumbnails that keep faces in frame, deleting
photos (one, a selection, every blurry one) with their blobs and events, ZIP downloads of a member's, a person's or
selected photos (share links may download, not delete), and /docs and /redoc without a CDN."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import httpx
import numpy as np
import pytest
from people_images import shot
from PIL import Image
from service_support import Server, events_until, jpeg, upload, wait_analysed

from photosift.api.routes.downloads import content_disposition
from photosift.application.blobs import square_window
from photosift.application.downloads import archive_name, entry_names, safe_name
from photosift.catalog.models import Photo

pytestmark = pytest.mark.integration

EXIF_IFD = 0x8769
KEY = "essentials-owner-key-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("essentials") / "data").running() as running:
        yield running


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("essentials-pg") / "data",
                {"PHOTOSIFT_DATABASE_URL": postgres_url}).running() as running:
        yield running


@pytest.fixture(params=["sqlite", "postgresql"])
def any_catalog(request: pytest.FixtureRequest) -> Server:
    """The module's server on SQLite, then one on PostgreSQL (for the tests whose queries differ most)."""
    return request.getfixturevalue("server" if request.param == "sqlite" else "pg_server")


def encode(image: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def with_exif(image: Image.Image, fmt: str = "JPEG", original: str | None = None, offset: str | None = None,
              orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    ifd = exif.get_ifd(EXIF_IFD)
    if original is not None:
        ifd[0x9003] = original
    if offset is not None:
        ifd[0x9011] = offset
    return encode(image, fmt, exif=exif)


def noise(width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    return Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC)


def new_album(client: httpx.Client, name: str) -> str:
    reply = client.post("/v1/albums", json={"name": name})
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def accepted(reply: httpx.Response) -> dict[str, str]:
    assert reply.status_code == 202, reply.text
    return {e["filename"]: e["id"] for e in reply.json()["photos"] if "id" in e}


def error_of(reply: httpx.Response) -> tuple[int, str]:
    return reply.status_code, reply.json()["error"]["type"]


# --- uploads are checked whole --------------------------------------------------------------------------------------


def test_files_cut_short_or_undecodable_get_their_error_in_the_202(server: Server, images: dict) -> None:
    client = server.client()
    album = new_album(client, "checks")
    scene = Image.open(io.BytesIO(images["scene"]))
    small = scene.resize((200, 150))
    png, webp, heic = encode(small, "PNG"), encode(small, "WEBP"), encode(small, "HEIF")
    reply = upload(client, album, [
        ("good.jpg", images["scene"]), ("cut.jpg", images["scene"][: len(images["scene"]) * 9 // 10]),
        ("header-only.jpg", images["truncated"]), ("no-end.jpg", images["scene"][:-2]), ("cut.png", png[:-40]),
        ("cut.webp", webp[: len(webp) // 2]), ("cut.heic", heic[: len(heic) * 2 // 3]),
        ("random.jpg", images["corrupt"]), ("good.heic", heic),
    ])
    assert reply.status_code == 202, reply.text
    entries = {e["filename"]: e for e in reply.json()["photos"]}
    assert set(accepted(reply)) == {"good.jpg", "good.heic"}
    for name in ("cut.jpg", "header-only.jpg", "no-end.jpg", "cut.png", "cut.heic"):
        assert entries[name]["error"]["type"] == "InvalidImage", entries[name]
        assert "truncated or corrupt" in entries[name]["error"]["message"], entries[name]
    for name in ("cut.webp", "random.jpg"):  # refused as soon as Pillow reads their header
        assert entries[name]["error"]["type"] == "InvalidImage", entries[name]
    assert client.get(f"/v1/albums/{album}").json()["photos"] == 2  # nothing of a refused file was recorded

    only_bad = upload(client, album, [("cut.jpg", images["scene"][:-500])])
    assert error_of(only_bad) == (400, "InvalidImage") and only_bad.json()["photos"][0]["error"]


# --- capture dates ------------------------------------------------------------------------------------------------


def test_capture_dates_are_shown_sorted_and_filtered(any_catalog: Server) -> None:
    client = any_catalog.client()
    album = new_album(client, "dates")
    ids = accepted(upload(client, album, [
        ("late.jpg", with_exif(noise(320, 240, 1), original="2024:07:03 10:00:00", offset="+09:00")),
        ("early.jpg", with_exif(noise(320, 240, 2), original="2024:07:01 08:00:00")),
        ("mid.jpg", with_exif(noise(320, 240, 3), original="2024:07:02 23:30:00", offset="-05:00")),
        ("none.jpg", encode(noise(320, 240, 4))),
    ]))
    views = {name: client.get(f"/v1/photos/{pid}").json() for name, pid in ids.items()}
    assert (views["late.jpg"]["taken_at"], views["late.jpg"]["taken_at_source"]) == ("2024-07-03T10:00:00+09:00",
                                                                                     "exif")
    assert views["early.jpg"]["taken_at"] == "2024-07-01T08:00:00"  # the camera recorded no UTC offset
    assert views["mid.jpg"]["taken_at"] == "2024-07-02T23:30:00-05:00"
    assert views["none.jpg"]["taken_at_source"] == "upload"
    assert views["none.jpg"]["taken_at"] == views["none.jpg"]["created_at"]

    def listed(**params: str) -> list[str]:
        reply = client.get(f"/v1/albums/{album}/photos", params=params)
        assert reply.status_code == 200, reply.text
        names = {pid: name for name, pid in ids.items()}
        return [names[p["id"]] for p in reply.json()["items"]]

    by_time = ["early.jpg", "late.jpg", "mid.jpg", "none.jpg"]  # mid is 04:30 UTC on the 3rd, after late's 01:00
    assert listed() == listed(sort="uploaded") == ["late.jpg", "early.jpg", "mid.jpg", "none.jpg"]
    assert listed(sort="taken_at") == by_time
    assert listed(sort="-taken_at") == by_time[::-1]
    for sort, expected in (("taken_at", by_time), ("-taken_at", by_time[::-1])):
        seen, cursor = [], None
        while True:
            page = client.get(f"/v1/albums/{album}/photos",
                              params={"sort": sort, "limit": 1, **({"cursor": cursor} if cursor else {})}).json()
            seen += [p["filename"] for p in page["items"]]
            if (cursor := page["next_cursor"]) is None:
                break
        assert seen == expected, sort
    assert listed(taken_after="2024-07-02T00:00:00Z", taken_before="2024-07-03T03:00:00Z") == ["late.jpg"]
    assert listed(taken_after="2024-07-03T10:00:00+09:00", sort="taken_at") == ["late.jpg", "mid.jpg", "none.jpg"]
    assert listed(taken_before="2024-07-02") == ["early.jpg"]

    for params in ({"sort": "name"}, {"taken_after": "yesterday"}, {"sort": "taken_at", "cursor": "nonsense"},
                   {"member": "null"}, {"member": "not an id!"}):
        assert error_of(client.get(f"/v1/albums/{album}/photos", params=params)) == (400, "InvalidInput"), params
    assert error_of(client.get(f"/v1/albums/{album}/photos", params={"member": "0" * 20})) == (404, "NotFound")
    assert error_of(client.get(f"/v1/albums/{album}/faces", params={"member": "null"})) == (400, "InvalidInput")


# --- display versions and thumbnails ------------------------------------------------------------------------------


def jpeg_size(reply: httpx.Response) -> tuple[int, int]:
    assert reply.status_code == 200 and reply.headers["content-type"] == "image/jpeg", reply.text[:300]
    image = Image.open(io.BytesIO(reply.content))
    assert image.format == "JPEG"
    return image.size


def test_every_photo_has_an_upright_jpeg_display_version(server: Server, astronaut: np.ndarray) -> None:
    client = server.client()
    album = new_album(client, "display")
    upright = np.full((600, 400, 3), 40, np.uint8)
    upright[:100] = (220, 30, 30)  # red along the top of the upright photo
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # stored on its side: 600 x 400
    heic = with_exif(Image.fromarray(astronaut), "HEIF", original="2025:05:05 12:00:00", offset="+02:00")
    ids = accepted(upload(client, album, [("phone.heic", heic), ("sideways.jpg", with_exif(stored, orientation=6)),
                                          ("large.jpg", encode(noise(2600, 1950, 5)))]))
    heic_photo = client.get(f"/v1/photos/{ids['phone.heic']}").json()
    assert heic_photo["content_type"] == "image/heic" and heic_photo["taken_at"] == "2025-05-05T12:00:00+02:00"

    def thumb(name: str, size: int, **params: object) -> httpx.Response:
        return client.get(f"/v1/photos/{ids[name]}/thumbnail", params={"size": size, **params})

    assert jpeg_size(thumb("phone.heic", 2048)) == (512, 512)  # never enlarged
    assert jpeg_size(thumb("phone.heic", 128)) == (128, 128)
    assert jpeg_size(thumb("large.jpg", 2048)) == (2048, 1536)
    assert jpeg_size(thumb("large.jpg", 1024)) == (1024, 768)
    display = thumb("sideways.jpg", 2048)
    assert jpeg_size(display) == (400, 600)
    pixels = np.asarray(Image.open(io.BytesIO(display.content)))
    assert pixels[:90, :, 0].mean() > 180 and pixels[150:, :, 0].mean() < 80  # red on top: upright
    assert jpeg_size(thumb("sideways.jpg", 256, square="true")) == (256, 256)
    assert error_of(thumb("large.jpg", 300)) == (400, "InvalidInput")


def test_square_thumbnails_keep_faces_in_frame(server: Server, astronaut: np.ndarray) -> None:
    client = server.client()
    album = new_album(client, "square")
    canvas = np.asarray(noise(1600, 600, 6)).copy()
    canvas[44:556, 1080:1592] = astronaut  # a face near the right edge: a centred square would miss it
    ids = accepted(upload(client, album, [("edge.jpg", jpeg(canvas))]))
    photo = wait_analysed(client, list(ids.values()))[ids["edge.jpg"]]
    assert photo["status"] == "done" and len(photo["faces"]) == 1, photo
    left, _, width, _ = photo["faces"][0]["box"]
    assert left >= 1080 and left + width <= 1600
    reply = client.get(f"/v1/photos/{ids['edge.jpg']}/thumbnail", params={"size": 256, "square": "true"})
    assert jpeg_size(reply) == (256, 256) and reply.headers["cache-control"] == "private, max-age=86400"

    def coarse(image: Image.Image) -> np.ndarray:  # compared at 32 px: resampling details do not count
        return np.asarray(image.resize((32, 32), Image.Resampling.BOX), np.float32)

    got = coarse(Image.open(io.BytesIO(reply.content)))
    right = np.abs(got - coarse(Image.fromarray(canvas[:, 1000:1600]))).mean()
    centre = np.abs(got - coarse(Image.fromarray(canvas[:, 500:1100]))).mean()
    assert right < 0.25 * centre, (right, centre)  # the square is the right end, with the face
    whole = client.get(f"/v1/photos/{ids['edge.jpg']}/thumbnail", params={"size": 256})
    assert jpeg_size(whole) == (256, 96)  # without square: the whole photo
    sha = photo["sha256"]
    assert (server.data_dir / "blobs" / "thumbnails" / "256sq" / sha[:2] / f"{sha}.jpg").is_file()  # cached


# --- deleting photos ------------------------------------------------------------------------------------------------


def blob_path(server: Server, client: httpx.Client, photo_id: str) -> Path:
    sha = client.get(f"/v1/photos/{photo_id}").json()["sha256"]
    return server.data_dir / "blobs" / "photos" / sha[:2] / sha


def test_deleting_photos_removes_them_their_faces_people_and_unused_blobs(any_catalog: Server, images: dict
                                                                          ) -> None:
    server = any_catalog
    client = server.client()
    album, other = new_album(client, "delete"), new_album(client, "keeps a copy")
    scene = np.asarray(Image.open(io.BytesIO(images["scene"]))).copy()
    scene[:8, :8] = 0
    scene = jpeg(scene)  # a sharp photo no other test uploads
    ids = accepted(upload(client, album, [
        ("face.jpg", images["face2"]), ("blurry.jpg", images["blurry"]), ("scene.jpg", scene),
        ("c0.jpg", shot("cameraman", 0)), ("c1.jpg", shot("cameraman", 1))]))
    copy = accepted(upload(client, other, [("scene.jpg", scene)]))["scene.jpg"]
    analysed = wait_analysed(client, list(ids.values()))
    assert all(p["status"] == "done" for p in analysed.values())
    assert analysed[ids["blurry.jpg"]]["blur"]["blurry"] is True
    people = client.get(f"/v1/albums/{album}/people").json()["items"]
    assert len(people) == 1 and people[0]["faces"] == 2, people  # the cameraman, twice
    for size, square in ((256, False), (256, True), (2048, False)):
        params = {"size": size, "square": str(square).lower()}
        assert client.get(f"/v1/photos/{ids['face.jpg']}/thumbnail", params=params).status_code == 200
        assert client.get(f"/v1/photos/{ids['scene.jpg']}/thumbnail", params=params).status_code == 200
    face_blob, scene_blob = blob_path(server, client, ids["face.jpg"]), blob_path(server, client, ids["scene.jpg"])
    thumbnails = server.data_dir / "blobs" / "thumbnails"
    assert face_blob.is_file() and len(list(thumbnails.rglob(f"{face_blob.name}.jpg"))) == 3

    # One photo.
    assert client.delete(f"/v1/photos/{ids['face.jpg']}").status_code == 204
    assert error_of(client.get(f"/v1/photos/{ids['face.jpg']}")) == (404, "NotFound")
    assert error_of(client.delete(f"/v1/photos/{ids['face.jpg']}")) == (404, "NotFound")
    assert not face_blob.exists() and not list(thumbnails.rglob(f"{face_blob.name}.jpg"))
    faces = client.get(f"/v1/albums/{album}/faces").json()["items"]
    assert ids["face.jpg"] not in {f["photo_id"] for f in faces}

    # Every blurry photo in one step.
    reply = client.post(f"/v1/albums/{album}/photos/delete", json={"blurry": True})
    assert reply.status_code == 200 and reply.json() == {"deleted": [ids["blurry.jpg"]], "not_found": []}

    # A selection: the person left without faces is removed; another album's photo is not touched.
    missing = "0" * 20
    reply = client.post(f"/v1/albums/{album}/photos/delete",
                        json={"photo_ids": [ids["c1.jpg"], ids["c0.jpg"], missing, copy]})
    assert reply.status_code == 200, reply.text
    assert sorted(reply.json()["deleted"]) == sorted([ids["c0.jpg"], ids["c1.jpg"]])
    assert reply.json()["not_found"] == [missing, copy]
    assert client.get(f"/v1/albums/{album}/people").json() == {"items": [], "unknown": 0}
    assert client.get(f"/v1/photos/{copy}").status_code == 200

    # A blob another album still uses stays (with its thumbnails) until its last photo goes.
    reply = client.post(f"/v1/albums/{album}/photos/delete", json={"photo_ids": [ids["scene.jpg"]]})
    assert reply.json()["deleted"] == [ids["scene.jpg"]]
    assert scene_blob.is_file() and client.get(f"/v1/photos/{copy}/content").content == scene
    assert client.delete(f"/v1/photos/{copy}").status_code == 204
    assert not scene_blob.exists() and not list(thumbnails.rglob(f"{scene_blob.name}.jpg"))
    assert client.get(f"/v1/albums/{album}").json()["photos"] == 0

    events = events_until(server, album, lambda es: len([e for e in es if e["event"] == "photo.deleted"]) == 4)
    deleted = [sorted(e["data"]["photo_ids"]) for e in events if e["event"] == "photo.deleted"]
    assert deleted == [[ids["face.jpg"]], [ids["blurry.jpg"]], sorted([ids["c0.jpg"], ids["c1.jpg"]]),
                       [ids["scene.jpg"]]]
    person = people[0]["id"]
    assert any(person in e["data"]["removed"] for e in events if e["event"] == "people.changed")

    for body in ({}, {"photo_ids": []}, {"photo_ids": [missing], "blurry": True}, {"photo_ids": ["not an id!"]},
                 {"blurry": False}):
        assert error_of(client.post(f"/v1/albums/{album}/photos/delete", json=body)) == (400, "InvalidInput"), body
    assert error_of(client.post(f"/v1/albums/{missing}/photos/delete", json={"blurry": True})) == (404, "NotFound")


def test_a_photo_deleted_while_queued_is_never_analysed(server: Server, images: dict) -> None:
    client = server.client()
    album = new_album(client, "queued")
    gone = accepted(upload(client, album, [("gone.jpg", images["stranger"])]))["gone.jpg"]
    assert client.delete(f"/v1/photos/{gone}").status_code == 204
    kept = accepted(upload(client, album, [("kept.jpg", images["face2"])]))["kept.jpg"]
    assert wait_analysed(client, [kept])[kept]["status"] == "done"
    events = events_until(server, album, lambda es: any(e["event"] == "photo.analyzed" for e in es))
    types = [(e["event"], e["data"].get("photo_id") or e["data"].get("photo", {}).get("id")
              or e["data"].get("photo_ids")) for e in events]
    deleted_at = types.index(("photo.deleted", [gone]))
    assert all(pid != gone for kind, pid in types[deleted_at:] if kind in ("photo.analyzed", "photo.failed")), types
    assert client.get(f"/v1/photos/{gone}").status_code == 404


# --- downloads ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("downloads") / "data", {"PHOTOSIFT_API_KEYS": KEY},
                api_key=KEY).running() as running:
        yield running


def unzip(reply: httpx.Response) -> dict[str, bytes]:
    assert reply.status_code == 200, reply.text[:500]
    assert reply.headers["content-type"] == "application/zip"
    assert int(reply.headers["content-length"]) == len(reply.content)
    assert reply.headers["content-disposition"].startswith("attachment; filename=")
    with zipfile.ZipFile(io.BytesIO(reply.content)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def attachment_names(reply: httpx.Response) -> tuple[str, str]:
    """``(filename*, filename)`` of a download's ``Content-Disposition``: the UTF-8 name and its ASCII fallback."""
    header = reply.headers["content-disposition"]
    assert header.isascii(), header
    match = re.fullmatch(r'attachment; filename="([\x20-\x7e]*)"; filename\*=UTF-8\'\'([A-Za-z0-9%._~-]+)', header)
    assert match, header
    assert '"' not in match[1] and "\\" not in match[1], header
    return unquote(match[2], errors="strict"), match[1]


def test_downloads_of_a_member_a_person_or_a_selection(keyed: Server, images: dict) -> None:
    client = keyed.client()
    album, other = new_album(client, "Jeju 2026"), new_album(client, "other")
    member = client.post(f"/v1/albums/{album}/members", data={"name": "Eileen"},
                         files=[("files", ("me.jpg", images["face"], "image/jpeg"))])
    assert member.status_code == 201, member.text
    c0, c1 = shot("cameraman", 0), shot("cameraman", 1)
    ids = accepted(upload(client, album, [("IMG_0001.jpg", images["face2"]), ("img_0001.JPG", images["scene"]),
                                          ("c.jpg", c0), ("c.jpg", c1)]))
    entries = upload(client, album, [("c.jpg", shot("cameraman", 2))]).json()["photos"]  # ids of the repeated names
    photo_ids = [p["id"] for p in client.get(f"/v1/albums/{album}/photos").json()["items"]]
    analysed = wait_analysed(client, photo_ids)
    assert all(p["status"] == "done" for p in analysed.values())
    foreign = accepted(upload(client, other, [("x.jpg", images["blurry"])]))["x.jpg"]
    person = client.get(f"/v1/albums/{album}/people").json()["items"][0]["id"]

    def download(**params: str) -> httpx.Response:
        return client.get(f"/v1/albums/{album}/download", params=params)

    assert unzip(download(member=member.json()["id"])) == {"IMG_0001.jpg": images["face2"]}
    assert unzip(download(person=person)) == {"c.jpg": c0, "c (2).jpg": c1, "c (3).jpg": shot("cameraman", 2)}
    selection = unzip(download(photo_ids=",".join([ids["img_0001.JPG"], ids["IMG_0001.jpg"], entries[0]["id"]])))
    assert selection == {"IMG_0001.jpg": images["face2"], "img_0001 (2).JPG": images["scene"],
                         "c.jpg": shot("cameraman", 2)}
    person_name = client.get(f"/v1/albums/{album}/people/{person}").json()["name"]
    assert attachment_names(download(member=member.json()["id"])) == ("Jeju 2026 - Eileen.zip",) * 2
    assert attachment_names(download(person=person)) == (f"Jeju 2026 - {person_name}.zip",) * 2
    assert attachment_names(download(photo_ids=ids["c.jpg"])) == ("Jeju 2026 - 1 photo.zip",) * 2
    assert client.patch(f"/v1/albums/{album}", json={"name": "제주 여행 ✈"}).status_code == 200
    assert attachment_names(download(photo_ids=f"{ids['c.jpg']},{entries[0]['id']}")) \
        == ("제주 여행 ✈ - 2 photos.zip", "_ _ _ - 2 photos.zip")
    assert client.patch(f"/v1/albums/{album}", json={"name": "Jeju 2026"}).status_code == 200

    for params in ({"member": "null"}, {"member": "not an id!"}, {}, {"member": member.json()["id"], "person": person},
                   {"photo_ids": ""}, {"photo_ids": f"{ids['c.jpg']},,"}):
        assert error_of(download(**params)) == (400, "InvalidInput"), params
    for params in ({"member": "0" * 20}, {"person": "0" * 20}, {"photo_ids": f"{ids['c.jpg']},{foreign}"}):
        assert error_of(download(**params)) == (404, "NotFound"), params

    # Share links: a view-only link downloads its album's photos, but deletes nothing, and no link reaches another
    # album.
    for can_upload in (False, True):
        link = client.post(f"/v1/albums/{album}/shares", json={"can_upload": can_upload})
        assert link.status_code == 201, link.text
        with httpx.Client(base_url=keyed.url, headers={"Authorization": f"Bearer {link.json()['token']}"},
                          timeout=60) as visitor:
            got = visitor.get(f"/v1/albums/{album}/download", params={"member": member.json()["id"]})
            assert unzip(got) == {"IMG_0001.jpg": images["face2"]}
            assert error_of(visitor.get(f"/v1/albums/{other}/download", params={"photo_ids": foreign})) \
                == (404, "NotFound")
            assert error_of(visitor.delete(f"/v1/photos/{ids['c.jpg']}")) == (403, "Forbidden")
            assert error_of(visitor.post(f"/v1/albums/{album}/photos/delete", json={"blurry": True})) \
                == (403, "Forbidden")
    assert client.get(f"/v1/albums/{album}").json()["photos"] == 5


def test_download_names_are_safe_and_unique() -> None:
    def photo(name: str | None, content_type: str = "image/jpeg") -> Photo:
        return Photo(id="0123456789abcdef0123", filename=name, content_type=content_type)

    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name('C:\\Users\\me\\a:b*c?.jpg') == "a_b_c_.jpg"
    assert safe_name("\x00\x1f") == "__" and safe_name(" . ") == ""
    assert len(safe_name("x" * 300 + ".jpeg")) == 200 and safe_name("x" * 300 + ".jpeg").endswith(".jpeg")
    names = entry_names([photo("IMG.jpg"), photo("img.JPG"), photo("IMG.jpg"), photo(None), photo(None, "image/heic"),
                         photo("README"), photo("readme")])
    assert names == ["IMG.jpg", "img (2).JPG", "IMG (3).jpg", "0123456789abcdef0123.jpg",
                     "0123456789abcdef0123.heic", "README", "readme (2)"]


def test_archive_names_and_their_content_disposition() -> None:
    assert archive_name("Jeju trip", "Hugo") == "Jeju trip - Hugo.zip"
    assert archive_name("Jeju trip", "Person 3") == "Jeju trip - Person 3.zip"
    assert archive_name("a/b: c?", "Zoë*") == "b_ c_ - Zoë_.zip" and archive_name(" . ", "") == "album - photos.zip"
    long = archive_name("x" * 200, "y" * 200)
    assert len(long) == 200 and long.startswith("xxx") and long.endswith("x - " + "y" * 80 + ".zip")
    header = content_disposition("제주 Café \"100%\" - Zoë.zip")
    assert header.isascii()
    assert header == ("attachment; filename=\"_ Cafe _100__ - Zoe.zip\"; "
                      "filename*=UTF-8''%EC%A0%9C%EC%A3%BC%20Caf%C3%A9%20%22100%25%22%20-%20Zo%C3%AB.zip")


def test_square_window_holds_the_most_face_area() -> None:
    assert square_window(4000, 3000, []) == (500, 0, 3000)  # no faces: centred
    assert square_window(4000, 3000, [[3500, 1000, 300, 300]]) == (1000, 0, 3000)  # a face at the right edge
    assert square_window(3000, 4000, [[1000, 200, 300, 300]]) == (0, 0, 3000)  # portrait: slides vertically
    # Two faces too far apart for one square: the larger one is kept whole, with the square centred on it.
    assert square_window(4000, 3000, [[100, 1000, 300, 300], [3500, 1000, 400, 400]]) == (1000, 0, 3000)
    # Faces that fit together are all kept, centred as a group.
    left, _, side = square_window(4000, 1000, [[1200, 100, 200, 200], [1800, 100, 200, 200]])
    assert left <= 1200 - 30 and left + side >= 2000 + 30 and side == 1000


# --- API documentation without a CDN ------------------------------------------------------------------------------


def test_docs_and_redoc_load_only_local_assets(server: Server) -> None:
    client = server.client()
    for page in ("/docs", "/redoc"):
        reply = client.get(page)
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/html")
        html = reply.text
        assert not re.search(r"https?:|//[a-z]", html, re.IGNORECASE), html  # no absolute or protocol-less URL
        urls = re.findall(r'(?:src|href|spec-url)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
        assert len(urls) >= 3, urls
        for url in urls:
            assert url.startswith("/"), url
            assert client.get(url).status_code == 200, url
