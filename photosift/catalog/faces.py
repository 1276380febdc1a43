"""Faces of analysed photos: their vectors, matches, people and corrections (rejections).

Repository functions: a session first, then keyword-only arguments; they return ``records`` dataclasses or plain
values, never ORM rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import ColumnElement, delete, func, or_, select

from photosift.catalog import members, models, records, vector_writes
from photosift.catalog.db import Session, in_chunks

_Face = models.Face


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where a face is placed: its person and member, ``pinned`` when a user placed it."""

    id: str
    person_id: str | None
    member_id: str | None
    pinned: bool


def boxes(session: Session, *, photo_id: str) -> list[list[int]]:
    """The boxes ``[left, top, width, height]`` of the photo's faces."""
    query = select(_Face.left, _Face.top, _Face.width, _Face.height).where(_Face.photo_id == photo_id)
    return [list(box) for box in session.execute(query)]


def page(session: Session, *, album_id: str, limit: int, unknown: bool | None = None, member_id: str | None = None,
         after_id: str | None = None) -> list[records.Face]:
    """Up to ``limit`` of the album's faces in id order after ``after_id``, with their matches (``unknown``: faces
    no member matched or the others; ``member_id``: the faces matched to that member)."""
    query = select(_Face).where(_Face.album_id == album_id)
    if unknown is not None:
        query = query.where(_Face.member_id.is_(None) if unknown else _Face.member_id.is_not(None))
    if member_id is not None:
        query = query.where(_Face.member_id == member_id)
    if after_id:
        query = query.where(_Face.id > after_id)
    faces = list(session.scalars(query.order_by(_Face.id).limit(limit)))
    names = members.names(session, album_id=album_id)
    return [records.face_of(f, names) for f in faces]


def assignments(session: Session, *, photo_ids: Sequence[str]) -> list[Assignment]:
    """Where the faces of the photos ``photo_ids`` are placed."""
    query = select(_Face.id, _Face.person_id, _Face.member_id, _Face.person_pinned).where(
        _Face.photo_id.in_(photo_ids))
    return [Assignment(id=face_id, person_id=person_id, member_id=member_id, pinned=pinned)
            for face_id, person_id, member_id, pinned in session.execute(query)]


@dataclass(frozen=True, slots=True)
class Stored:
    """A face as grouping and the user's corrections read it: its placement, quality and vector (``embedding``: the
    stored bytes, ``bytes_to_vector`` reads them; ``recognizer``: the recogniser that made them)."""

    id: str
    album_id: str
    photo_id: str
    box: list[int]
    confidence: float
    too_small: bool
    sharpness: float
    relative_blur: float | None
    analysed_size: float | None
    embedding: bytes
    recognizer: str
    member_id: str | None
    similarity: float | None
    person_id: str | None
    person_pinned: bool
    position: int  # in its photo, as the engine returned the faces


def _stored(row: models.Face) -> Stored:
    return Stored(id=row.id, album_id=row.album_id, photo_id=row.photo_id, box=row.box, confidence=row.confidence,
                  too_small=row.too_small, sharpness=row.sharpness, relative_blur=row.relative_blur,
                  analysed_size=row.analysed_size, embedding=row.embedding, recognizer=row.recognizer,
                  member_id=row.member_id, similarity=row.similarity, person_id=row.person_id,
                  person_pinned=row.person_pinned, position=row.position)


def stored(session: Session, *, face_ids: Sequence[str]) -> list[Stored]:
    """The faces among ``face_ids`` that exist, read by key alone (in no particular order)."""
    return [_stored(f) for f in _rows(session, face_ids)]


def of_album(session: Session, *, album_id: str) -> list[Stored]:
    """Every face of the album, in id order."""
    return [_stored(f) for f in session.scalars(select(_Face).where(_Face.album_id == album_id).order_by(_Face.id))]


def unknown(session: Session, *, album_id: str) -> list[Stored]:
    """The album's unknown faces (no member matched them, no person holds them), in id order."""
    return [_stored(f) for f in session.scalars(select(_Face).where(*_unknown(album_id)).order_by(_Face.id))]


def count_unknown(session: Session, *, album_id: str) -> int:
    """How many of the album's faces are unknown."""
    return session.scalar(select(func.count()).select_from(_Face).where(*_unknown(album_id))) or 0


def _unknown(album_id: str) -> tuple[ColumnElement[bool], ...]:
    return _Face.album_id == album_id, _Face.member_id.is_(None), _Face.person_id.is_(None)


def of_people(session: Session, *, person_ids: Sequence[str]) -> dict[str, list[Stored]]:
    """The faces of each person of ``person_ids`` that has some, in id order."""
    grouped: dict[str, list[Stored]] = defaultdict(list)
    if person_ids:
        for face in session.scalars(select(_Face).where(_Face.person_id.in_(person_ids)).order_by(_Face.id)):
            if face.person_id is not None:  # (the query asks for these people's faces)
                grouped[face.person_id].append(_stored(face))
    return grouped


def newest_of_person(session: Session, *, person_id: str, limit: int) -> list[Stored]:
    """The person's ``limit`` newest faces (highest ids first)."""
    query = select(_Face).where(_Face.person_id == person_id).order_by(_Face.id.desc()).limit(limit)
    return [_stored(f) for f in session.scalars(query)]


def count_of_person(session: Session, *, person_id: str) -> int:
    """How many faces the person holds."""
    return session.scalar(select(func.count()).select_from(_Face).where(_Face.person_id == person_id)) or 0


def of_member(session: Session, *, member_id: str, pinned: bool | None = None) -> list[Stored]:
    """The faces matched or pinned to the member (``pinned``: only those a user placed, or only the others), in id
    order."""
    query = select(_Face).where(_Face.member_id == member_id)
    if pinned is not None:
        query = query.where(_Face.person_pinned.is_(pinned))
    return [_stored(f) for f in session.scalars(query.order_by(_Face.id))]


def count_of_member(session: Session, *, member_id: str) -> int:
    """How many faces are matched or pinned to the member (its photos: one face per photo)."""
    return session.scalar(select(func.count()).select_from(_Face).where(_Face.member_id == member_id)) or 0


def matches(session: Session, *, album_id: str, photo_id: str) -> list[records.Match]:
    """The matched faces of the album's photo ``photo_id`` in engine order (a ``photo.matched`` event's)."""
    faces = session.scalars(select(_Face).where(_Face.photo_id == photo_id).order_by(_Face.position))
    return records.matches_of(faces, members.names(session, album_id=album_id))


def set_people(session: Session, *, people: dict[str, str | None]) -> None:
    """Put each face of ``people`` (face id -> person id, None: none) in its person, leaving it pinned or not."""
    for row in _rows(session, list(people)):
        row.person_id = people[row.id]
    session.flush()


def pin_to_person(session: Session, *, face_ids: Sequence[str], person_id: str | None) -> None:
    """A user placed the faces in ``person_id`` (None: in unknown), out of any member."""
    for row in _rows(session, face_ids):
        row.person_id, row.member_id, row.similarity, row.person_pinned = person_id, None, None, True
    session.flush()


def pin_to_member(session: Session, *, member_id: str, similarities: dict[str, float | None]) -> None:
    """A user gave the faces of ``similarities`` (face id -> similarity to the member's template) to the member, out
    of every person; "not <member>" said of them before is withdrawn."""
    for row in _rows(session, list(similarities)):
        row.member_id, row.similarity, row.person_id, row.person_pinned = member_id, similarities[row.id], None, True
    session.execute(delete(models.Rejection).where(models.Rejection.member_id == member_id,
                                                   models.Rejection.face_id.in_(list(similarities))))
    session.flush()


def unmatch(session: Session, *, face_id: str) -> None:
    """The face leaves its member and is free again (unpinned)."""
    for row in _rows(session, [face_id]):
        row.member_id, row.similarity, row.person_pinned = None, None, False
    session.flush()


def reject(session: Session, *, face: Stored, member_id: str) -> None:
    """Keep "``face`` is not member ``member_id``" (once per face and member), with the face's vector."""
    query = select(models.Rejection.id).where(models.Rejection.member_id == member_id,
                                              models.Rejection.face_id == face.id)
    if session.scalar(query) is None:
        session.add(models.Rejection(album_id=face.album_id, member_id=member_id, face_id=face.id,
                                     embedding=face.embedding, recognizer=face.recognizer))


def _rows(session: Session, face_ids: Sequence[str]) -> list[models.Face]:
    """The faces' rows (the session's own objects when it holds them, so its other readers see the writes)."""
    return [row for ids in in_chunks(face_ids) for row in session.scalars(select(_Face).where(_Face.id.in_(ids)))]


@dataclass(frozen=True, slots=True)
class Vector:
    """A face's vector and what decides whether it may be compared (the narrow read of neighbour queries)."""

    id: str
    album_id: str
    photo_id: str
    embedding: bytes
    recognizer: str
    pinned: bool
    too_small: bool


def vectors(session: Session, *, face_ids: Sequence[str]) -> list[Vector]:
    """The vectors of the faces among ``face_ids`` that exist, read by key alone (in no particular order)."""
    columns = (_Face.id, _Face.album_id, _Face.photo_id, _Face.embedding, _Face.recognizer, _Face.person_pinned,
               _Face.too_small)
    return [Vector(*row) for ids in in_chunks(sorted(face_ids))
            for row in session.execute(select(*columns).where(_Face.id.in_(ids)))]


def count_of_recognizer(session: Session, *, album_id: str, recognizer: str) -> int:
    """How many of the album's faces ``recognizer`` embedded."""
    return session.scalar(select(func.count()).select_from(_Face).where(
        _Face.album_id == album_id, _Face.recognizer == recognizer)) or 0


def embeddings_of_recognizer(session: Session, *, album_id: str, recognizer: str, batch: int
                             ) -> Iterator[tuple[list[str], list[bytes]]]:
    """The ids and stored vectors of the album's faces ``recognizer`` embedded, ``batch`` at a time in id order
    (streamed: an album of any size is never held at once)."""
    query = (select(_Face.id, _Face.embedding)
             .where(_Face.album_id == album_id, _Face.recognizer == recognizer).order_by(_Face.id)
             .execution_options(yield_per=batch))
    for rows in session.execute(query).partitions():
        yield [row[0] for row in rows], [row[1] for row in rows]


def release(session: Session, *, member_id: str) -> list[Stored]:
    """The member's faces leave it and are free again (unpinned: grouping and matching may place them); returns
    them as they are now."""
    rows = list(session.scalars(select(_Face).where(_Face.member_id == member_id)))
    for row in rows:
        row.member_id, row.similarity, row.person_pinned = None, None, False
    session.flush()
    return [_stored(row) for row in rows]


def counts_by_member(session: Session, *, album_id: str) -> dict[str, int]:
    """Member id -> how many of the album's faces are matched or pinned to it (its photos: one face per photo)."""
    query = (select(_Face.member_id, func.count()).where(_Face.album_id == album_id, _Face.member_id.is_not(None))
             .group_by(_Face.member_id))
    return {member_id: count for member_id, count in session.execute(query) if member_id is not None}


def confirmed_vectors(session: Session, *, album_id: str, recognizer: str) -> list[tuple[str, np.ndarray]]:
    """``(member id, vector)`` of the album's faces users gave a member ("this is <member>": pinned) that are not
    too small and ``recognizer`` embedded, in id order."""
    query = select(_Face.member_id, _Face.embedding).where(
        _Face.album_id == album_id, _Face.member_id.is_not(None), _Face.person_pinned.is_(True),
        _Face.too_small.is_(False), _Face.recognizer == recognizer).order_by(_Face.id)
    return [(member_id, models.bytes_to_vector(blob)) for member_id, blob in session.execute(query)
            if member_id is not None]


def rejected_vectors(session: Session, *, album_id: str, recognizer: str) -> dict[str, list[np.ndarray]]:
    """Member id -> the vectors (of ``recognizer``) of the faces users said are not that member."""
    found: dict[str, list[np.ndarray]] = defaultdict(list)
    for member_id, blob in session.execute(select(models.Rejection.member_id, models.Rejection.embedding).where(
            models.Rejection.album_id == album_id, models.Rejection.recognizer == recognizer)):
        found[member_id].append(models.bytes_to_vector(blob))
    return dict(found)


def confident_vectors(session: Session, *, album_id: str, member_ids: Sequence[str], recognizer: str,
                      least: float, smallest: float, newest: int) -> list[tuple[str, str, np.ndarray]]:
    """``(member id, photo id, vector)`` of each member's ``newest`` newest faces matched to it (not pinned) at a
    similarity of ``least`` or more that ``recognizer`` embedded, of ``smallest`` px or more where their size is
    known (``grouping.big_enough``), by member then id."""
    ranked = (select(_Face.id, _Face.member_id,
                     func.row_number().over(partition_by=_Face.member_id, order_by=_Face.id.desc()).label("rank"))
              .where(_Face.album_id == album_id, _Face.member_id.in_(member_ids), _Face.person_pinned.is_(False),
                     _Face.similarity >= least, _Face.recognizer == recognizer,
                     or_(_Face.analysed_size.is_(None), _Face.analysed_size >= smallest)).subquery())
    query = (select(_Face.member_id, _Face.photo_id, _Face.embedding).join(ranked, ranked.c.id == _Face.id)
             .where(ranked.c.rank <= newest).order_by(_Face.member_id, _Face.id))
    return [(member_id, photo_id, models.bytes_to_vector(blob)) for member_id, photo_id, blob in session.execute(query)
            if member_id is not None]


def unpinned_vectors(session: Session, *, album_id: str, recognizer: str) -> list[tuple[str, np.ndarray]]:
    """``(photo id, vector)`` of the album's faces ``recognizer`` embedded that are not too small and no user
    placed, by photo then position."""
    query = select(_Face.photo_id, _Face.embedding).where(
        _Face.album_id == album_id, _Face.recognizer == recognizer, _Face.too_small.is_(False),
        _Face.person_pinned.is_(False)).order_by(_Face.photo_id, _Face.position)
    return [(photo_id, models.bytes_to_vector(blob)) for photo_id, blob in session.execute(query)]


@dataclass(frozen=True, slots=True)
class New:
    """A face an analysis found, to store: where it is (``box``, ``position`` in its photo), its quality, its vector
    (``embedding``: stored bytes, of ``recognizer``) and the member it matched (None: unknown)."""

    position: int
    box: list[int]
    confidence: float
    landmarks: list[list[float]]
    pose: dict[str, float]
    sharpness: float
    brightness: float
    relative_blur: float | None
    analysed_size: float | None
    too_small: bool
    embedding: bytes
    recognizer: str
    member_id: str | None
    similarity: float | None


def add(session: Session, *, album_id: str, photo_id: str, faces: Sequence[New]) -> list[Stored]:
    """Store the faces of the album's photo ``photo_id`` (flushed: they have their ids); returns them in order."""
    rows = [_Face(photo_id=photo_id, album_id=album_id, position=f.position, left=f.box[0], top=f.box[1],
                  width=f.box[2], height=f.box[3], confidence=f.confidence, landmarks=f.landmarks, pose=f.pose,
                  sharpness=f.sharpness, brightness=f.brightness, relative_blur=f.relative_blur,
                  analysed_size=f.analysed_size, too_small=f.too_small, embedding=f.embedding,
                  recognizer=f.recognizer, member_id=f.member_id, similarity=f.similarity) for f in faces]
    session.add_all(rows)
    session.flush()
    return [_stored(row) for row in rows]


def delete_of_photo(session: Session, *, photo_id: str) -> list[str]:
    """Delete the photo's faces; returns their ids."""
    ids = list(session.scalars(select(_Face.id).where(_Face.photo_id == photo_id)))
    if ids:
        session.execute(delete(_Face).where(_Face.id.in_(ids)))
    return ids


def matched_ids(session: Session, *, album_id: str, recognizer: str) -> set[str]:
    """The ids of the album's faces ``recognizer`` embedded that a member matched (not placed by a user)."""
    return set(session.scalars(select(_Face.id).where(
        _Face.album_id == album_id, _Face.member_id.is_not(None), _Face.person_pinned.is_(False),
        _Face.recognizer == recognizer)))


def placed(session: Session, *, album_id: str, recognizer: str) -> list[Stored]:
    """The album's faces ``recognizer`` embedded that a user placed (pinned)."""
    query = select(_Face).where(_Face.album_id == album_id, _Face.person_pinned.is_(True),
                                _Face.recognizer == recognizer)
    return [_stored(f) for f in session.scalars(query)]


def set_matches(session: Session, *, matches: dict[str, tuple[str | None, float | None]]) -> None:
    """Give each face of ``matches`` (face id -> (member id, similarity); None: unknown) its match."""
    for row in _rows(session, list(matches)):
        row.member_id, row.similarity = matches[row.id]
    session.flush()


@dataclass(frozen=True, slots=True)
class ToEmbed:
    """A stored face to embed again (not its old vector): its photo's blob, where it is and its quality."""

    id: str
    photo_id: str
    blob_key: str
    box: list[int]
    confidence: float
    landmarks: list[list[float]]
    pose: dict[str, float] | None
    sharpness: float
    brightness: float
    too_small: bool


def to_embed(session: Session, *, album_id: str, recognizer: str) -> list[ToEmbed]:
    """The album's faces another recogniser than ``recognizer`` embedded, by photo then position."""
    query = (select(_Face.id, _Face.photo_id, models.Photo.blob_key, _Face.left, _Face.top, _Face.width,
                    _Face.height, _Face.confidence, _Face.landmarks, _Face.pose, _Face.sharpness, _Face.brightness,
                    _Face.too_small)
             .join(models.Photo, models.Photo.id == _Face.photo_id)
             .where(_Face.album_id == album_id, _Face.recognizer != recognizer)
             .order_by(_Face.photo_id, _Face.position))
    return [ToEmbed(id=r.id, photo_id=r.photo_id, blob_key=r.blob_key, box=[r.left, r.top, r.width, r.height],
                    confidence=r.confidence, landmarks=r.landmarks, pose=r.pose, sharpness=r.sharpness,
                    brightness=r.brightness, too_small=r.too_small) for r in session.execute(query)]


def set_vectors(session: Session, *, album_id: str, vectors: dict[str, bytes], recognizer: str) -> int:
    """Store ``vectors`` (face id -> stored bytes) of ``recognizer`` on the album's faces still of another
    recogniser (faces deleted or analysed again meanwhile are left out); returns how many were written."""
    return vector_writes.replace_old(session, _Face, album_id=album_id, vectors=vectors, recognizer=recognizer)


def copy_rejection_vectors(session: Session, *, album_id: str, recognizer: str) -> int:
    """Give each of the album's rejections of another recogniser the vector of its face, when the face is of
    ``recognizer``; returns how many."""
    rejection = models.Rejection
    vectors = {rejection_id: blob for rejection_id, blob in session.execute(
        select(rejection.id, _Face.embedding).join(_Face, _Face.id == rejection.face_id).where(
            rejection.album_id == album_id, rejection.recognizer != recognizer, _Face.recognizer == recognizer))}
    vector_writes.write(session, rejection, vectors, recognizer)
    return len(vectors)
