"""Catalog migrations on real data: embeddings stored before they carried a pose value get one (frontal)."""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from photosift import faces
from photosift.catalog.db import Catalog


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
                   {"t": np.ones(faces.EMBEDDING_DIM, np.float32).tobytes()})
    catalog.migrate()
    with catalog.engine.connect() as db:
        rows = dict(db.execute(sa.text("SELECT id, template FROM members")).all())
    upgraded = np.frombuffer(rows["m1"], np.float32)
    assert upgraded.shape == (faces.EMBEDDING_DIM,) and upgraded[-1] == 0.0
    np.testing.assert_array_equal(upgraded[:640], old)
    np.testing.assert_array_equal(np.frombuffer(rows["m2"], np.float32), np.ones(faces.EMBEDDING_DIM))  # untouched
    catalog.dispose()
