"""The Rekognition use cases on SQLite and PostgreSQL alike: id lists longer than either database binds at once;
collections of another face model version than the running recogniser's are refused for comparisons."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from service_support import postgres_url  # noqa: E402, F401 - the service tests' PostgreSQL fixture

from photosift.application import rekognition as app
from photosift.catalog.db import Catalog
from photosift.errors import FaceModelRetired

# More ids than PostgreSQL (65,535) or SQLite (32,766) bind in one statement.
MANY = 70_000


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}" if request.param == "sqlite" else request.getfixturevalue(
        "postgres_url")
    catalog = Catalog(url)
    catalog.migrate()
    yield catalog
    for row in app.list_collections(catalog, after=None, limit=100)[0]:  # the PostgreSQL database is the module's
        app.delete_collection(catalog, row[0])
    catalog.dispose()


def _faces(catalog: Catalog, count: int) -> list[str]:
    app.create_collection(catalog, "c", arn="arn", face_model_version=app.face_model_version())
    rng = np.random.default_rng(0)
    new = [app.NewFace(box=(0.1, 0.1, 0.2, 0.2), confidence=99.0, embedding=rng.normal(size=8).astype(np.float32))
           for _ in range(count)]
    return [f.face_id for f in app.add_faces(catalog, "c", new, image_id="img", external_image_id=None)]


def _fake_ids(count: int) -> list[str]:
    return [f"00000000-0000-4000-8000-{i:012x}" for i in range(count)]


def test_face_id_lists_beyond_the_databases_parameter_limit(catalog):
    real = sorted(_faces(catalog, 3))
    wanted = _fake_ids(MANY) + real[::-1] + real  # unknown ids, and repeats
    page, nxt = app.list_faces(catalog, "c", after=None, limit=2, face_ids=wanted)
    assert [f.face_id for f in page] == real[:2] and nxt == real[1]
    page, nxt = app.list_faces(catalog, "c", after=nxt, limit=2, face_ids=wanted)
    assert [f.face_id for f in page] == real[2:] and nxt is None

    app.create_user(catalog, "c", "u")
    done, failures, user = app.associate_faces(catalog, "c", "u", [real[0], *_fake_ids(MANY)], threshold=0.0)
    assert done == [real[0]] and len(failures) == MANY and user.face_count == 1
    done, failures, user = app.disassociate_faces(catalog, "c", "u", [*_fake_ids(MANY), real[0]])
    assert done == [real[0]] and len(failures) == MANY and user.face_count == 0

    deleted, failures = app.delete_faces(catalog, "c", [*_fake_ids(MANY), real[1]])
    assert deleted == [real[1]] and {f.reason for f in failures} == {"FACE_NOT_FOUND"} and len(failures) == MANY
    assert [f.face_id for f in app.list_faces(catalog, "c", after=None, limit=10)[0]] == [real[0], real[2]]


def test_a_collection_of_another_face_model_version_is_refused_for_comparisons(catalog):
    app.create_collection(catalog, "old", arn="arn", face_model_version="1.0")  # the retired facenet+dlib
    app.create_user(catalog, "old", "u")
    probe = np.zeros(8, np.float32)
    new = [app.NewFace(box=(0.1, 0.1, 0.2, 0.2), confidence=99.0, embedding=probe)]
    for call in (lambda: app.add_faces(catalog, "old", new, image_id="img", external_image_id=None),
                 lambda: app.search_faces(catalog, "old", probe, threshold=0.0, limit=1),
                 lambda: app.search_users(catalog, "old", probe, threshold=0.0, limit=1),
                 lambda: app.associate_faces(catalog, "old", "u", ["f"], threshold=0.0),
                 lambda: app.comparable_version(catalog, "old")):
        with pytest.raises(FaceModelRetired, match="face model version 1.0, which this server no longer runs"):
            call()
    assert app.collection_version(catalog, "old") == "1.0"
    assert app.describe_collection(catalog, "old").face_model_version == "1.0"
    assert app.list_collections(catalog, after=None, limit=10)[0] == [("old", "1.0")]
    app.create_collection(catalog, "current", arn="arn", face_model_version=app.face_model_version())
    assert app.comparable_version(catalog, "current") == app.face_model_version()
