"""An album between two recognisers (before its re-embedding is over): vectors of the previous recogniser are never
compared, and the faces that have them keep their member and person through re-matching, grouping and corrections
(photosift.application: matching, grouping, people, processing.MatchJob)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from sqlalchemy import select

from photosift import faces
from photosift.application import people
from photosift.application.events import EventHub
from photosift.application.grouping import regroup
from photosift.application.matching import load_templates, rebuild_template
from photosift.application.processing import MatchJob
from photosift.catalog.db import Catalog
from photosift.catalog.models import (
    RETIRED_RECOGNIZER,
    Album,
    Event,
    Face,
    Job,
    Member,
    Person,
    Photo,
    Reference,
    Rejection,
    vector_to_bytes,
)
from photosift.errors import InvalidInput

OLD_DIM = 641


@pytest.fixture()
def album(tmp_path):
    """A catalog with an album upgraded but not re-embedded yet, and a photo analysed since with the new recogniser."""
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite3'}")
    catalog.migrate()
    rng = np.random.default_rng(0)
    old = lambda: vector_to_bytes(rng.normal(size=OLD_DIM))  # noqa: E731
    ids: dict[str, str] = {}
    with catalog.session() as session:
        album = Album(name="Trip")
        session.add(album)
        session.flush()
        member = Member(album_id=album.id, name="Eileen", template=old(), recognizer=RETIRED_RECOGNIZER)
        person = Person(album_id=album.id, number=1)
        session.add_all([member, person])
        session.flush()
        session.add(Reference(member_id=member.id, album_id=album.id, blob_key="photos/aa/selfie", box=[0, 0, 9, 9],
                              confidence=99.0, embedding=old(), recognizer=RETIRED_RECOGNIZER))
        placed = {"matched": {"member_id": member.id, "similarity": 97.0},
                  "grouped1": {"person_id": person.id}, "grouped2": {"person_id": person.id},
                  "new": {}}
        for name, place in placed.items():
            photo = Photo(album_id=album.id, blob_key=f"photos/aa/{name}", sha256=name.ljust(64, "0"), filename=name,
                          content_type="image/jpeg", size_bytes=1, status="done")
            session.add(photo)
            session.flush()
            current = name == "new"
            vector = vector_to_bytes(rng.normal(size=faces.EMBEDDING_DIM)) if current else old()
            face = Face(photo_id=photo.id, album_id=album.id, position=0, left=0, top=0, width=100, height=100,
                        confidence=99.0, landmarks=[[0, 0]] * 5, pose={"yaw": 0, "pitch": 0, "roll": 0},
                        sharpness=50.0, brightness=50.0, embedding=vector,
                        recognizer=faces.EMBEDDER if current else RETIRED_RECOGNIZER, **place)
            session.add(face)
            session.flush()
            ids[name] = face.id
        ids.update(album=album.id, member=member.id, person=person.id)
    yield catalog, ids
    catalog.dispose()


def placements(catalog: Catalog) -> dict[str, tuple]:
    with catalog.read() as session:
        return {f.id: (f.member_id, f.person_id, f.similarity) for f in session.scalars(select(Face))}


def test_old_vectors_are_never_compared_and_keep_their_places(album) -> None:
    catalog, ids = album
    before = placements(catalog)
    with catalog.session() as session:
        templates = load_templates(session, session.get(Album, ids["album"]))
        assert templates.vectors is None  # the member's only reference is of the old recogniser
        regroup(session, ids["album"])
    assert placements(catalog) == before

    svc = SimpleNamespace(catalog=catalog, hub=EventHub(), notify_jobs=lambda n=1: None)
    with catalog.session() as session:  # a job as a worker holds it once claimed
        job = Job(kind="match", album_id=ids["album"], status="running", worker="test:1:claim")
        session.add(job)
    MatchJob(svc).run(job)
    assert placements(catalog) == before  # the old faces keep their member and person; the new one stays unknown
    with catalog.read() as session:
        assert session.scalar(select(Event.data).where(Event.type == "album.matched")) == {"photos_changed": 0}

    listed = people.list_people(svc, ids["album"])  # a person of old faces only: its cover is not scored
    assert [(p.id, p.faces, p.cover.face_id) for p in listed.items] == [
        (ids["person"], 2, ids["grouped1"])]
    assert people.merge_suggestions(svc, ids["album"]) == {"items": []}
    with pytest.raises(InvalidInput, match="not re-embedded"):
        people.rename_person(svc, ids["album"], ids["person"], "Someone")

    people.reject_face(svc, ids["album"], ids["matched"], ids["member"])  # a correction of an old face
    people.move_face(svc, ids["album"], ids["new"], member_id=ids["member"])  # a new face given to the member
    with catalog.read() as session:
        rejection = session.scalars(select(Rejection)).one()
        assert rejection.recognizer == RETIRED_RECOGNIZER and len(rejection.embedding) == OLD_DIM * 4
        given = session.get(Face, ids["new"])
        assert given.member_id == ids["member"] and given.similarity is None  # its template is of the old one
        member = session.get(Member, ids["member"])
        kept = (member.template, member.recognizer)
    with catalog.session() as session:
        rebuild_template(session, ids["member"])  # references all old: template kept
    with catalog.read() as session:
        member = session.get(Member, ids["member"])
        assert (member.template, member.recognizer) == kept
