"""People grouping inside the catalog: a photo's new faces grouped with their neighbours only
(``grouping.regroup_faces``) as the whole album's regroup would group them."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import select
from synthetic_faces import Synthetic

from photosift import faces
from photosift.application import scoring
from photosift.application.grouping import GROUP_MIN_SIZE, regroup, regroup_faces
from photosift.catalog.db import Catalog
from photosift.catalog.models import Album, Face, Person, Photo, bytes_to_vector, vector_to_bytes


@pytest.fixture
def catalog(tmp_path) -> Iterator[Catalog]:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite3'}")
    catalog.migrate()
    yield catalog
    catalog.dispose()


class SyntheticAlbum:
    """An album whose photos each hold one synthetic face: identity ``d<i>`` seen along an extra direction."""

    def __init__(self, session, syn: Synthetic) -> None:  # noqa: ANN001 - a SQLAlchemy session
        self.session, self.syn, self.extra = session, syn, 20
        self.album = Album(name="Trip")
        session.add(self.album)
        session.flush()

    def face(self, identity: int, person: Person | None = None, relative_blur: float = 0.5,
             size: float | None = 90.0) -> Face:
        self.extra += 1
        c = 0.8
        vector = self.syn.of(**{f"d{identity}": c, f"d{self.extra}": math.sqrt(1 - c**2)})
        photo = Photo(album_id=self.album.id, blob_key=f"b{self.extra}", sha256=f"{self.extra:064x}",
                      content_type="image/jpeg", size_bytes=1, status="done")
        self.session.add(photo)
        self.session.flush()
        face = Face(photo_id=photo.id, album_id=self.album.id, position=0, left=0, top=0, width=90, height=90,
                    confidence=99.0, landmarks=[], pose={}, sharpness=60.0, brightness=50.0,
                    relative_blur=relative_blur, analysed_size=size, too_small=False,
                    embedding=vector_to_bytes(vector),
                    recognizer=faces.EMBEDDER,
                    person_id=person.id if person else None)
        self.session.add(face)
        self.session.flush()
        return face

    def person(self, identity: int, faces: int) -> Person:
        """A person of the album holding ``faces`` faces of ``identity``."""
        person = Person(album_id=self.album.id, number=1, hidden=False)
        self.session.add(person)
        self.session.flush()
        for _ in range(faces):
            self.face(identity, person)
        return person

    def nearest(self, vector: np.ndarray, k: int) -> list[str]:
        """The exact ``k`` nearest faces of the album (what an index answers approximately)."""
        faces = list(self.session.scalars(select(Face).where(Face.album_id == self.album.id)))
        scores = scoring.similarity(vector, np.stack([bytes_to_vector(f.embedding) for f in faces]))[0]
        return [faces[i].id for i in np.argsort(-scores)[:k]]


def test_new_faces_join_their_person_or_start_one_with_their_neighbours(catalog) -> None:
    syn = Synthetic(11, directions=64)
    with catalog.session() as session:
        album = SyntheticAlbum(session, syn)
        alice = album.person(0, faces=3)
        earlier_bob = album.face(1)  # seen once: unknown until a second sighting
        carol = [album.face(k) for k in (2, 3, 4)]  # strangers seen once
        new = [album.face(0), album.face(1)]
        changed = regroup_faces(session, album.album.id, new, album.nearest)
        assert new[0].person_id == alice.id
        assert new[1].person_id is not None and new[1].person_id == earlier_bob.person_id != alice.id
        assert all(f.person_id is None for f in carol)
        assert changed["faces"] == {new[0].id: alice.id, new[1].id: new[1].person_id, earlier_bob.id: new[1].person_id}
        # the whole album's regroup agrees: nothing left to change
        assert regroup(session, album.album.id)["faces"] == {}


def test_a_blurred_face_joins_its_person_but_blurred_faces_form_none(catalog) -> None:
    syn = Synthetic(13, directions=64)
    with catalog.session() as session:
        album = SyntheticAlbum(session, syn)
        alice = album.person(0, faces=3)
        soft = album.face(0, relative_blur=5.0)  # blurred beyond GROUP_MAX_BLUR: not worth grouping
        bob = [album.face(1, relative_blur=5.0) for _ in range(2)]  # bob only ever blurred
        changed = regroup_faces(session, album.album.id, [soft, *bob], album.nearest)
        assert changed["faces"] == {soft.id: alice.id}
        assert all(f.person_id is None for f in bob)
        # the whole album's regroup keeps it there (it joins again through alice's sharp faces: no change to report)
        assert regroup(session, album.album.id)["faces"] == {}
        assert soft.person_id == alice.id


def test_a_small_face_joins_its_person_but_small_faces_form_none(catalog) -> None:
    syn = Synthetic(14, directions=64)
    with catalog.session() as session:
        album = SyntheticAlbum(session, syn)
        alice = album.person(0, faces=3)
        small = album.face(0, size=GROUP_MIN_SIZE - 1)  # compared (not too small) but under the grouping size
        bob = [album.face(1, size=20.0) for _ in range(2)]  # bob only ever small
        carol = [album.face(2, size=None) for _ in range(2)]  # stored before sizes were: grouped as before
        changed = regroup_faces(session, album.album.id, [small, *bob, *carol], album.nearest)
        assert small.person_id == alice.id
        assert all(f.person_id is None for f in bob)
        assert carol[0].person_id is not None and carol[0].person_id == carol[1].person_id
        assert changed["faces"][small.id] == alice.id
        assert regroup(session, album.album.id)["faces"] == {}


def test_without_an_index_the_whole_album_is_regrouped(catalog) -> None:
    syn = Synthetic(12, directions=64)
    with catalog.session() as session:
        album = SyntheticAlbum(session, syn)
        first = album.face(0)
        second = album.face(0)
        regroup_faces(session, album.album.id, [second], lambda vector, k: None)
        assert first.person_id is not None and first.person_id == second.person_id


def test_the_album_index_follows_its_faces_and_rebuilds_from_the_catalog(catalog) -> None:
    from photosift.application import album_index, face_spaces

    syn = Synthetic(13, directions=64)
    index = face_spaces.index_of(catalog)
    with catalog.session() as session:
        album = SyntheticAlbum(session, syn)
        faces = [album.face(0), album.face(0), album.face(1)]
        album_index.add_faces(index, session, album.album.id, faces)
        album_id, ids = album.album.id, [f.id for f in faces]
    with catalog.session() as session:
        nearest = album_index.nearest(index, session, album_id)
        assert set(nearest(bytes_to_vector(faces[0].embedding), 3)) == set(ids)
        album_index.remove_faces(index, session, album_id, ids[:1])
    with catalog.session() as session:
        assert ids[0] not in album_index.nearest(index, session, album_id)(bytes_to_vector(faces[0].embedding), 3)
        album_index.drop(index, session, album_id)  # e.g. re-embedded: the catalog's faces are read again
    with catalog.session() as session:
        found = album_index.nearest(index, session, album_id)(bytes_to_vector(faces[2].embedding), 3)
        assert set(found) == set(ids)
