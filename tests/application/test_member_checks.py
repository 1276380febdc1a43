"""A new reference face that resembles another member: refused when it surely is them, a warning when it only
reaches the album's threshold (photosift.application.members); members of another recogniser are not compared."""

from __future__ import annotations

import numpy as np
import pytest

from photosift import faces
from photosift.application.matching import ALBUM_THRESHOLD
from photosift.application.members import SAME_PERSON, _check_not_another_member
from photosift.catalog.db import Catalog
from photosift.catalog.models import RETIRED_RECOGNIZER, Album, Member, vector_to_bytes
from photosift.errors import FaceOfAnotherMember


def resembling(template: np.ndarray, low: float, high: float) -> np.ndarray:
    """An embedding whose similarity to ``template`` lies in [low, high)."""
    rng = np.random.default_rng(5)
    noise = rng.normal(size=template.shape).astype(np.float32)
    noise[-1] = 0.0
    for weight in np.linspace(0.0, 20.0, 4001):
        candidate = template + weight * noise
        if low <= float(faces.similarity(candidate, template)[0, 0]) < high:
            return candidate
    raise AssertionError("no embedding in range")


def test_resemblance_to_another_member(tmp_path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    catalog.migrate()
    minji = np.random.default_rng(4).normal(size=faces.EMBEDDING_DIM).astype(np.float32)
    minji[-1] = 0.0
    with catalog.session() as session:
        album = Album(name="Trip")
        session.add(album)
        session.flush()
        session.add(Member(album_id=album.id, name="Minji", template=vector_to_bytes(minji), recognizer=faces.EMBEDDER))
        # a template of the previous release's recogniser is never compared (it could not be: 641 values)
        session.add(Member(album_id=album.id, name="Before", template=vector_to_bytes(np.ones(641)),
                           recognizer=RETIRED_RECOGNIZER))
        session.flush()

        def check(embedding: np.ndarray) -> dict:
            face = {"filename": "selfie.jpg", "embedding": vector_to_bytes(embedding), "warning": None}
            _check_not_another_member(session, album.id, None, [face])
            return face

        with pytest.raises(FaceOfAnotherMember, match="Minji"):
            check(resembling(minji, SAME_PERSON, 100.1))
        assert "looks like member 'Minji'" in check(resembling(minji, ALBUM_THRESHOLD, SAME_PERSON))["warning"]
        assert check(resembling(minji, 0.0, ALBUM_THRESHOLD - 5))["warning"] is None
    catalog.dispose()
