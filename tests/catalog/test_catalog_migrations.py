"""Catalog migrations on real data: embeddings stored before they carried a pose value get one (frontal); every
vector of a catalog the previous release wrote is marked as that release's recogniser; the face index of before
(graph files, pgvector tables) goes and is filled anew from the catalog (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from release_catalog import OLD_RECOGNIZER, write_release_catalog  # noqa: E402
from service_support import postgres_url  # noqa: E402, F401 - the service tests' PostgreSQL fixture

from photosift.catalog.db import Catalog

OLD_DIM = 641  # the facenet+dlib release's vectors once 0008 gave them a pose value (FaceNet 512, dlib 128, pose)


def test_old_embeddings_get_a_frontal_pose_value(tmp_path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    catalog.migrate("0007_capture_date")
    old = np.arange(640, dtype=np.float32)
    with catalog.engine.begin() as db:
        db.execute(sa.text("INSERT INTO albums (id, name, created_at) VALUES ('a1', 'Trip', CURRENT_TIMESTAMP)"))
        db.execute(sa.text("INSERT INTO members (id, album_id, name, template, created_at, updated_at) VALUES "
                           "('m1', 'a1', 'Minji', :t, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"t": old.tobytes()})
        db.execute(sa.text("INSERT INTO members (id, album_id, name, template, created_at, updated_at) VALUES "
                           "('m2', 'a1', 'New', :t, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                   {"t": np.ones(OLD_DIM, np.float32).tobytes()})
    catalog.migrate()
    with catalog.engine.connect() as db:
        rows = dict(db.execute(sa.text("SELECT id, template FROM members")).all())
    upgraded = np.frombuffer(rows["m1"], np.float32)
    assert upgraded.shape == (OLD_DIM,) and upgraded[-1] == 0.0
    np.testing.assert_array_equal(upgraded[:640], old)
    np.testing.assert_array_equal(np.frombuffer(rows["m2"], np.float32), np.ones(OLD_DIM))  # untouched
    catalog.dispose()


# --- 0009: every stored vector records its recogniser ---------------------------------------------------------------

VECTOR_TABLES = {"faces": "embedding", "member_references": "embedding", "rejections": "embedding",
                 "members": "template"}


@pytest.fixture(params=["sqlite", "postgresql"])
def release_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty catalog database: a SQLite file, or the PostgreSQL test server's database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'release.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def _alembic(catalog: Catalog, command_name: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from photosift.catalog.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with catalog.engine.connect() as connection:
        config.attributes["connection"] = connection
        getattr(command, command_name)(config, revision)
        connection.commit()


def _emptied(catalog: Catalog) -> None:
    """Close ``catalog``; on PostgreSQL, whose database the module's tests share, drop everything in it first."""
    with catalog.engine.begin() as db:
        if catalog.engine.dialect.name == "postgresql":
            db.execute(sa.text("DROP SCHEMA public CASCADE"))
            db.execute(sa.text("CREATE SCHEMA public"))
    catalog.dispose()


def test_a_release_catalog_upgrades_with_every_vector_marked_as_its_recogniser(release_url) -> None:
    album = write_release_catalog(release_url)  # revision 0008, as the previous release wrote it
    catalog = Catalog(release_url)
    try:
        catalog.migrate()
        inspector = sa.inspect(catalog.engine)
        for table in VECTOR_TABLES:
            column = next(c for c in inspector.get_columns(table) if c["name"] == "recognizer")
            assert column["nullable"] is False and column["type"].length == 40, (table, column)
        assert "ix_faces_recognizer_album" in {i["name"] for i in inspector.get_indexes("faces")}
        with catalog.engine.connect() as db:
            for table, vector in VECTOR_TABLES.items():
                rows = db.execute(sa.text(f"SELECT id, recognizer, {vector} FROM {table}")).all()
                assert rows and {r[1] for r in rows} == {OLD_RECOGNIZER}, table  # every row: the old recogniser
                for row_id, _, blob in rows:  # and its vector untouched
                    assert blob is None or bytes(blob) == album.vectors[row_id], (table, row_id)
            placed = dict(db.execute(sa.text("SELECT id, member_id FROM faces WHERE person_pinned")).all())
            assert placed == {album.faces["a1.jpg"]: album.member_id, album.faces["c0.jpg"]: None}
            assert db.execute(sa.text("SELECT face_model_version FROM rekognition_collections")).scalar_one() == "1.0"

        # a write that does not say which recogniser made its vector is refused (never marked as some recogniser)
        from photosift.catalog.models import Member

        with pytest.raises(sa.exc.StatementError, match="needs its recognizer"), catalog.session() as session:
            session.add(Member(album_id=album.album_id, name="Someone"))

        _alembic(catalog, "downgrade", "0008_embedding_pose")  # and back: the columns go, the rows stay
        inspector = sa.inspect(catalog.engine)
        assert all("recognizer" not in {c["name"] for c in inspector.get_columns(t)} for t in VECTOR_TABLES)
        with catalog.engine.connect() as db:
            assert db.execute(sa.text("SELECT count(*) FROM faces")).scalar_one() == len(album.faces)
        catalog.migrate()
    finally:
        _emptied(catalog)


# --- 0010 and 0017: faces record their blur relative to their size, and their analysed size --------------------------


def test_faces_of_a_release_catalog_get_their_analysed_size_and_are_compared_from_16_px(release_url) -> None:
    """A release catalog's faces have no relative blur (judged by sharpness) and get their analysed size from box and
    photo (fitted into 3 MP, as the analysis decodes): a face flagged too small that is 16 px or more is compared,
    every album is re-matched and regrouped, and the downgrade flags faces under 24 px too small again."""
    from photosift.application.grouping import GROUP_MIN_SHARPNESS, GROUP_MIN_SIZE, worth_grouping
    from photosift.catalog.models import Face

    album = write_release_catalog(release_url)
    catalog = Catalog(release_url)
    compared, small = album.faces["c1.jpg"], album.faces["a1.jpg"]
    try:
        _alembic(catalog, "upgrade", "0016_centred_vectors")
        with catalog.engine.begin() as db:  # 12 MP photos, analysed at half size: faces of 18 and 10 px
            for face_id, side in ((compared, 36), (small, 20)):
                db.execute(sa.text("UPDATE faces SET width = :w, height = :h, too_small = :t WHERE id = :id"),
                           {"w": side, "h": side + 4, "t": True, "id": face_id})
                db.execute(sa.text("UPDATE photos SET width = 4000, height = 3000 WHERE id = "
                                   "(SELECT photo_id FROM faces WHERE id = :id)"), {"id": face_id})
            queued = db.execute(sa.text("SELECT count(*) FROM jobs WHERE status = 'queued'")).scalar_one()
        catalog.migrate()
        with catalog.session() as session:
            faces = {f.id: f for f in session.scalars(sa.select(Face))}
            assert len(faces) == len(album.faces) and all(f.relative_blur is None for f in faces.values())
            assert (faces[compared].analysed_size, faces[compared].too_small) == (18.0, False)
            assert (faces[small].analysed_size, faces[small].too_small) == (10.0, True)
            for face in faces.values():
                if face.id not in (compared, small):  # 800x600 photos: analysed at their own size
                    assert face.analysed_size == min(face.width, face.height)
                assert worth_grouping(face) == (not face.too_small and face.analysed_size >= GROUP_MIN_SIZE
                                                and face.sharpness >= GROUP_MIN_SHARPNESS)
        with catalog.engine.connect() as db:
            jobs = db.execute(sa.text("SELECT kind, album_id FROM jobs WHERE status = 'queued'")).all()
        assert len(jobs) == queued + 2 and {("match", album.album_id), ("regroup", album.album_id)} <= set(jobs)
        _alembic(catalog, "downgrade", "0016_centred_vectors")
        with catalog.engine.connect() as db:
            assert db.execute(sa.text("SELECT too_small FROM faces WHERE id = :id"), {"id": compared}).scalar_one()
        assert "analysed_size" not in {c["name"] for c in sa.inspect(catalog.engine).get_columns("faces")}
        _alembic(catalog, "downgrade", "0009_recognizer")
        assert "relative_blur" not in {c["name"] for c in sa.inspect(catalog.engine).get_columns("faces")}
    finally:
        _emptied(catalog)


# --- 0015: the face index's entries in the catalog --------------------------------------------------------------------


def test_the_index_of_before_goes_and_collections_are_searched_after_the_upgrade(release_url) -> None:
    from datetime import UTC, datetime

    from photosift.application import rekognition as app
    from photosift.catalog.face_index import CatalogIndex
    from photosift.catalog.rekognition import RekognitionFace

    catalog = Catalog(release_url)
    _alembic(catalog, "upgrade", "0014_notifications")
    folder = Path(f"{catalog.engine.url.database}.face-index")
    try:
        rng = np.random.default_rng(15)
        vectors = rng.normal(size=(30, 513)).astype(np.float32)
        vectors[:, :512] /= np.linalg.norm(vectors[:, :512], axis=1, keepdims=True)
        vectors[:, 512] = 0.1
        with catalog.engine.begin() as db:  # the release before: a stamp, and graph files or a pgvector table
            db.execute(sa.text("INSERT INTO face_index_spaces (space, generation, version) VALUES ('faces/c', 'g', 3)"))
            if catalog.is_sqlite:
                folder.mkdir()
                (folder / "graph.usearch").write_bytes(b"graph")
            else:
                db.execute(sa.text("CREATE TABLE face_index_0123456789abcdef0123 (id text PRIMARY KEY)"))
        app.create_collection(catalog, "c", arn="arn", face_model_version=app.face_model_version())
        ids = [f"f{i}" for i in range(30)]
        with catalog.session() as session:
            for face_id, vector in zip(ids, vectors, strict=True):
                session.add(RekognitionFace(face_id=face_id, collection_id="c", image_id="img", external_image_id=None,
                                            user_id=None, box_left=0, box_top=0, box_width=0.1, box_height=0.1,
                                            confidence=99.0, embedding=vector.tobytes(), created_at=datetime.now(UTC)))
        catalog.migrate()
        assert not folder.exists()
        assert not sa.inspect(catalog.engine).has_table("face_index_0123456789abcdef0123")
        found = app.search_faces(catalog, "c", vectors[7], threshold=80.0, limit=1)
        assert [f.face_id for f, _ in found] == ["f7"]
        with catalog.read() as session:  # the entries were filled from the collection's faces after that search
            assert CatalogIndex._entries(session, "faces/c") == 30
    finally:
        app.delete_collection(catalog, "c")
        _emptied(catalog)


# --- 0016: w600k_mbf's vectors are centred ----------------------------------------------------------------------------


def test_stored_vectors_are_centred_exactly_and_back(release_url) -> None:
    """A catalog of the release before 0016 (its vectors made as ``w600k_mbf`` made them then: unit, no centre) is
    converted in place: every vector of that recogniser is ``unit(v - centre)`` with its pose value, templates are
    the mean of the converted references, vectors of other recognisers and collections are untouched, the face index
    is emptied and every album is re-matched; the downgrade gives the vectors of before back."""
    from photosift.faces.recognizers import centre, centred

    album = write_release_catalog(release_url)
    catalog = Catalog(release_url)
    try:
        _alembic(catalog, "upgrade", "0015_face_index_entries")
        rng = np.random.default_rng(16)
        before: dict[str, np.ndarray] = {}
        with catalog.engine.begin() as db:
            for table, vector in VECTOR_TABLES.items():
                for (row_id,) in db.execute(sa.text(f"SELECT id FROM {table} WHERE {vector} IS NOT NULL")).all():
                    value = rng.normal(size=513).astype(np.float32)
                    value[:512] /= np.linalg.norm(value[:512])
                    value[512] = rng.uniform(0, 1)
                    before[row_id] = value
                    db.execute(sa.text(f"UPDATE {table} SET {vector} = :v, recognizer = 'w600k_mbf' WHERE id = :id"),
                               {"v": value.tobytes(), "id": row_id})
            legacy = db.execute(sa.text("SELECT face_id FROM rekognition_faces")).scalar_one()
            db.execute(sa.text("UPDATE rekognition_collections SET face_model_version = '2.0'"))
            indexed = before[album.faces["a0.jpg"]]
            db.execute(sa.text("UPDATE rekognition_faces SET embedding = :v"), {"v": indexed.tobytes()})
            db.execute(sa.text("INSERT INTO rekognition_collections (collection_id, arn, face_model_version, "
                               "created_at) VALUES ('sface', 'arn', '2.1', CURRENT_TIMESTAMP)"))
            other = rng.normal(size=129).astype(np.float32).tobytes()
            db.execute(sa.text("INSERT INTO rekognition_faces (face_id, collection_id, image_id, box_left, box_top, "
                               "box_width, box_height, confidence, embedding, created_at) VALUES ('s1', 'sface', "
                               "'img', 0, 0, 0.1, 0.1, 99, :v, CURRENT_TIMESTAMP)"), {"v": other})
            db.execute(sa.text("INSERT INTO face_index_spaces (space, generation, version, dim) "
                               "VALUES ('faces/legacy', 'g', 3, 515)"))
            db.execute(sa.text("INSERT INTO face_index_entries (space, item, version, vector) "
                               "VALUES ('faces/legacy', 'x', 3, NULL)"))
            queued = db.execute(sa.text("SELECT count(*) FROM jobs WHERE status = 'queued'")).scalar_one()
        catalog.migrate()

        def stored(db: sa.Connection) -> dict[str, np.ndarray]:
            return {row_id: np.frombuffer(bytes(blob), np.float32) for table, vector in VECTOR_TABLES.items()
                    for row_id, blob in db.execute(sa.text(f"SELECT id, {vector} FROM {table} "
                                                           f"WHERE {vector} IS NOT NULL")).all()}

        with catalog.engine.connect() as db:
            after = stored(db)
            for row_id, old in before.items():
                if row_id == album.member_id:  # the template: the mean of its converted reference
                    expected = np.r_[centred(before[album.reference_id][:512], centre("w600k_mbf")),
                                     before[album.reference_id][512]]
                else:
                    expected = np.r_[centred(old[:512], centre("w600k_mbf")), old[512]]
                np.testing.assert_allclose(after[row_id], expected, atol=1e-6)
            collection = dict(db.execute(sa.text("SELECT face_id, embedding FROM rekognition_faces")).all())
            np.testing.assert_allclose(np.frombuffer(bytes(collection[legacy]), np.float32),
                                       after[album.faces["a0.jpg"]], atol=1e-6)
            assert bytes(collection["s1"]) == other  # another recogniser's collection: untouched
            assert db.execute(sa.text("SELECT count(*) FROM face_index_entries")).scalar_one() == 0
            assert db.execute(sa.text("SELECT count(*) FROM face_index_spaces")).scalar_one() == 0
            jobs = db.execute(sa.text("SELECT kind, album_id FROM jobs WHERE status = 'queued'")).all()
            assert len(jobs) == queued + 2 and {("match", album.album_id), ("regroup", album.album_id)} <= set(jobs)

        _alembic(catalog, "downgrade", "0015_face_index_entries")  # and back, exactly (to float precision)
        with catalog.engine.connect() as db:
            restored = stored(db)
        for row_id, old in before.items():
            if row_id != album.member_id:
                np.testing.assert_allclose(restored[row_id], old, atol=1e-5)
        np.testing.assert_allclose(restored[album.member_id], before[album.reference_id], atol=1e-5)
    finally:
        _emptied(catalog)

