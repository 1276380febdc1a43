"""The Rekognition endpoint's collections, indexed faces and users.

Repository functions: a session first, then keyword-only arguments; they return the dataclasses below or plain
values, never ORM rows. Lists of ids go to the database ``db.IN_CHUNK`` at a time. Faces are looked up by primary key
alone and then checked for their collection: with the collection in the WHERE clause, SQLite walks the collection's
index instead (every face).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Row, delete, func, select, update

from photosift.catalog.db import Session, in_chunks
from photosift.catalog.models import bytes_to_vector, vector_to_bytes
from photosift.catalog.records import aware
from photosift.catalog.rekognition import RekognitionCollection, RekognitionFace, RekognitionUser

Box = tuple[float, float, float, float]  # left, top, width, height as ratios of the image's width/height


@dataclass(frozen=True)
class Collection:
    """A collection (``CreateCollection``)."""

    collection_id: str
    arn: str
    face_model_version: str
    created_at: datetime


@dataclass(frozen=True)
class CollectionDetail(Collection):
    """A collection and how many faces and users it holds."""

    face_count: int
    user_count: int


@dataclass(frozen=True)
class NewFace:
    """A face to index: ratio box, detector confidence 0-100, embedding vector."""

    box: Box
    confidence: float
    embedding: np.ndarray


@dataclass(frozen=True)
class IndexedFace:
    """A face stored in a collection."""

    face_id: str
    image_id: str
    external_image_id: str | None
    box: Box
    confidence: float
    user_id: str | None


class FaceVector:
    """A stored face with its embedding; its ``IndexedFace`` is made when asked for (a search reads many faces and
    answers few)."""

    __slots__ = ("_row", "embedding")

    def __init__(self, row: Row[*tuple[Any, ...]]) -> None:
        self._row = row
        self.embedding: np.ndarray = bytes_to_vector(row.embedding)

    @property
    def face_id(self) -> str:
        return str(self._row.face_id)

    @property
    def user_id(self) -> str | None:
        return self._row.user_id  # type: ignore[no-any-return]

    @property
    def face(self) -> IndexedFace:
        return _indexed(self._row)


@dataclass(frozen=True)
class User:
    """A user of a collection as stored (``CreateUser``)."""

    user_id: str
    client_token: str | None


# --- collections ------------------------------------------------------------------------------------------------


def get(session: Session, *, collection_id: str) -> Collection | None:
    row = session.get(RekognitionCollection, collection_id)
    return None if row is None else _collection(row)


def create(session: Session, *, collection_id: str, arn: str, face_model_version: str) -> Collection:
    row = RekognitionCollection(collection_id=collection_id, arn=arn, face_model_version=face_model_version,
                                created_at=datetime.now(UTC))
    session.add(row)
    return _collection(row)


def detail(session: Session, *, collection: Collection) -> CollectionDetail:
    """``collection`` with its face and user counts."""
    faces = face_count(session, collection_id=collection.collection_id)
    users = session.scalar(select(func.count()).where(RekognitionUser.collection_id == collection.collection_id))
    return CollectionDetail(collection.collection_id, collection.arn, collection.face_model_version,
                            collection.created_at, faces, users or 0)


def page(session: Session, *, after: str | None, limit: int) -> tuple[list[tuple[str, str]], str | None]:
    """``(collection_id, face_model_version)`` pairs in id order after ``after``, and the next page's key."""
    query = select(RekognitionCollection.collection_id, RekognitionCollection.face_model_version)
    if after:
        query = query.where(RekognitionCollection.collection_id > after)
    rows = session.execute(query.order_by(RekognitionCollection.collection_id).limit(limit + 1)).all()
    found = [(r[0], r[1]) for r in rows[:limit]]
    return found, (found[-1][0] if len(rows) > limit and found else None)


def delete_collection(session: Session, *, collection_id: str) -> None:
    """Delete a collection with all its faces and users."""
    for model in (RekognitionFace, RekognitionUser, RekognitionCollection):
        session.execute(delete(model).where(model.collection_id == collection_id))


# --- faces --------------------------------------------------------------------------------------------------------


def add_faces(session: Session, *, collection_id: str, image_id: str, external_image_id: str | None,
              faces: Sequence[NewFace]) -> list[IndexedFace]:
    """Store ``faces`` of one image (new random FaceIds), in the given order."""
    now = datetime.now(UTC)
    rows = [RekognitionFace(
        face_id=str(uuid.uuid4()), collection_id=collection_id, image_id=image_id,
        external_image_id=external_image_id, user_id=None, box_left=face.box[0], box_top=face.box[1],
        box_width=face.box[2], box_height=face.box[3], confidence=float(face.confidence),
        embedding=vector_to_bytes(face.embedding), created_at=now,
    ) for face in faces]
    session.add_all(rows)
    return [_indexed(r) for r in rows]


def face_page(session: Session, *, collection_id: str, after: str | None, limit: int, user_id: str | None = None,
              face_ids: Sequence[str] | None = None) -> tuple[list[IndexedFace], str | None]:
    """Faces in FaceId order after ``after`` (optionally only a user's, or only ``face_ids``), and the next key."""
    query = select(*_FACE).where(RekognitionFace.collection_id == collection_id)
    if user_id is not None:
        query = query.where(RekognitionFace.user_id == user_id)
    if after:
        query = query.where(RekognitionFace.face_id > after)
    query = query.order_by(RekognitionFace.face_id).limit(limit + 1)
    if face_ids:  # each chunk's first limit + 1 rows, merged: the first limit + 1 of them all
        found = [r for ids in in_chunks(face_ids)
                 for r in session.execute(query.where(RekognitionFace.face_id.in_(ids)))]
        found = sorted(found, key=lambda r: r.face_id)[: limit + 1]
    else:
        found = list(session.execute(query))
    rows = [_indexed(r) for r in found]
    faces = rows[:limit]
    return faces, (faces[-1].face_id if len(rows) > limit and faces else None)


def with_vectors(session: Session, *, collection_id: str, face_ids: Sequence[str] | None) -> list[FaceVector]:
    """The collection's faces among ``face_ids`` (all of them for ``None``) with their embeddings; ids not in the
    collection are left out."""
    query = select(*_FACE, RekognitionFace.embedding)
    if face_ids is None:
        rows = list(session.execute(query.where(RekognitionFace.collection_id == collection_id)))
    else:
        rows = [r for ids in in_chunks(face_ids) for r in session.execute(query.where(RekognitionFace.face_id.in_(ids)))
                if r.collection_id == collection_id]
    return [FaceVector(r) for r in rows]


def face_embedding(session: Session, *, collection_id: str, face_id: str) -> np.ndarray | None:
    """The stored embedding of a face, ``None`` if it is not in the collection."""
    row = session.get(RekognitionFace, face_id)
    return None if row is None or row.collection_id != collection_id else bytes_to_vector(row.embedding)


def delete_faces(session: Session, *, face_ids: Sequence[str]) -> None:
    for ids in in_chunks(face_ids):
        session.execute(delete(RekognitionFace).where(RekognitionFace.face_id.in_(ids)))


def set_user(session: Session, *, face_ids: Sequence[str], user_id: str | None) -> None:
    """Associate faces ``face_ids`` with ``user_id`` (``None``: with no user)."""
    for ids in in_chunks(face_ids):
        session.execute(update(RekognitionFace).where(RekognitionFace.face_id.in_(ids)).values(user_id=user_id))


def face_batches(session: Session, *, collection_id: str, batch: int) -> Iterator[tuple[list[str], list[np.ndarray]]]:
    """Every face of the collection as ``(ids, embeddings)`` at most ``batch`` at a time."""
    query = (select(RekognitionFace.face_id, RekognitionFace.embedding)
             .where(RekognitionFace.collection_id == collection_id)
             .execution_options(yield_per=batch))
    for rows in session.execute(query).partitions():
        yield [r[0] for r in rows], [bytes_to_vector(r[1]) for r in rows]


def face_count(session: Session, *, collection_id: str) -> int:
    return session.scalar(select(func.count()).where(RekognitionFace.collection_id == collection_id)) or 0


# --- users --------------------------------------------------------------------------------------------------------


def user(session: Session, *, collection_id: str, user_id: str) -> User | None:
    row = session.get(RekognitionUser, (collection_id, user_id))
    return None if row is None else User(row.user_id, row.client_token)


def create_user(session: Session, *, collection_id: str, user_id: str, client_token: str | None) -> None:
    session.add(RekognitionUser(collection_id=collection_id, user_id=user_id, client_token=client_token,
                                created_at=datetime.now(UTC)))


def delete_user(session: Session, *, collection_id: str, user_id: str) -> None:
    """Delete a user after disassociating its faces (the faces stay in the collection)."""
    session.execute(update(RekognitionFace).where(RekognitionFace.collection_id == collection_id,
                                                  RekognitionFace.user_id == user_id).values(user_id=None))
    session.execute(delete(RekognitionUser).where(RekognitionUser.collection_id == collection_id,
                                                  RekognitionUser.user_id == user_id))


def user_page(session: Session, *, collection_id: str, after: str | None,
              limit: int) -> tuple[list[str], str | None]:
    """User ids in order after ``after``, and the next page's key."""
    query = select(RekognitionUser.user_id).where(RekognitionUser.collection_id == collection_id)
    if after:
        query = query.where(RekognitionUser.user_id > after)
    ids = list(session.scalars(query.order_by(RekognitionUser.user_id).limit(limit + 1)))
    found = ids[:limit]
    return found, (found[-1] if len(ids) > limit and found else None)


def face_counts(session: Session, *, collection_id: str, user_ids: Sequence[str]) -> dict[str, int]:
    """How many faces each of ``user_ids`` has (users without faces are left out)."""
    query = (select(RekognitionFace.user_id, func.count())
             .where(RekognitionFace.collection_id == collection_id)
             .group_by(RekognitionFace.user_id))
    return {uid: int(n) for ids in in_chunks(user_ids)
            for uid, n in session.execute(query.where(RekognitionFace.user_id.in_(ids))).all() if uid is not None}


def user_embeddings(session: Session, *, collection_id: str,
                    user_ids: Sequence[str] | None) -> dict[str, list[np.ndarray]]:
    """The embeddings of the faces of each user among ``user_ids`` (of every user for ``None``) that has faces."""
    query = select(RekognitionFace.user_id, RekognitionFace.embedding).where(
        RekognitionFace.collection_id == collection_id, RekognitionFace.user_id.is_not(None))
    rows = (session.execute(query).all() if user_ids is None else
            [r for ids in in_chunks(user_ids) for r in session.execute(query.where(RekognitionFace.user_id.in_(ids)))])
    grouped: dict[str, list[np.ndarray]] = defaultdict(list)
    for uid, blob in rows:
        if uid is not None:  # (the query asks for faces of users only)
            grouped[uid].append(bytes_to_vector(blob))
    return dict(grouped)


def user_with_faces_count(session: Session, *, collection_id: str) -> int:
    """How many users of the collection have faces."""
    return session.scalar(select(func.count(RekognitionFace.user_id.distinct()))
                          .where(RekognitionFace.collection_id == collection_id)) or 0


# --- helpers ------------------------------------------------------------------------------------------------------

_FACE = (RekognitionFace.face_id, RekognitionFace.collection_id, RekognitionFace.image_id,
         RekognitionFace.external_image_id, RekognitionFace.box_left, RekognitionFace.box_top,
         RekognitionFace.box_width, RekognitionFace.box_height, RekognitionFace.confidence, RekognitionFace.user_id)
"""What an ``IndexedFace`` reads of a face (rows, not ORM objects: lists and searches read many and change none)."""


def _collection(row: RekognitionCollection) -> Collection:
    return Collection(row.collection_id, row.arn, row.face_model_version, aware(row.created_at))


def _indexed(row: RekognitionFace | Row[*tuple[Any, ...]]) -> IndexedFace:
    box = (row.box_left, row.box_top, row.box_width, row.box_height)
    return IndexedFace(row.face_id, row.image_id, row.external_image_id, box, row.confidence, row.user_id)
