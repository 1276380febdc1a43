"""Suggestions ("Is this <member>?") and the preview of "Not <member>" through HTTP against a real server."""

from __future__ import annotations

import httpx
import pytest
from people_images import just_above, near_miss, shot
from service_support import Server, wait_idle
from test_members import add_member, analysed

pytestmark = pytest.mark.integration


def suggestions(client: httpx.Client, album_id: str, **params: str) -> list[dict]:
    reply = client.get(f"/v1/albums/{album_id}/suggestions", params=params)
    assert reply.status_code == 200, reply.text
    return reply.json()["items"]


def test_a_near_miss_is_suggested_and_answered_in_one_tap(make_server) -> None:
    server: Server = make_server("suggestions")
    client = server.client()
    # How a soft shot of the astronaut scores against her selfie, in an album with the default threshold.
    plain = client.post("/v1/albums", json={"name": "Plain"}).json()["id"]
    assert add_member(client, plain, "Eileen", shot("astronaut", 0)).status_code == 201
    photo = analysed(client, plain, [("a1.jpg", near_miss())])["a1.jpg"]
    wait_idle(client)
    face = client.get(f"/v1/photos/{photo['id']}").json()["faces"][0]
    score = face["member"]["similarity"]

    for answer in (True, False):
        album = client.post("/v1/albums", json={"name": f"Strict {answer}", "threshold": just_above(score)}).json()
        photos = analysed(client, album["id"], [("a1.jpg", near_miss()), ("c1.jpg", shot("cameraman", 1))])
        member = add_member(client, album["id"], "Eileen", shot("astronaut", 0))
        assert member.status_code == 201, member.text
        assert member.json()["suggestions"] == 1  # told at once: one photo may show her
        wait_idle(client)
        (item,) = suggestions(client, album["id"])
        face_id = photos["a1.jpg"]["faces"][0]["id"]
        assert item["member"] == {"id": member.json()["id"], "name": "Eileen"} and item["photos"] == 1
        assert [f["id"] for f in item["faces"]] == [face_id] and item["person"] is None
        assert item["similarity"] < album["threshold"]
        assert suggestions(client, album["id"], member_id=member.json()["id"]) == [item]
        assert suggestions(client, album["id"], person_id="nobody") == []

        reply = client.post(f"/v1/albums/{album['id']}/suggestions/answer",
                            json={"member_id": member.json()["id"], "face_ids": [face_id], "accept": answer})
        assert reply.status_code == 200, reply.text
        assert reply.json() == {"member_id": member.json()["id"], "accepted": answer, "faces": [face_id]}
        wait_idle(client)
        assert suggestions(client, album["id"]) == []  # answered either way: not asked again
        fresh = client.get(f"/v1/photos/{photos['a1.jpg']['id']}").json()["faces"][0]
        assert (fresh["member"] or {}).get("id") == (member.json()["id"] if answer else None)
        listed = client.get(f"/v1/albums/{album['id']}/members").json()
        assert listed[0]["suggestions"] == 0 and listed[0]["photos"] == (1 if answer else 0)

    bad = client.post(f"/v1/albums/{plain}/suggestions/answer",
                      json={"member_id": "nobody", "face_ids": [face["id"]], "accept": True})
    assert bad.status_code == 404 and bad.json()["error"]["type"] == "NotFound"
    assert client.post(f"/v1/albums/{plain}/suggestions/answer", json={"member_id": "x", "face_ids": [],
                                                                        "accept": True}).status_code == 400


def test_not_member_says_what_it_would_take_before_it_is_done(make_server) -> None:
    server: Server = make_server("reject-preview")
    client = server.client()
    album = client.post("/v1/albums", json={"name": "Trip"}).json()["id"]
    eileen = add_member(client, album, "Eileen", shot("astronaut", 0)).json()["id"]
    photos = analysed(client, album, [(f"a{k}.jpg", shot("astronaut", k)) for k in (1, 2, 3)])
    wait_idle(client)
    face = photos["a1.jpg"]["faces"][0]["id"]

    before = {p["id"] for p in client.get(f"/v1/albums/{album}/photos", params={"member": eileen}).json()["items"]}
    assert len(before) == 3
    reply = client.get(f"/v1/albums/{album}/faces/{face}/reject-preview", params={"member_id": eileen})
    assert reply.status_code == 200, reply.text
    preview = reply.json()
    assert preview["faces"][0] == face and photos["a1.jpg"]["id"] in preview["photos"]
    assert preview["count"] == len(preview["photos"]) == len(preview["faces"])
    # The shots are crops of one photo (one and the same face to the matcher): they all leave with it, as said.
    assert client.post(f"/v1/albums/{album}/faces/{face}/reject", json={"member_id": eileen}).status_code == 200
    wait_idle(client)
    after = {p["id"] for p in client.get(f"/v1/albums/{album}/photos", params={"member": eileen}).json()["items"]}
    assert before - after == set(preview["photos"])

    for params, status in (({"member_id": "nobody"}, 404), ({}, 400), ({"member_id": "../x"}, 400)):
        reply = client.get(f"/v1/albums/{album}/faces/{face}/reject-preview", params=params)
        assert reply.status_code == status, reply.text
    assert client.get(f"/v1/albums/{album}/faces/nope/reject-preview",
                      params={"member_id": eileen}).status_code == 404
