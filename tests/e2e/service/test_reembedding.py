"""Upgrading a catalog the previous release wrote (``facenet+dlib`` vectors, schema 0008) with nothing lost, on
SQLite and on PostgreSQL: at start-up the album is re-embedded from its stored photos by a background job (progress
in ``/v1/status`` and as events), its corrections survive, it is re-matched once, and a Rekognition collection of
face model version 1.0 answers an AWS error that says to index again."""

from __future__ import annotations

import boto3
import httpx
import pytest
import sqlalchemy as sa
from botocore.config import Config
from botocore.exceptions import ClientError
from release_catalog import OLD_RECOGNIZER, ReleaseAlbum, write_release_catalog
from service_support import Server, events_until, sse_events, wait_idle

from photosift import faces
from photosift.store.local import LocalStore

pytestmark = pytest.mark.integration


def history(server: Server, album_id: str) -> list[dict]:
    """Every event of the album so far (the stream's history, then 3 s of silence)."""
    events: list[dict] = []
    quiet = httpx.Client(base_url=server.url, headers=server.headers, timeout=httpx.Timeout(10, read=3))
    with pytest.raises(httpx.ReadTimeout), quiet, quiet.stream("GET", f"/v1/albums/{album_id}/events") as stream:
        for event in sse_events(stream.iter_lines()):  # until 3 s of silence end the stream
            events.append(event)
    return events


def rows(url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as db:
            return [tuple(r) for r in db.execute(sa.text(sql)).all()]
    finally:
        engine.dispose()


def reembedded_then_matched(events: list[dict]) -> bool:
    types = [e.get("event") for e in events]
    return "album.reembedded" in types and "album.matched" in types[types.index("album.reembedded"):]


@pytest.mark.parametrize("catalog", ["sqlite", "postgresql"])
def test_a_release_catalog_is_reembedded_with_nothing_lost(make_server, images, catalog, request, tmp_path) -> None:
    data_dir = tmp_path / f"release-{catalog}"
    url = (request.getfixturevalue("postgres_url") if catalog == "postgresql"
           else f"sqlite:///{(data_dir / 'catalog.sqlite3').resolve()}")
    album: ReleaseAlbum = write_release_catalog(url, LocalStore(data_dir / "blobs"), reference=images["face"])
    stale = len(album.faces) + 1  # five faces and one reference photo

    server: Server = make_server(data_dir.name, env={"PHOTOSIFT_DATABASE_URL": url})
    with server.client() as client:
        # the album was queued at start-up (the analysis processes take seconds to load their models)
        assert client.get("/v1/status").json()["reembedding"] == {"albums": 1, "faces": stale}
        events = events_until(server, album.album_id, reembedded_then_matched, timeout=240)
        wait_idle(client)
        assert client.get("/v1/status").json()["reembedding"] == {"albums": 0, "faces": 0}
        photos = {name: client.get(f"/v1/photos/{pid}").json() for name, pid in album.photos.items()}
        members = {m["id"]: m for m in client.get(f"/v1/albums/{album.album_id}/members").json()}

    types = [e["event"] for e in events]
    end = types.index("album.reembedded")
    progress = [e["data"] for e in events[:end] if e["event"] == "album.reembedding"]
    assert progress and progress[0] == {"done": 0, "total": stale}, progress
    assert all(p["total"] == stale and 0 <= p["done"] <= stale for p in progress)
    assert events[end]["data"] == {"recognizer": faces.EMBEDDER, "faces": 4, "references": 1, "rejections": 1,
                                   "failed_photos": 1, "failed_references": 0}

    # every face kept its id and its place; the album was re-matched on the new vectors
    face = {name: photo["faces"][0] for name, photo in photos.items()}
    assert {name: f["id"] for name, f in face.items()} == album.faces
    assert face["a0.jpg"]["member"]["id"] == album.member_id and face["a0.jpg"]["member"]["similarity"] >= 90
    assert face["a1.jpg"]["member"]["id"] == album.member_id  # "this is Eileen": pinned
    assert face["c0.jpg"]["member"] is None and face["c0.jpg"]["person_id"] == album.person_id  # pinned to a person
    assert face["c1.jpg"]["member"] is None and face["c1.jpg"]["person_id"] == album.person_id
    assert face["gone.jpg"]["member"] == {"id": album.member_id, "name": "Eileen", "similarity": 96.0}  # as it was
    assert members[album.member_id]["photos"] == 3 and len(members[album.member_id]["references"]) == 1

    # the catalog: new vectors with their recogniser; what could not be re-embedded keeps the old ones
    new = faces.EMBEDDING_DIM * 4
    stored = {fid: (recognizer, len(blob), bool(pinned)) for fid, recognizer, blob, pinned in rows(
        url, "SELECT id, recognizer, embedding, person_pinned FROM faces")}
    gone = album.faces["gone.jpg"]
    assert stored.pop(gone) == (OLD_RECOGNIZER, 641 * 4, False)
    pinned = {"a0.jpg": False, "a1.jpg": True, "c0.jpg": True, "c1.jpg": False}
    assert stored == {album.faces[name]: (faces.EMBEDDER, new, pin) for name, pin in pinned.items()}
    rejections = {rid: (recognizer, bytes(blob)) for rid, recognizer, blob in rows(
        url, "SELECT id, recognizer, embedding FROM rejections")}
    c0_vector = bytes(rows(url, f"SELECT embedding FROM faces WHERE id = '{album.faces['c0.jpg']}'")[0][0])
    assert rejections[album.rejection_id] == (faces.EMBEDDER, c0_vector)  # "not Eileen" follows its face
    assert rejections[album.orphan_rejection_id] == (OLD_RECOGNIZER, album.vectors[album.orphan_rejection_id])
    assert rows(url, "SELECT recognizer, length(embedding) FROM member_references") == [(faces.EMBEDDER, new)]
    templates = {mid: (recognizer, template and len(template)) for mid, recognizer, template in rows(
        url, "SELECT id, recognizer, template FROM members")}
    assert templates == {album.member_id: (faces.EMBEDDER, new), album.empty_member_id: (faces.EMBEDDER, None)}

    # the collection of the old face model: listed and described as it was, refused for searches
    rek = boto3.client("rekognition", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id="AKIDLOCAL", aws_secret_access_key="local",
                       config=Config(retries={"total_max_attempts": 1}))
    assert rek.describe_collection(CollectionId=album.collection_id)["FaceModelVersion"] == "1.0"
    with pytest.raises(ClientError) as err:
        rek.search_faces_by_image(CollectionId=album.collection_id, Image={"Bytes": images["face"]})
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "face model version 1.0" in err.value.response["Error"]["Message"]

    # a restart queues nothing again: what is left (the unreadable photo) was tried with this recogniser
    server.stop()
    server.start()
    with server.client() as client:
        assert client.get("/v1/status").json()["reembedding"] == {"albums": 0, "faces": 0}
    later = history(server, album.album_id)
    assert [e["event"] for e in later].count("album.matched") == types.count("album.matched") == 2  # release's + 1
    assert [e["event"] for e in later].count("album.reembedding") == len(progress)
    assert rows(url, "SELECT count(*) FROM jobs WHERE kind = 'reembed'") == [(1,)]
