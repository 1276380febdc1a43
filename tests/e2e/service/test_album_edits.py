"""Renaming albums and members, suggested merges of people, and the end of a re-match (``album.matched``), through
HTTP against real servers; on a keyed server the renames are the owner's and share links may read suggestions."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from people_images import shot
from service_support import Server, events_until, upload, wait_analysed, wait_idle

pytestmark = pytest.mark.integration

KEY = "album-edits-owner-key-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("edits") / "data", {"PHOTOSIFT_API_KEYS": KEY},
                api_key=KEY).running() as running:
        yield running


def error_of(reply: httpx.Response) -> tuple[int, str]:
    return reply.status_code, reply.json()["error"]["type"]


def member(client: httpx.Client, album_id: str, name: str, photo: bytes) -> dict:
    reply = client.post(f"/v1/albums/{album_id}/members", data={"name": name},
                        files=[("files", ("selfie.jpg", photo, "image/jpeg"))])
    assert reply.status_code == 201, reply.text
    return reply.json()


def test_renaming_an_album_and_a_member(server: Server) -> None:
    client = server.client()
    album_id = client.post("/v1/albums", json={"name": "Jeju"}).json()["id"]
    other_album = client.post("/v1/albums", json={"name": "Other"}).json()["id"]

    reply = client.patch(f"/v1/albums/{album_id}", json={"name": "  Jeju 2026 "})
    assert reply.status_code == 200, reply.text
    assert reply.json()["name"] == "Jeju 2026" and reply.json()["photos"] == 0
    assert client.get(f"/v1/albums/{album_id}").json()["name"] == "Jeju 2026"
    for body in ({"name": ""}, {"name": "   "}, {"name": "x" * 201}, {"name": "tab\there"}, {}):
        assert error_of(client.patch(f"/v1/albums/{album_id}", json=body)) == (400, "InvalidInput"), body
    assert error_of(client.patch("/v1/albums/nope", json={"name": "A"})) == (404, "NotFound")

    minji = member(client, album_id, "Minji", shot("astronaut", 0))
    jun = member(client, album_id, "Jun", shot("cameraman", 0))
    path = f"/v1/albums/{album_id}/members/{minji['id']}"
    reply = client.patch(path, json={"name": "Minji K."})
    assert reply.status_code == 200 and reply.json()["name"] == "Minji K.", reply.text
    assert len(reply.json()["references"]) == 1
    assert client.patch(path, json={"name": "Minji K."}).status_code == 200  # the same name: nothing to do
    assert error_of(client.patch(path, json={"name": "Jun"})) == (409, "AlreadyExists")
    assert error_of(client.patch(path, json={"name": " "})) == (400, "InvalidInput")
    assert error_of(client.patch(f"/v1/albums/{other_album}/members/{minji['id']}", json={"name": "A"})) == (
        404, "NotFound")
    names = {m["id"]: m["name"] for m in client.get(f"/v1/albums/{album_id}/members").json()}
    assert names == {minji["id"]: "Minji K.", jun["id"]: "Jun"}

    # Open pages learn both from the event stream.
    events = events_until(server, album_id, lambda es: any(e["event"] == "album.updated" for e in es)
                          and any(e["data"].get("name") == "Minji K." for e in es if e["event"] == "member.updated"))
    assert {"name": "Jeju 2026"} in [e["data"] for e in events if e["event"] == "album.updated"]

    # A share link (even one that may upload) renames nothing.
    link = client.post(f"/v1/albums/{album_id}/shares", json={"can_upload": True}).json()
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {link['token']}"}) as visitor:
        assert error_of(visitor.patch(f"/v1/albums/{album_id}", json={"name": "Mine"})) == (403, "Forbidden")
        assert error_of(visitor.patch(path, json={"name": "Mine"})) == (403, "Forbidden")
        assert visitor.get(f"/v1/albums/{album_id}/people/suggestions").status_code == 200
    assert client.get(f"/v1/albums/{album_id}").json()["name"] == "Jeju 2026"


def test_suggested_merges_and_the_end_of_a_rematch(server: Server) -> None:
    client = server.client()
    album_id = client.post("/v1/albums", json={"name": "Look-alikes"}).json()["id"]
    assert client.get(f"/v1/albums/{album_id}/people/suggestions").json() == {"items": []}
    assert error_of(client.get("/v1/albums/nope/people/suggestions")) == (404, "NotFound")
    named = [(f"cam-{k}.jpg", shot("cameraman", k)) for k in range(1, 5)] + [("eileen.jpg", shot("astronaut", 1))]
    reply = upload(client, album_id, named)
    ids = {p["filename"]: p["id"] for p in reply.json()["photos"]}
    wait_analysed(client, list(ids.values()))
    wait_idle(client)
    (person,) = client.get(f"/v1/albums/{album_id}/people").json()["items"]
    faces = {f["photo_id"]: f["id"] for f in client.get(f"/v1/albums/{album_id}/people/{person['id']}").json()["items"]}
    assert set(faces) == {ids[f"cam-{k}.jpg"] for k in range(1, 5)}
    assert client.get(f"/v1/albums/{album_id}/people/suggestions").json() == {"items": []}  # one person: no pair

    # Split in two: the halves look alike and share no photo, so they are suggested (never merged by themselves).
    split = client.post(f"/v1/albums/{album_id}/people/{person['id']}/split",
                        json={"face_ids": [faces[ids["cam-3.jpg"]], faces[ids["cam-4.jpg"]]]}).json()
    (suggestion,) = client.get(f"/v1/albums/{album_id}/people/suggestions").json()["items"]
    assert {p["id"] for p in suggestion["people"]} == {person["id"], split["id"]}
    assert all(p["cover"] and p["faces"] == 2 for p in suggestion["people"])
    assert 80 <= suggestion["similarity"] <= 100
    assert len(client.get(f"/v1/albums/{album_id}/people").json()["items"]) == 2

    # A hidden person is not suggested; merged, nothing is left to suggest.
    assert client.patch(f"/v1/albums/{album_id}/people/{split['id']}", json={"hidden": True}).status_code == 200
    assert client.get(f"/v1/albums/{album_id}/people/suggestions").json() == {"items": []}
    assert client.patch(f"/v1/albums/{album_id}/people/{split['id']}", json={"hidden": False}).status_code == 200
    merged = client.post(f"/v1/albums/{album_id}/people/merge", json={"source": split["id"], "target": person["id"]})
    assert merged.status_code == 200, merged.text
    assert client.get(f"/v1/albums/{album_id}/people/suggestions").json() == {"items": []}

    # A new member: its change comes first, then the re-match's photo.matched events, then album.matched.
    new = member(client, album_id, "Eileen", shot("astronaut", 0))
    events = events_until(server, album_id, lambda es: any(e["event"] == "album.matched" for e in es[changed_at(es):]))
    start = changed_at(events)
    assert events[start - 1]["data"]["member_id"] == new["id"]
    after = events[start:]
    done = [e["event"] for e in after].index("album.matched")
    assert [e["data"]["photo_id"] for e in after[:done] if e["event"] == "photo.matched"] == [ids["eileen.jpg"]]
    assert after[done]["data"] == {"photos_changed": 1}


def changed_at(events: list[dict]) -> int:
    """The index just after the last member.updated event (len + 1 while there is none)."""
    last = [i for i, e in enumerate(events) if e["event"] == "member.updated"]
    return last[-1] + 1 if last else len(events) + 1
