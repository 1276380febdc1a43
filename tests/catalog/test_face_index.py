"""The face index behind Rekognition searches, on SQLite and PostgreSQL (the pgserver wheel's server) alike: searches
answer as the exact scan does, exactly while a space is small and over codes past ``CODED_FROM``; removals and
per-collection isolation hold; another process's writes are seen at its next search; an index lost or left behind by
writes it did not see is refilled from the catalog; a rolled-back write leaves nothing behind; and threads may search
while another indexes."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from pgserver_support import catalog_url, pgserver_url  # noqa: E402, F401 - PostgreSQL 16 (pgserver)
from service_support import postgres_url  # noqa: E402, F401 - Debian's PostgreSQL 15
from sqlalchemy import select, text

from photosift.application import rekognition as app
from photosift.application import scoring
from photosift.catalog import face_index
from photosift.catalog.db import Catalog
from photosift.catalog.rekognition import RekognitionFace

DIM = 512  # w600k_mbf's vector; an embedding adds the pose value


def embeddings(count: int, identities: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(embeddings (count, DIM + 1), identity of each)``: unit vectors around identity centres (cosine about 0.7
    to their centre, as real faces of one person), frontal to half-profile pose values."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(identities, DIM))
    who = rng.integers(0, identities, count)
    vectors = centres[who] / np.sqrt(DIM) + rng.normal(size=(count, DIM)) / np.sqrt(DIM)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.column_stack([vectors, rng.uniform(0, 0.5, count)]).astype(np.float32), who


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated catalog's URL: SQLite, or PostgreSQL. Collections left are deleted after."""
    url = catalog_url(request, tmp_path)
    catalog = Catalog(url)
    catalog.migrate()
    yield url
    for row in app.list_collections(catalog, after=None, limit=100)[0]:
        app.delete_collection(catalog, row[0])
    catalog.dispose()


def index_faces(catalog: Catalog, collection_id: str, vectors: np.ndarray, *, create: bool = True) -> list[str]:
    if create:
        app.create_collection(catalog, collection_id, arn="arn", face_model_version=app.face_model_version())
    new = [app.NewFace(box=(0.1, 0.1, 0.2, 0.2), confidence=99.0, embedding=v) for v in vectors]
    return [f.face_id for f in app.add_faces(catalog, collection_id, new, image_id="img", external_image_id=None)]


def exact(catalog: Catalog, collection_id: str, probe: np.ndarray, threshold: float, limit: int) -> list[str]:
    """The face ids the exact scan answers: every face scored."""
    with catalog.read() as session:
        rows = session.execute(select(RekognitionFace.face_id, RekognitionFace.embedding)
                               .where(RekognitionFace.collection_id == collection_id)).all()
    scores = scoring.scores(probe, [np.frombuffer(blob, np.float32) for _, blob in rows])
    ranked = sorted((-s, face_id) for s, (face_id, _) in zip(scores, rows, strict=True) if s >= threshold)
    return [face_id for _, face_id in ranked[:limit]]


def searched(catalog: Catalog, collection_id: str, probe: np.ndarray, threshold: float = 0.0,
             limit: int = 10) -> list[str]:
    return [f.face_id for f, _ in app.search_faces(catalog, collection_id, probe, threshold=threshold, limit=limit)]


def kind(catalog: Catalog) -> type:
    return type(app._index(catalog))


def test_searches_answer_as_the_exact_scan(url: str) -> None:
    catalog = Catalog(url)
    assert kind(catalog) is face_index.CatalogIndex
    vectors, who = embeddings(400, 40, seed=1)
    ids = index_faces(catalog, "c", vectors)
    probes, _ = embeddings(10, 40, seed=2)  # other people: nobody reaches 30
    noise = np.random.default_rng(2).normal(size=(10, DIM + 1)).astype(np.float32) * 0.03
    for probe in [*probes, *(vectors[::40] + noise)]:  # and these people in other photos
        for threshold, limit in ((30.0, 3), (30.0, 10), (50.0, 100), (80.0, 4096)):
            assert searched(catalog, "c", probe, threshold, limit) == exact(catalog, "c", probe, threshold, limit)
    found = app.search_faces(catalog, "c", vectors[7], threshold=80.0, limit=100, exclude_face_id=ids[7])
    assert ids[7] not in {f.face_id for f, _ in found} and {who[ids.index(f.face_id)] for f, _ in found} == {who[7]}

    for identity in range(3):  # users: one per identity, searched by their faces' template
        app.create_user(catalog, "c", f"u{identity}")
        mine = [i for i, w in zip(ids, who, strict=True) if w == identity]
        assert app.associate_faces(catalog, "c", f"u{identity}", mine, threshold=0.0)[0] == mine
    users = app.search_users(catalog, "c", vectors[list(who).index(1)], threshold=50.0, limit=5)
    assert [u.user_id for u, _ in users] == ["u1"]
    assert [u.user_id for u, _ in app.search_users(catalog, "c", probes[0], threshold=0.0, limit=5)] == [
        u.user_id for u, _ in sorted(
            ((u, s) for u, s in ((app.User(f"u{i}", 0), float(scoring.scores(
                probes[0], [app.user_vector(catalog, "c", f"u{i}")])[0])) for i in range(3))),
            key=lambda p: -p[1])]
    catalog.dispose()


def test_removed_faces_and_users_are_not_found(url: str) -> None:
    catalog = Catalog(url)
    vectors, _ = embeddings(50, 5, seed=3)
    ids = index_faces(catalog, "c", vectors)
    assert searched(catalog, "c", vectors[0], limit=1) == [ids[0]]
    assert app.delete_faces(catalog, "c", [ids[0], ids[1]])[0] == [ids[0], ids[1]]
    assert not {ids[0], ids[1]} & set(searched(catalog, "c", vectors[0], limit=100))
    app.create_user(catalog, "c", "u")
    app.associate_faces(catalog, "c", "u", [ids[2]], threshold=0.0)
    assert [u.user_id for u, _ in app.search_users(catalog, "c", vectors[2], threshold=50, limit=5)] == ["u"]
    app.disassociate_faces(catalog, "c", "u", [ids[2]])
    assert app.search_users(catalog, "c", vectors[2], threshold=0, limit=5) == []
    app.associate_faces(catalog, "c", "u", [ids[3]], threshold=0.0)
    app.delete_user(catalog, "c", "u")
    assert app.search_users(catalog, "c", vectors[3], threshold=0, limit=5) == []
    catalog.dispose()


def test_collections_are_searched_apart(url: str) -> None:
    catalog = Catalog(url)
    vectors, _ = embeddings(60, 6, seed=4)
    a, b = index_faces(catalog, "a", vectors[:30]), index_faces(catalog, "b", vectors[30:])
    assert set(searched(catalog, "a", vectors[40], limit=100)) == set(a)
    app.delete_collection(catalog, "a")
    assert set(searched(catalog, "b", vectors[0], limit=100)) == set(b)
    app.create_collection(catalog, "a", arn="arn", face_model_version=app.face_model_version())
    assert searched(catalog, "a", vectors[0], limit=100) == []  # the old "a"'s faces are gone with it
    again = index_faces(catalog, "a", vectors[:2], create=False)
    assert searched(catalog, "a", vectors[0], limit=100) == again
    catalog.dispose()


def test_an_index_that_is_lost_or_behind_is_refilled_from_the_catalog(url: str) -> None:
    catalog = Catalog(url)
    vectors, _ = embeddings(120, 12, seed=5)
    ids = index_faces(catalog, "c", vectors[:100])
    assert searched(catalog, "c", vectors[5], limit=1) == [ids[5]]

    other = Catalog(url)  # another process: writes through its own index
    more = index_faces(other, "c", vectors[100:110], create=False)
    assert searched(catalog, "c", vectors[105], limit=1) == [more[5]]
    app.delete_faces(other, "c", [ids[5]])
    assert ids[5] not in searched(catalog, "c", vectors[5], limit=100)

    # faces written behind every index's back, and the index lost: a new process finds them all
    with catalog.session() as session:
        behind = [str(uuid.uuid4()) for _ in range(10)]
        for face_id, v in zip(behind, vectors[110:], strict=True):
            session.add(RekognitionFace(face_id=face_id, collection_id="c", image_id="img", external_image_id=None,
                                        user_id=None, box_left=0, box_top=0, box_width=0.1, box_height=0.1,
                                        confidence=99.0, embedding=v.tobytes(), created_at=datetime.now(UTC)))
    fresh = Catalog(url)
    assert searched(fresh, "c", vectors[113], limit=1) == [behind[3]]
    with catalog.session() as session:  # the space's entries lost
        session.execute(text("DELETE FROM face_index_entries"))
    lost = Catalog(url)
    probes, _ = embeddings(5, 12, seed=6)
    for probe in probes:  # the first search reads the collection's faces; the entries are refilled after it
        assert searched(lost, "c", probe) == exact(lost, "c", probe, 0.0, 10)
    with lost.read() as session:
        assert face_index.CatalogIndex._entries(session, "faces/c") == 119
    for c in (catalog, other, fresh, lost):
        c.dispose()


def test_large_spaces_are_searched_over_codes(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(face_index, "CODED_FROM", 400)
    catalog = Catalog(url)
    vectors, _ = embeddings(1200, 120, seed=11)
    ids = index_faces(catalog, "c", vectors[:600])
    assert searched(catalog, "c", vectors[3], limit=1) == [ids[3]]
    copy = app._index(catalog)._copies["faces/c"]
    assert copy.codes is not None and copy.trained_on == 600
    ids += index_faces(catalog, "c", vectors[600:], create=False)  # caught up at the next search, coded as added
    app.delete_faces(catalog, "c", ids[:10])
    noise = np.random.default_rng(12).normal(size=(40, DIM + 1)).astype(np.float32) * 0.03
    for probe in vectors[10::30] + noise:
        assert searched(catalog, "c", probe, 50.0, 20) == exact(catalog, "c", probe, 50.0, 20)
    assert not set(ids[:10]) & set(searched(catalog, "c", vectors[0], 0.0, 50))
    assert copy.codes.ntotal == 1200 and copy.live == 1190
    catalog.dispose()


def test_another_process_sees_writes_at_its_next_search_and_a_rolled_back_write_is_forgotten(url: str) -> None:
    catalog, other = Catalog(url), Catalog(url)
    vectors, _ = embeddings(40, 4, seed=13)
    ids = index_faces(catalog, "c", vectors[:20])
    assert searched(other, "c", vectors[3], limit=1) == [ids[3]]
    more = index_faces(catalog, "c", vectors[20:30], create=False)
    assert searched(other, "c", vectors[25], limit=1) == [more[5]]

    index = app._index(other)
    with pytest.raises(RuntimeError), other.session() as session:  # searched within the write, then rolled back
        index.add(session, "faces/c", ["ghost"], scoring.index_vectors(vectors[30:31]))
        assert index.nearest(session, "faces/c", scoring.index_query(vectors[30]), 1) == ["ghost"]
        raise RuntimeError("rolled back")
    later = index_faces(catalog, "c", vectors[31:33], create=False)  # takes the version the rolled-back one had
    with other.read() as session:
        found = index.nearest(session, "faces/c", scoring.index_query(vectors[30]), 40)
    assert "ghost" not in found and set(later) <= set(found)
    catalog.dispose()
    other.dispose()


def test_another_recognisers_vectors_are_never_compared(url: str) -> None:
    catalog = Catalog(url)

    stored: dict[str, tuple[list[str], np.ndarray]] = {}

    class Stored:  # the catalog's side of these spaces: what was added
        def count(self, session, space):  # noqa: ANN001, ANN202
            return len(stored.get(space, ((), ()))[0])

        def load(self, session, space):  # noqa: ANN001, ANN202
            return iter([stored[space]] if space in stored else [])

    owner = Catalog(url)  # the index lives as long as its catalog
    index = face_index.for_catalog(owner, Stored())
    rng = np.random.default_rng(8)
    wide, narrow = rng.normal(size=(5, 512)).astype(np.float32), rng.normal(size=(5, 128)).astype(np.float32)
    stored.update({"test/wide": (list("abcde"), wide), "test/narrow": (list("vwxyz"), narrow)})
    with catalog.session() as session:
        index.add(session, "test/wide", list("abcde"), wide)
        index.add(session, "test/narrow", list("vwxyz"), narrow)
        index.add(session, "test/narrow", ["q"], wide[:1])  # another dimension than the space's: left out
    with catalog.read() as session:
        assert index.nearest(session, "test/wide", wide[2], 1) == ["c"]
        assert index.nearest(session, "test/narrow", narrow[1], 1) == ["w"]
        assert index.nearest(session, "test/narrow", wide[0], 3) == []
        assert set(index.nearest(session, "test/narrow", narrow[0], 10)) == set("vwxyz")
    with catalog.session() as session:
        index.drop(session, "test/wide")
        index.drop(session, "test/narrow")
    catalog.dispose()
    owner.dispose()


def test_threads_search_while_another_indexes(url: str) -> None:
    catalog = Catalog(url)
    vectors, _ = embeddings(300, 30, seed=9)
    ids = index_faces(catalog, "c", vectors[:100])
    errors: list[BaseException] = []

    def search() -> None:
        try:
            for i in range(40):
                assert searched(catalog, "c", vectors[i % 100], limit=1) == [ids[i % 100]]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=search) for _ in range(3)]
    for t in threads:
        t.start()
    for start in range(100, 300, 20):
        index_faces(catalog, "c", vectors[start : start + 20], create=False)
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(searched(catalog, "c", vectors[250], limit=1000)) == 300
    catalog.dispose()


def test_postgresql_needs_no_extension(postgres_url: str) -> None:  # noqa: F811 - Debian's PostgreSQL 15
    catalog = Catalog(postgres_url)
    catalog.migrate()
    vectors, _ = embeddings(30, 3, seed=10)
    ids = index_faces(catalog, "plain", vectors)
    assert searched(catalog, "plain", vectors[4], limit=1) == [ids[4]]
    assert kind(catalog) is face_index.CatalogIndex and "faces/plain" in app._index(catalog)._copies
    app.delete_collection(catalog, "plain")
    catalog.dispose()
