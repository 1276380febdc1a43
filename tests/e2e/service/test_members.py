"""Members through HTTP against a real server: reference checks, and the corrections "not <member>" / "this is
<member>" that stick and act as evidence for later photos."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
from people_images import group, shot
from PIL import Image, ImageFilter
from service_support import Server, events_until, jpeg, upload, wait_analysed, wait_idle

from photosift.application.matching import CONFIDENT

pytestmark = pytest.mark.integration


def add_member(client: httpx.Client, album_id: str, name: str, photo: bytes, **form) -> httpx.Response:
    return client.post(f"/v1/albums/{album_id}/members", data={"name": name, **form},
                       files=[("files", ("selfie.jpg", photo, "image/jpeg"))])


def analysed(client: httpx.Client, album_id: str, named: list[tuple[str, bytes]]) -> dict[str, dict]:
    reply = upload(client, album_id, named)
    assert reply.status_code == 202, reply.text
    ids = {e["filename"]: e["id"] for e in reply.json()["photos"]}
    done = wait_analysed(client, list(ids.values()))
    return {name: done[pid] for name, pid in ids.items()}


def blurred(photo: bytes, radius: float) -> bytes:
    image = Image.open(io.BytesIO(photo)).convert("RGB").filter(ImageFilter.GaussianBlur(radius))
    return jpeg(np.asarray(image))


def test_reference_photos_are_checked(make_server) -> None:
    server: Server = make_server("refs")
    client = server.client()
    album_id = client.post("/v1/albums", json={"name": "Checks"}).json()["id"]

    no_face = jpeg(np.full((300, 400, 3), 128, np.uint8))
    reply = add_member(client, album_id, "Nobody", no_face)
    assert reply.status_code == 422 and reply.json()["error"]["type"] == "NoFaceFound"

    reply = add_member(client, album_id, "Soft", blurred(shot("astronaut", 0), 6))
    assert reply.status_code == 422 and reply.json()["error"]["type"] == "FaceTooBlurred", reply.text

    # Two faces of similar size: the caller must choose; the error lists them, largest first.
    reply = add_member(client, album_id, "Both", group())
    assert reply.status_code == 422 and reply.json()["error"]["type"] == "SeveralFaces", reply.text
    assert "face 0" in reply.json()["error"]["message"] and "face 1" in reply.json()["error"]["message"]
    # ... and gives them as structured details, to draw them: boxes in pixels of the upright photo.
    details = reply.json()["error"]["details"]
    assert (details["width"], details["height"]) == (1040, 560)
    assert [f["index"] for f in details["faces"]] == [0, 1]
    areas = [f["box"][2] * f["box"][3] for f in details["faces"]]
    assert areas == sorted(areas, reverse=True)
    centres = sorted(f["box"][0] + f["box"][2] / 2 for f in details["faces"])
    assert centres[0] < 520 < centres[1]  # one face in each half (astronaut left, cameraman right)
    for left, top, width, height in (f["box"] for f in details["faces"]):
        assert min(left, top) >= 0 and left + width <= 1040 and top + height <= 560 and width > 40
    assert "details" not in add_member(client, album_id, "Nobody", no_face).json()["error"]
    reply = add_member(client, album_id, "Both", group(), face="5")
    assert reply.status_code == 400, reply.text

    eileen = add_member(client, album_id, "Eileen", shot("astronaut", 0))
    assert eileen.status_code == 201, eileen.text
    assert eileen.json()["warnings"] == []
    # The face of the group photo that is the astronaut is Eileen's: refused as another member's face.
    faces = [add_member(client, album_id, "Pick", group(), face=str(i)) for i in (0, 1)]
    codes = sorted(r.status_code for r in faces)
    assert codes == [201, 409], [r.text for r in faces]
    conflict = next(r for r in faces if r.status_code == 409)
    assert conflict.json()["error"]["type"] == "FaceOfAnotherMember" and "Eileen" in conflict.json()["error"]["message"]
    # ... also as a second reference of another member.
    picked = next(r for r in faces if r.status_code == 201).json()
    reply = client.post(f"/v1/albums/{album_id}/members/{picked['id']}/references",
                        files=[("files", ("more.jpg", shot("astronaut", 2), "image/jpeg"))])
    assert reply.status_code == 409 and reply.json()["error"]["type"] == "FaceOfAnotherMember", reply.text
    # A second reference of the same member is fine.
    reply = client.post(f"/v1/albums/{album_id}/members/{eileen.json()['id']}/references",
                        files=[("files", ("more.jpg", shot("astronaut", 2), "image/jpeg"))])
    assert reply.status_code == 200 and len(reply.json()["references"]) == 2, reply.text


def test_not_member_and_this_is_member_stick(make_server) -> None:
    server: Server = make_server("corrections")
    client = server.client()
    album_id = client.post("/v1/albums", json={"name": "Corrections"}).json()["id"]
    eileen = add_member(client, album_id, "Eileen", shot("astronaut", 0)).json()["id"]

    photos = analysed(client, album_id, [("a1.jpg", shot("astronaut", 1)), ("c1.jpg", shot("cameraman", 1))])
    wait_idle(client)
    face = photos["a1.jpg"]["faces"][0]
    assert face["member"]["id"] == eileen, face
    assert photos["c1.jpg"]["faces"][0]["member"] is None

    # "Not Eileen": the face leaves her, and stays out after the album is re-matched.
    reply = client.post(f"/v1/albums/{album_id}/faces/{face['id']}/reject", json={"member_id": eileen})
    assert reply.status_code == 200, reply.text
    assert reply.json()["member_id"] is None and reply.json()["previous"]["member_id"] == eileen
    wait_idle(client)
    listed = client.get(f"/v1/albums/{album_id}/photos", params={"member": eileen}).json()["items"]
    assert listed == []
    # The same face in a new photo (the same shot, re-encoded) is kept out by the evidence.
    again = analysed(client, album_id, [("a1-copy.jpg", blurred(shot("astronaut", 1), 0.3))])["a1-copy.jpg"]
    wait_idle(client)
    fresh = client.get(f"/v1/photos/{again['id']}").json()
    assert fresh["faces"][0]["member"] is None, fresh["faces"]

    # "This is Eileen" (move to the member) pins it back and withdraws the rejection.
    reply = client.post(f"/v1/albums/{album_id}/faces/{face['id']}/move", json={"member_id": eileen})
    assert reply.status_code == 200 and reply.json()["member_id"] == eileen, reply.text
    wait_idle(client)
    listed = client.get(f"/v1/albums/{album_id}/photos", params={"member": eileen}).json()["items"]
    assert photos["a1.jpg"]["id"] in {p["id"] for p in listed}

    # Errors: an unknown member or face.
    reply = client.post(f"/v1/albums/{album_id}/faces/{face['id']}/reject", json={"member_id": "nope"})
    assert reply.status_code in (400, 404), reply.text
    reply = client.post(f"/v1/albums/{album_id}/faces/nope/reject", json={"member_id": eileen})
    assert reply.status_code in (400, 404), reply.text


def test_a_photo_with_a_confident_match_has_the_album_checked_again(make_server) -> None:
    """A face matched at CONFIDENT or more is evidence for the member's other photos (``matching`` rule 4): its
    photo's analysis queues one re-match of the album, which runs after the photos uploaded with it."""
    server: Server = make_server("evidence")
    client = server.client()
    album_id = client.post("/v1/albums", json={"name": "Evidence"}).json()["id"]
    eileen = add_member(client, album_id, "Eileen", shot("astronaut", 0)).json()["id"]
    wait_idle(client)  # the re-match that adding a member queues
    photos = analysed(client, album_id, [("a1.jpg", shot("astronaut", 1)), ("a2.jpg", shot("astronaut", 2)),
                                         ("c1.jpg", shot("cameraman", 1))])
    confident = [p for p in photos.values() if p["faces"] and (p["faces"][0]["member"] or {}).get("similarity", 0)
                 >= CONFIDENT]
    assert confident, [p["faces"] for p in photos.values()]
    wait_idle(client)
    kinds = [e["event"] for e in events_until(server, album_id, lambda events: sum(
        e["event"] == "album.matched" for e in events) >= 2)]
    last_analysed = max(i for i, kind in enumerate(kinds) if kind == "photo.analyzed")
    assert "album.matched" in kinds[last_analysed:], kinds
    listed = client.get(f"/v1/albums/{album_id}/photos", params={"member": eileen}).json()["items"]
    assert {p["id"] for p in listed} == {photos["a1.jpg"]["id"], photos["a2.jpg"]["id"]}
