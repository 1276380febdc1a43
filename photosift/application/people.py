"""People of an album: list them, and the user's corrections (rename, merge, split, move a face, hide, "not
<member>").

People are the automatic groups of faces no member matched (``photosift.application.grouping``). Every correction
pins the faces it places (``Face.person_pinned``), so later grouping and member re-matching keep it. Naming a
person makes it a member (references = its most typical faces) or, when a member of that name exists, gives its
faces to that member. One person never holds two faces of one photo: a correction that would do so is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from photosift import faces as face_engine
from photosift.application import face_spaces, scoring
from photosift.application.context import Services
from photosift.application.events import record_event
from photosift.application.grouping import (
    PEOPLE_CHANGED,
    GroupedFace,
    comparable,
    face_record,
    regroup_faces,
    remove_empty_people,
)
from photosift.application.matching import load_templates, open_set_scores
from photosift.application.processing import enqueue_match, enqueue_regroup
from photosift.application.validation import check_name
from photosift.catalog import albums, members, records
from photosift.catalog import faces as faces_repo
from photosift.catalog import people as people_repo
from photosift.catalog.db import Session
from photosift.catalog.models import bytes_to_vector
from photosift.clustering import cover_face, most_typical_first, suggest_merges
from photosift.errors import InvalidInput, NotFound

UNKNOWN = "unknown"
"""The person id that names the album's unknown faces in ``get_person``."""
MAX_REFERENCES = 5
"""A person named into a new member gives it at most this many reference faces (its most typical ones)."""
MAX_SUGGESTIONS = 20
"""``merge_suggestions`` lists at most this many pairs."""

Face = faces_repo.Stored


# --- queries ------------------------------------------------------------------------------------------------------


def list_people(svc: Services, album_id: str, *, include_hidden: bool = False) -> records.PeopleList:
    """The album's people, most faces first, each with a cover face; and how many faces are unknown."""
    with svc.catalog.read() as session:
        albums.require(session, album_id=album_id)
        people = people_repo.listed(session, album_id=album_id, include_hidden=include_hidden)
        faces = faces_repo.of_people(session, person_ids=[p.id for p in people])
        unknown = faces_repo.count_unknown(session, album_id=album_id)
    items = [person_view(p, faces.get(p.id, [])) for p in people]
    items.sort(key=lambda v: (-v.faces, v.number or 0))
    return records.PeopleList(items=items, unknown=unknown)


def get_person(svc: Services, album_id: str, person_id: str) -> records.PersonDetail:
    """One person with all its faces; ``person_id`` ``unknown`` gives the faces that fit nobody."""
    with svc.catalog.read() as session:
        albums.require(session, album_id=album_id)
        if person_id == UNKNOWN:
            faces = faces_repo.unknown(session, album_id=album_id)
            return records.PersonDetail(id=UNKNOWN, album_id=album_id, name="Unknown", number=None, hidden=False,
                                        faces=len(faces), photos=len({f.photo_id for f in faces}), cover=None,
                                        items=[face_item(f) for f in faces])
        person = people_repo.require(session, album_id=album_id, person_id=person_id)
        faces = faces_repo.of_people(session, person_ids=[person.id]).get(person.id, [])
    view = person_view(person, faces)
    return records.PersonDetail(id=view.id, album_id=view.album_id, name=view.name, number=view.number,
                                hidden=view.hidden, faces=view.faces, photos=view.photos, cover=view.cover,
                                items=[face_item(f) for f in faces])


def merge_suggestions(svc: Services, album_id: str) -> dict[str, Any]:
    """Pairs of the album's shown people who may be one person (``photosift.clustering.suggest_merges``: mean
    similarity at or above the match threshold, no shared photo), most similar first: ``{"items": [{"people":
    [a, b], "similarity"}]}``. Only a prompt: merging stays the user's decision."""
    with svc.catalog.read() as session:
        albums.require(session, album_id=album_id)
        people = people_repo.listed(session, album_id=album_id)
        faces = faces_repo.of_people(session, person_ids=[p.id for p in people])
    groups = {p.id: [f.id for f in faces[p.id]] for p in people if faces.get(p.id)}
    samples = [face_record(f) for person_id in groups for f in faces[person_id]]
    pairs = suggest_merges(samples, groups, threshold=scoring.DEFAULT_THRESHOLD,
                           similarity=scoring.similarity)[:MAX_SUGGESTIONS]
    shown = {p.id: person_view(p, faces[p.id]) for p in people if p.id in groups}
    return {"items": [{"people": [shown[a], shown[b]], "similarity": round(score, 1)} for a, b, score in pairs]}


def queue_regroup(svc: Services, album_id: str) -> dict[str, Any]:
    """Queue a full re-cluster of the album's people from every face, keeping what users placed (photos and
    re-matches only regroup the faces they change and their neighbours). ``{"queued": false}``: one is queued."""
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id)
        queued = enqueue_regroup(session, album_id)
    if queued:
        svc.notify_jobs(1)
    return {"queued": queued}


# --- corrections --------------------------------------------------------------------------------------------------


def rename_person(svc: Services, album_id: str, person_id: str, name: str) -> dict[str, Any]:
    """Name a person: it becomes a new member of that name, or its faces go to the existing member of that name.

    Returns ``{"member": <member with "photos">, "created": bool, "faces": [face ids]}``; the person is gone
    afterwards.
    """
    name = check_name(name, "a person's name")
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id, lock=True)
        person = people_repo.require(session, album_id=album_id, person_id=person_id)
        faces = faces_repo.of_people(session, person_ids=[person.id]).get(person.id, [])
        existing = members.named(session, album_id=album_id, name=name)
        created = existing is None
        if existing is None:
            member_id = _member_from_faces(session, album_id, name, faces)
        else:
            member_id = existing.id
            _check_member_photos(session, existing, faces)
        _pin_to_member(session, album_id, faces, member_id)
        people_repo.delete(session, person_ids=[person.id])
        record_event(session, album_id, PEOPLE_CHANGED,
                     {"faces": {f.id: None for f in faces}, "removed": [person_id]})
        member = members.require(session, album_id=album_id, member_id=member_id)
        photos = faces_repo.count_of_member(session, member_id=member.id)
        if created:
            record_event(session, album_id, "member.updated",
                         {"member_id": member.id, "name": member.name, "references": len(member.references)})
            enqueue_match(session, album_id)  # other faces of the album may match the new member
    _after_change(svc, album_id, jobs=created)
    return {"member": {**records.as_json(member), "photos": photos}, "created": created, "faces": [f.id for f in faces]}


def merge_people(svc: Services, album_id: str, source_id: str, target_id: str) -> records.Person:
    """Move every face of ``source_id`` into ``target_id`` and delete the source; returns the target with the
    ids of the faces that moved (``moved``), so a client can undo by creating a person from them."""
    if source_id == target_id:
        raise InvalidInput("cannot merge a person into itself")
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id, lock=True)
        source = people_repo.require(session, album_id=album_id, person_id=source_id)
        target = people_repo.require(session, album_id=album_id, person_id=target_id)
        grouped = faces_repo.of_people(session, person_ids=[source.id, target.id])
        moved = grouped.get(source.id, [])
        _check_photos(moved, grouped.get(target.id, []), f"person {target.number}")
        changes = _place(session, moved, person_id=target.id)
        people_repo.delete(session, person_ids=[source.id])
        record_event(session, album_id, PEOPLE_CHANGED, {"faces": changes, "removed": [source.id]})
        view = person_view(target, grouped.get(target.id, []) + moved)
    _after_change(svc, album_id)
    return replace(view, moved=[f.id for f in moved])


def split_person(svc: Services, album_id: str, person_id: str, face_ids: Sequence[str]) -> records.Person:
    """Move some faces of a person into a new person of their own (at least one face must stay behind)."""
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id, lock=True)
        person = people_repo.require(session, album_id=album_id, person_id=person_id)
        faces = _require_faces(session, album_id, face_ids)
        strangers = [f.id for f in faces if f.person_id != person.id]
        if strangers:
            raise InvalidInput(f"faces {', '.join(strangers)} are not faces of person {person.number}")
        if faces_repo.count_of_person(session, person_id=person.id) == len(faces):
            raise InvalidInput("a split must leave at least one face with the person")
        view = _new_person_with(session, album_id, faces)
    _after_change(svc, album_id)
    return view


def create_person(svc: Services, album_id: str, face_ids: Sequence[str]) -> records.Person:
    """A new person made of the given faces, wherever they are now (another person, a member, unknown)."""
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id, lock=True)
        view = _new_person_with(session, album_id, _require_faces(session, album_id, face_ids))
    _after_change(svc, album_id)
    return view


def move_face(svc: Services, album_id: str, face_id: str, *, person_id: str | None = None,
              member_id: str | None = None, new: bool = False) -> dict[str, Any]:
    """Put one face in another person (``person_id``), a member (``member_id``), a new person (``new``), or, with
    none of them, in unknown. Returns ``{"face_id", "photo_id", "person_id", "member_id", "previous": {...}}``."""
    if sum((person_id is not None, member_id is not None, new)) > 1:
        raise InvalidInput("give at most one of person_id, member_id and new")
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id, lock=True)
        face = _require_faces(session, album_id, [face_id])[0]
        previous = {"person_id": face.person_id, "member_id": face.member_id}
        changes: dict[str, str | None] = {}
        if face.member_id is not None and face.member_id != member_id:
            faces_repo.reject(session, face=face, member_id=face.member_id)
        if member_id is not None:
            member = members.require(session, album_id=album_id, member_id=member_id)
            _check_member_photos(session, member, [face])
            changes = {face.id: None} if face.person_id else {}
            _pin_to_member(session, album_id, [face], member.id)  # records photo.matched
            enqueue_match(session, album_id)  # a withdrawn rejection may free look-alikes of this face
        elif new:
            _new_person_with(session, album_id, [face])  # records its own events
        else:
            if person_id is not None:
                target = people_repo.require(session, album_id=album_id, person_id=person_id)
                others = faces_repo.of_people(session, person_ids=[target.id]).get(target.id, [])
                _check_photos([face], others, f"person {target.number}")
            changes = _place(session, [face], person_id=person_id)
            if face.member_id is not None:
                _record_matches(session, album_id, [face.photo_id])
        removed = remove_empty_people(session, album_id)
        if changes or removed:
            record_event(session, album_id, PEOPLE_CHANGED, {"faces": changes, "removed": removed})
        result = _placement(session, face.id, previous)
    _after_change(svc, album_id, jobs=member_id is not None)
    return result


def reject_face(svc: Services, album_id: str, face_id: str, member_id: str) -> dict[str, Any]:
    """"This face is not <member>": the face leaves the member (free to match another member or join a person),
    the correction is kept as evidence against the member, and the album is re-matched (faces very like this one stop
    matching the member). Returns the face's placement as ``move_face`` does."""
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id, lock=True)
        face = _require_faces(session, album_id, [face_id])[0]
        member = members.require(session, album_id=album_id, member_id=member_id)
        previous = {"person_id": face.person_id, "member_id": face.member_id}
        faces_repo.reject(session, face=face, member_id=member.id)
        if face.member_id == member.id:
            faces_repo.unmatch(session, face_id=face.id)
            _record_matches(session, album_id, [face.photo_id])
            # free again: it may join a person
            regroup_faces(session, album_id, [face], face_spaces.album_nearest(svc.catalog, session, album_id))
        enqueue_match(session, album_id)  # re-matches this face elsewhere and drops its look-alikes
        result = _placement(session, face.id, previous)
    _after_change(svc, album_id, jobs=True)
    return result


def reject_preview(svc: Services, album_id: str, face_id: str, member_id: str) -> dict[str, Any]:
    """What "``face_id`` is not ``member_id``" would take from the member, before it is done: ``{"faces": [ids],
    "photos": [ids], "count"}`` (this face and the member's automatic matches that look more like it than like the
    member, as ``matching.open_set_scores`` decides them; faces the user pinned to the member stay)."""
    with svc.catalog.read() as session:
        album = albums.require(session, album_id=album_id)
        face = _require_faces(session, album_id, [face_id])[0]
        member = members.require(session, album_id=album_id, member_id=member_id)
        leaving = [face] if face.member_id == member.id else []
        templates = load_templates(session, album)
        matched = [f for f in faces_repo.of_member(session, member_id=member.id, pinned=False)
                   if f.id != face.id and comparable(f)]
        if comparable(face) and matched and member.id in templates.member_ids:
            col = templates.member_ids.index(member.id)
            rejected = bytes_to_vector(face.embedding)[None, :]
            if col in templates.rejected:
                rejected = np.concatenate([templates.rejected[col], rejected])
            after = replace(templates, rejected={**templates.rejected, col: rejected})
            vectors = np.stack([bytes_to_vector(f.embedding) for f in matched])
            scores = open_set_scores(scoring.similarity(vectors, after.matrix), vectors, after)[:, col]
            leaving += [f for f, score in zip(matched, scores, strict=True) if score < after.threshold]
    photos = sorted({f.photo_id for f in leaving})
    return {"faces": [f.id for f in leaving], "photos": photos, "count": len(photos)}


def answer_suggestion(svc: Services, album_id: str, member_id: str, face_ids: Sequence[str], accept: bool
                      ) -> dict[str, Any]:
    """Answer "Is this <member>?" (``photosift.application.suggestions``) for ``face_ids``: yes pins them to the
    member (as "This is <member>"), no records "not <member>" for each (they stay where they are)."""
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id, lock=True)
        faces = _require_faces(session, album_id, face_ids)
        member = members.require(session, album_id=album_id, member_id=member_id)
        if accept:
            _check_member_photos(session, member, faces)
            changes = {f.id: None for f in faces if f.person_id is not None}
            _pin_to_member(session, album_id, faces, member.id)
            removed = remove_empty_people(session, album_id)
            if changes or removed:
                record_event(session, album_id, PEOPLE_CHANGED, {"faces": changes, "removed": removed})
        else:
            for face in faces:
                faces_repo.reject(session, face=face, member_id=member.id)
        enqueue_match(session, album_id)  # new evidence (or rejections) for the member's other matches
    _after_change(svc, album_id, jobs=True)
    return {"member_id": member_id, "accepted": accept, "faces": [f.id for f in faces]}


def set_hidden(svc: Services, album_id: str, person_id: str, hidden: bool) -> records.Person:
    """Hide a person from the people list (or show it again); its faces keep joining it."""
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id, lock=True)
        person = people_repo.set_hidden(session, album_id=album_id, person_id=person_id, hidden=hidden)
        faces = faces_repo.of_people(session, person_ids=[person.id]).get(person.id, [])
        record_event(session, album_id, PEOPLE_CHANGED, {"faces": {}, "removed": [], "hidden": {person.id: hidden}})
        view = person_view(person, faces)
    _after_change(svc, album_id)
    return view


# --- helpers ------------------------------------------------------------------------------------------------------


def _require_faces(session: Session, album_id: str, face_ids: Sequence[str]) -> list[Face]:
    ids = list(dict.fromkeys(face_ids))
    if not ids:
        raise InvalidInput("no face ids given")
    found = {f.id: f for f in faces_repo.stored(session, face_ids=ids) if f.album_id == album_id}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"no face {', '.join(map(repr, missing))} in album {album_id!r}")
    return [found[i] for i in ids]


def _placement(session: Session, face_id: str, previous: dict[str, str | None]) -> dict[str, Any]:
    """Where the face is now, and was before (``move_face``'s and ``reject_face``'s answer)."""
    face = faces_repo.stored(session, face_ids=[face_id])[0]
    return {"face_id": face.id, "photo_id": face.photo_id, "person_id": face.person_id, "member_id": face.member_id,
            "previous": previous}


def _check_photos(moving: Sequence[Face], staying: Sequence[Face], where: str) -> None:
    """Refuse to put two faces of one photo into one person (``moving`` among themselves or with ``staying``)."""
    moving_ids = {f.id for f in moving}
    seen: dict[str, str] = {f.photo_id: f.id for f in staying if f.id not in moving_ids}
    for face in moving:
        if face.photo_id in seen:
            raise InvalidInput(f"face {face.id} and face {seen[face.photo_id]} are in the same photo "
                               f"({face.photo_id}): one person appears once per photo, so it cannot join {where}")
        seen[face.photo_id] = face.id


def _check_member_photos(session: Session, member: records.Member, faces: Sequence[Face]) -> None:
    _check_photos(faces, faces_repo.of_member(session, member_id=member.id), f"member {member.name!r}")


def _place(session: Session, faces: Sequence[Face], *, person_id: str | None) -> dict[str, str | None]:
    """Pin ``faces`` to ``person_id`` (None: unknown), out of any member; returns the person changes."""
    faces_repo.pin_to_person(session, face_ids=[f.id for f in faces], person_id=person_id)
    return {f.id: person_id for f in faces if f.person_id != person_id}


def _new_person_with(session: Session, album_id: str, faces: list[Face]) -> records.Person:
    _check_photos(faces, [], "one new person")
    from_members = sorted({f.photo_id for f in faces if f.member_id is not None})
    person = people_repo.create(session, album_id=album_id)
    changes = _place(session, faces, person_id=person.id)
    removed = remove_empty_people(session, album_id)
    _record_matches(session, album_id, from_members)
    record_event(session, album_id, PEOPLE_CHANGED, {"faces": changes, "removed": removed})
    return person_view(person, faces)


def _pin_to_member(session: Session, album_id: str, faces: Sequence[Face], member_id: str) -> None:
    """Pin ``faces`` to the member (out of every person), with their similarity to its template (None for a face or
    template of another recogniser than the running one)."""
    similarities: list[float | None] = [None] * len(faces)
    scored = [i for i, f in enumerate(faces) if comparable(f)]
    template = members.template(session, member_id=member_id, recognizer=face_engine.EMBEDDER)
    if template is not None and scored:
        vectors = np.stack([bytes_to_vector(faces[i].embedding) for i in scored])
        scores = scoring.similarity(vectors, template)[:, 0]
        for i, value in zip(scored, scores, strict=True):
            similarities[i] = round(float(value), 2)
    faces_repo.pin_to_member(session, member_id=member_id,
                             similarities={f.id: s for f, s in zip(faces, similarities, strict=True)})
    _record_matches(session, album_id, sorted({f.photo_id for f in faces}))


def _member_from_faces(session: Session, album_id: str, name: str, faces: Sequence[Face]) -> str:
    """A new member whose references are the most typical of ``faces`` (their photos' blobs, their boxes); its id."""
    chosen = _typical(faces)[:MAX_REFERENCES]
    if not chosen:
        if any(not comparable(f) for f in faces):
            raise InvalidInput("this person's faces are not re-embedded by the running face recogniser yet; name the "
                               "person once the album's re-embedding is over")
        raise InvalidInput("this person has no face usable as a reference")
    template = scoring.template([bytes_to_vector(f.embedding) for f in chosen])
    return people_repo.new_member(session, album_id=album_id, name=name, recognizer=face_engine.EMBEDDER,
                                  references=chosen, template=template)


def _typical(faces: Sequence[Face]) -> list[Face]:
    """Usable faces (not too small, of the running recogniser), most typical first: highest mean similarity to the
    others."""
    usable = {f.id: f for f in faces if not f.too_small and comparable(f)}
    return [usable[i] for i in most_typical_first([face_record(f) for f in usable.values()],
                                                                similarity=scoring.similarity)]


def _record_matches(session: Session, album_id: str, photo_ids: Sequence[str]) -> None:
    """``photo.matched`` events for photos whose member matches changed."""
    for photo_id in photo_ids:
        matches = faces_repo.matches(session, album_id=album_id, photo_id=photo_id)
        record_event(session, album_id, "photo.matched", {"photo_id": photo_id, "matches": records.as_json(matches)})


class ShownPerson(Protocol):
    """What ``person_view`` reads of a person (a ``records.Person``)."""

    @property
    def id(self) -> str: ...
    @property
    def album_id(self) -> str: ...
    @property
    def number(self) -> int | None: ...
    @property
    def hidden(self) -> bool: ...


class ShownFace(GroupedFace, Protocol):
    """What ``person_view`` and ``face_item`` read of a face (a ``catalog.faces.Stored``)."""

    @property
    def box(self) -> list[int]: ...
    @property
    def person_id(self) -> str | None: ...
    @property
    def person_pinned(self) -> bool: ...


def person_view(person: ShownPerson, faces: Sequence[ShownFace]) -> records.Person:
    """The person with its face and photo counts and its cover: its most typical face."""
    cover = None
    if faces:
        current = [f for f in faces if comparable(f)]  # faces of another recogniser are never compared
        cover_id = (cover_face([face_record(f) for f in current], similarity=scoring.similarity) if current
                    else faces[0].id)
        face = next(f for f in faces if f.id == cover_id)
        cover = records.FaceBox(face_id=face.id, photo_id=face.photo_id, box=face.box)
    return records.Person(id=person.id, album_id=person.album_id, name=f"Person {person.number}",
                          number=person.number, hidden=person.hidden, faces=len(faces),
                          photos=len({f.photo_id for f in faces}), cover=cover)


def face_item(face: ShownFace) -> records.PersonFace:
    return records.PersonFace(id=face.id, photo_id=face.photo_id, box=face.box, too_small=face.too_small,
                              pinned=face.person_pinned, person_id=face.person_id)


def _after_change(svc: Services, album_id: str, *, jobs: bool = False) -> None:
    if jobs:
        svc.notify_jobs(1)
    svc.hub.publish(album_id)


__all__ = [
    "MAX_REFERENCES", "MAX_SUGGESTIONS", "UNKNOWN", "ShownFace", "ShownPerson", "answer_suggestion", "create_person",
    "face_item", "get_person", "list_people", "merge_people", "merge_suggestions", "move_face", "person_view",
    "queue_regroup", "reject_face", "reject_preview", "rename_person", "set_hidden", "split_person",
]
