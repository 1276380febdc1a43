"""People through HTTP against a real server: automatic grouping of unmatched faces and the user's corrections
(split, merge, move a face, hide, rename into a member), kept when new photos arrive."""

from __future__ import annotations

import time

import httpx
import pytest
from people_images import group, shot
from service_support import Server, upload, wait_analysed, wait_idle

pytestmark = pytest.mark.integration


def people(client: httpx.Client, album_id: str, hidden: bool = False) -> dict:
    reply = client.get(f"/v1/albums/{album_id}/people", params={"hidden": hidden})
    assert reply.status_code == 200, reply.text
    return reply.json()


def person_faces(client: httpx.Client, album_id: str, person_id: str) -> dict[str, str]:
    """``{face id: photo id}`` of a person (or of ``unknown``)."""
    reply = client.get(f"/v1/albums/{album_id}/people/{person_id}")
    assert reply.status_code == 200, reply.text
    return {f["id"]: f["photo_id"] for f in reply.json()["items"]}


def add(client: httpx.Client, album_id: str, named: list[tuple[str, bytes]]) -> dict[str, dict]:
    """Upload photos and wait for their analysis; returns the analysed photos by file name."""
    reply = upload(client, album_id, named)
    assert reply.status_code == 202, reply.text
    ids = {e["filename"]: e["id"] for e in reply.json()["photos"]}
    done = wait_analysed(client, list(ids.values()))
    assert all(p["status"] == "done" for p in done.values()), done
    return {name: done[pid] for name, pid in ids.items()}


def face_of(photo: dict) -> str:
    assert len(photo["faces"]) == 1, photo["faces"]
    return photo["faces"][0]["id"]


def person_of_face(client: httpx.Client, face_photo: dict, face_id: str) -> str | None:
    fresh = client.get(f"/v1/photos/{face_photo['id']}").json()
    return next(f for f in fresh["faces"] if f["id"] == face_id)["person_id"]


def test_people_are_grouped_and_corrections_are_kept(make_server, tmp_path) -> None:
    server: Server = make_server("people")
    client = server.client()
    album_id = client.post("/v1/albums", json={"name": "People"}).json()["id"]

    # One shot each: nobody is shown yet (a new person needs two faces), every face is unknown.
    first = add(client, album_id, [("a0.jpg", shot("astronaut", 0)), ("c0.jpg", shot("cameraman", 0))])
    listed = people(client, album_id)
    assert listed == {"items": [], "unknown": 2}
    assert set(person_faces(client, album_id, "unknown")) == {face_of(first["a0.jpg"]), face_of(first["c0.jpg"])}

    # More shots and a photo of both: two people, and the two faces of the group photo are never one person.
    photos = {**first, **add(client, album_id, [
        ("a1.jpg", shot("astronaut", 1)), ("a2.jpg", shot("astronaut", 2)), ("c1.jpg", shot("cameraman", 1)),
        ("c2.jpg", shot("cameraman", 2)), ("both.jpg", group())])}
    listed = people(client, album_id)
    assert listed["unknown"] == 0
    assert [p["faces"] for p in listed["items"]] == [4, 4]
    by_face = {}
    for person in listed["items"]:
        faces = person_faces(client, album_id, person["id"])
        assert len(set(faces.values())) == len(faces)  # one face per photo
        assert person["cover"]["face_id"] in faces and person["name"] == f"Person {person['number']}"
        by_face.update(dict.fromkeys(faces, person["id"]))
    astro = by_face[face_of(photos["a0.jpg"])]
    camera = by_face[face_of(photos["c0.jpg"])]
    assert astro != camera
    assert {by_face[f] for f in (face_of(photos[n]) for n in ("a1.jpg", "a2.jpg"))} == {astro}
    assert {by_face[f] for f in (face_of(photos[n]) for n in ("c1.jpg", "c2.jpg"))} == {camera}
    both = [f["id"] for f in photos["both.jpg"]["faces"]]
    assert sorted(by_face[f] for f in both) == sorted([astro, camera])
    assert all(f["person_id"] == by_face[f["id"]] for f in client.get(f"/v1/photos/{photos['a1.jpg']['id']}")
               .json()["faces"])

    # People who share a photo cannot be merged; nor can a person be merged into itself.
    refused = client.post(f"/v1/albums/{album_id}/people/merge", json={"source": camera, "target": astro})
    assert refused.status_code == 400 and "same photo" in refused.json()["error"]["message"]
    assert client.post(f"/v1/albums/{album_id}/people/merge",
                       json={"source": astro, "target": astro}).status_code == 400
    assert client.get(f"/v1/albums/{album_id}/people/nobody").status_code == 404

    # Split one shot off the cameraman; a new shot arrives; the split is kept.
    c2 = face_of(photos["c2.jpg"])
    split = client.post(f"/v1/albums/{album_id}/people/{camera}/split", json={"face_ids": [c2]})
    assert split.status_code == 201, split.text
    other = split.json()["id"]
    assert split.json()["faces"] == 1 and set(person_faces(client, album_id, other)) == {c2}
    photos |= add(client, album_id, [("c3.jpg", shot("cameraman", 3))])
    assert c2 in person_faces(client, album_id, other) and c2 not in person_faces(client, album_id, camera)
    assert person_of_face(client, photos["c3.jpg"], face_of(photos["c3.jpg"])) in {camera, other}

    # Merge them back: one cameraman again; the moved faces are reported (for an undo).
    camera_faces = set(person_faces(client, album_id, camera)) | set(person_faces(client, album_id, other))
    merged = client.post(f"/v1/albums/{album_id}/people/merge", json={"source": other, "target": camera})
    assert merged.status_code == 200, merged.text
    assert c2 in merged.json()["moved"] and merged.json()["faces"] == len(camera_faces)
    merged_in = set(merged.json()["moved"])
    assert client.get(f"/v1/albums/{album_id}/people/{other}").status_code == 404

    # Move one astronaut face to unknown: it stays unknown when more shots of her arrive.
    a2 = face_of(photos["a2.jpg"])
    moved = client.post(f"/v1/albums/{album_id}/faces/{a2}/move", json={})
    assert moved.status_code == 200, moved.text
    assert moved.json()["previous"] == {"person_id": astro, "member_id": None} and moved.json()["person_id"] is None
    photos |= add(client, album_id, [("a3.jpg", shot("astronaut", 3))])
    assert person_of_face(client, photos["a2.jpg"], a2) is None
    assert a2 in person_faces(client, album_id, "unknown")
    assert person_of_face(client, photos["a3.jpg"], face_of(photos["a3.jpg"])) == astro
    # A face can join another person unless that person already has a face in its photo.
    assert client.post(f"/v1/albums/{album_id}/faces/{a2}/move", json={"person_id": camera}).status_code == 200
    assert client.post(f"/v1/albums/{album_id}/faces/{a2}/move", json={}).status_code == 200  # back to unknown
    back = client.post(f"/v1/albums/{album_id}/faces/{both[0]}/move",
                       json={"person_id": by_face[both[1]]})
    assert back.status_code == 400  # the other face of that photo is already in that person

    # Hide the cameraman: gone from the list, still there with hidden=true, and new shots still join him.
    hidden = client.patch(f"/v1/albums/{album_id}/people/{camera}", json={"hidden": True})
    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    assert camera not in [p["id"] for p in people(client, album_id)["items"]]
    assert camera in [p["id"] for p in people(client, album_id, hidden=True)["items"]]
    photos |= add(client, album_id, [("c4.jpg", shot("cameraman", 4))])
    assert person_of_face(client, photos["c4.jpg"], face_of(photos["c4.jpg"])) == camera

    # Name the astronaut: she becomes a member with her faces; her next photo matches the member, not a person.
    renamed = client.post(f"/v1/albums/{album_id}/people/{astro}/rename", json={"name": "Eileen"})
    assert renamed.status_code == 200, renamed.text
    body = renamed.json()
    assert body["created"] is True and body["member"]["name"] == "Eileen" and body["member"]["references"]
    assert client.get(f"/v1/albums/{album_id}/people/{astro}").status_code == 404
    member_id = body["member"]["id"]
    a1 = client.get(f"/v1/photos/{photos['a1.jpg']['id']}").json()["faces"][0]
    assert a1["member"]["id"] == member_id and a1["person_id"] is None
    photos |= add(client, album_id, [("a4.jpg", shot("astronaut", 4))])
    a4 = photos["a4.jpg"]["faces"][0]
    assert a4["member"] is not None and a4["member"]["id"] == member_id and a4["person_id"] is None
    matched = client.get(f"/v1/albums/{album_id}/photos", params={"member": member_id}).json()["items"]
    assert {p["filename"] for p in matched} >= {"a0.jpg", "a1.jpg", "a3.jpg", "a4.jpg", "both.jpg"}

    # Naming the cameraman "Eileen" would put two faces of the group photo into one member: refused.
    clash = client.post(f"/v1/albums/{album_id}/people/{camera}/rename", json={"name": "Eileen"})
    assert clash.status_code == 400, clash.text
    # Moving a face to the member pins it there, even through a re-match of the album.
    moved = client.post(f"/v1/albums/{album_id}/faces/{a2}/move", json={"member_id": member_id})
    assert moved.status_code == 200 and moved.json()["member_id"] == member_id
    extra = client.post(f"/v1/albums/{album_id}/members", data={"name": "Someone"},
                        files=[("files", ("ref.jpg", shot("cameraman", 0), "image/jpeg"))])
    assert extra.status_code == 201, extra.text
    deadline = time.monotonic() + 60
    while (c1 := client.get(f"/v1/photos/{photos['c1.jpg']['id']}").json()["faces"][0])["member"] is None:
        assert time.monotonic() < deadline, "the album was not re-matched"
        time.sleep(0.1)
    assert c1["member"]["name"] == "Someone" and c1["person_id"] is None
    assert client.get(f"/v1/photos/{photos['a2.jpg']['id']}").json()["faces"][0]["member"]["id"] == member_id
    # The cameraman's other faces went to the new member; the faces the user merged in stay where they were put.
    assert set(person_faces(client, album_id, camera)) == merged_in

    # Deleting a member frees its faces, those the user pinned to it included: they are grouped into a person again.
    assert client.delete(f"/v1/albums/{album_id}/members/{member_id}").status_code == 204
    deadline = time.monotonic() + 60
    while person_of_face(client, photos["a2.jpg"], a2) is None:
        assert time.monotonic() < deadline, "the freed faces were not grouped again"
        time.sleep(0.1)
    assert person_of_face(client, photos["a2.jpg"], a2) == person_of_face(client, photos["a1.jpg"],
                                                                           face_of(photos["a1.jpg"]))


def test_people_follow_member_changes_and_a_full_regroup_keeps_them(make_server) -> None:
    """A re-match that gives a person's faces to a new member removes the person; deleting the member frees them
    into a person again (from their neighbours, not a pass over the album); a full re-cluster changes nothing."""
    server: Server = make_server("people-members")
    client = server.client()
    album_id = client.post("/v1/albums", json={"name": "Regroup"}).json()["id"]
    photos = add(client, album_id, [(f"a{k}.jpg", shot("astronaut", k)) for k in (1, 2, 3)])
    faces = {face_of(p) for p in photos.values()}
    (person,) = people(client, album_id)["items"]
    assert set(person_faces(client, album_id, person["id"])) == faces

    member = client.post(f"/v1/albums/{album_id}/members", data={"name": "Eileen"},
                         files=[("files", ("selfie.jpg", shot("astronaut", 0), "image/jpeg"))])
    assert member.status_code == 201, member.text
    wait_idle(client)
    assert people(client, album_id) == {"items": [], "unknown": 0}  # her faces are hers now, not a person's

    assert client.delete(f"/v1/albums/{album_id}/members/{member.json()['id']}").status_code == 204
    wait_idle(client)
    (again,) = people(client, album_id)["items"]
    assert set(person_faces(client, album_id, again["id"])) == faces

    reply = client.post(f"/v1/albums/{album_id}/people/regroup")
    assert reply.status_code == 202 and reply.json() == {"queued": True}, reply.text
    wait_idle(client)
    assert [p["id"] for p in people(client, album_id)["items"]] == [again["id"]]
