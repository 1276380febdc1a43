"""Rekognition collections, indexed faces and user vectors: the use cases behind the AWS-compatible endpoint.

Every function takes the catalog (``photosift.catalog.db.Catalog``) and runs in one transaction. Similarities and
thresholds here are photosift's calibrated 0-100 scale (``photosift.application.scoring``); the API adapter converts
them to what it reports. A user's vector is ``scoring.template`` of its faces' embeddings.
Missing collections, faces or users raise ``NotFound``; duplicates raise ``AlreadyExists``.

Searches do not score every face: a face index (``photosift.catalog.face_index``) holds each collection's faces
(space ``faces/<collection>``) and its users' templates (``users/<collection>``) as the recogniser's unit vector
(a template: the mean of its faces' unit vectors), ranked by cosine; the ``candidates(limit)`` nearest are scored
exactly. Writes keep the index in step in their transaction; without an index (PostgreSQL lacking pgvector) every
face is scored.

As on AWS, a collection keeps no images, only vectors, and keeps the face model version it was created with
(``face_model_version``: the running recogniser's, ``photosift.faces.FACE_MODEL_VERSION``). Vectors of two
recognisers are never compared: indexing into or searching a collection of another version raises
``FaceModelRetired`` (the faces must be indexed again into a new collection); listing, describing and deleting it
work as ever. Lists of ids go to the
database ``IN_CHUNK`` at a time, so no list length reaches a database's limit on bound parameters (65,535 in
PostgreSQL, 32,766 in SQLite).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Row, delete, func, select
from sqlalchemy.orm import Session

from photosift.application import face_spaces, scoring
from photosift.catalog import face_index
from photosift.catalog.db import Catalog
from photosift.catalog.models import bytes_to_vector, vector_to_bytes
from photosift.catalog.rekognition import RekognitionCollection, RekognitionFace, RekognitionUser
from photosift.errors import AlreadyExists, FaceModelRetired, InvalidInput, NotFound

Box = tuple[float, float, float, float]  # left, top, width, height as ratios of the image's width/height
IN_CHUNK = 500  # ids bound per IN (...) list


def candidates(limit: int) -> int:
    """How many nearest vectors the index is asked for to answer ``limit`` results: cosine ranks nearly as the
    calibrated score does, and the margin covers the rest (recall@10 >= 0.99, ``benchmarks/search.py``)."""
    return max(4 * limit, 64)


@dataclass(frozen=True)
class Collection:
    """A collection and how many faces and users it holds."""

    collection_id: str
    arn: str
    face_model_version: str
    created_at: datetime
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


@dataclass(frozen=True)
class User:
    """A user vector; ``status`` is ``ACTIVE`` once it has faces, ``CREATED`` before."""

    user_id: str
    face_count: int

    @property
    def status(self) -> str:
        return "ACTIVE" if self.face_count else "CREATED"


@dataclass(frozen=True)
class Failure:
    """A face an operation could not handle, with AWS's reason code (and the face's user / similarity if known)."""

    face_id: str
    reason: str
    user_id: str | None = None
    similarity: float | None = None


# --- collections ------------------------------------------------------------------------------------------------


def face_model_version() -> str:
    """The face model version of the running recogniser: what new collections are created with."""
    from photosift import faces

    return faces.FACE_MODEL_VERSION


def collection_version(catalog: Catalog, collection_id: str) -> str:
    """The face model version of a collection (``NotFound`` when it does not exist)."""
    with catalog.read() as session:
        return _collection(session, collection_id).face_model_version


def comparable_version(catalog: Catalog, collection_id: str) -> str:
    """The face model version of a collection whose vectors the running recogniser can be compared with;
    ``FaceModelRetired`` for a collection of another version, ``NotFound`` when it does not exist."""
    with catalog.read() as session:
        return _collection(session, collection_id, comparable=True).face_model_version


def create_collection(catalog: Catalog, collection_id: str, *, arn: str, face_model_version: str) -> Collection:
    """Create an empty collection; ``AlreadyExists`` if the id is taken."""
    with catalog.session() as session:
        if session.get(RekognitionCollection, collection_id) is not None:
            raise AlreadyExists(f"The collection id: {collection_id} already exists")
        row = RekognitionCollection(collection_id=collection_id, arn=arn, face_model_version=face_model_version,
                                    created_at=datetime.now(UTC))
        session.add(row)
        return Collection(collection_id, arn, face_model_version, row.created_at, 0, 0)


def describe_collection(catalog: Catalog, collection_id: str) -> Collection:
    """The collection with its face and user counts."""
    with catalog.read() as session:
        row = _collection(session, collection_id)
        faces = session.scalar(select(func.count()).where(RekognitionFace.collection_id == collection_id)) or 0
        users = session.scalar(select(func.count()).where(RekognitionUser.collection_id == collection_id)) or 0
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        return Collection(row.collection_id, row.arn, row.face_model_version, created, faces, users)


def list_collections(catalog: Catalog, *, after: str | None, limit: int) -> tuple[list[tuple[str, str]], str | None]:
    """``(collection_id, face_model_version)`` pairs in id order after ``after``, and the next page's key."""
    with catalog.read() as session:
        query = select(RekognitionCollection.collection_id, RekognitionCollection.face_model_version)
        if after:
            query = query.where(RekognitionCollection.collection_id > after)
        rows = session.execute(query.order_by(RekognitionCollection.collection_id).limit(limit + 1)).all()
    page = [(r[0], r[1]) for r in rows[:limit]]
    return page, (page[-1][0] if len(rows) > limit and page else None)


def delete_collection(catalog: Catalog, collection_id: str) -> None:
    """Delete a collection with all its faces and users."""
    with catalog.session() as session:
        row = _collection(session, collection_id)
        for model in (RekognitionFace, RekognitionUser):
            session.execute(delete(model).where(model.collection_id == collection_id))
        session.delete(row)
        index = _index(catalog)
        for space in (_faces_space(collection_id), _users_space(collection_id)):
            index.drop(session, space)


# --- faces --------------------------------------------------------------------------------------------------------


def add_faces(catalog: Catalog, collection_id: str, faces: Sequence[NewFace], *, image_id: str,
              external_image_id: str | None) -> list[IndexedFace]:
    """Store ``faces`` of one image (new random FaceIds), in the given order."""
    import uuid

    now = datetime.now(UTC)
    out = []
    with catalog.session() as session:
        _collection(session, collection_id, comparable=True)
        for face in faces:
            row = RekognitionFace(
                face_id=str(uuid.uuid4()), collection_id=collection_id, image_id=image_id,
                external_image_id=external_image_id, user_id=None, box_left=face.box[0], box_top=face.box[1],
                box_width=face.box[2], box_height=face.box[3], confidence=float(face.confidence),
                embedding=vector_to_bytes(face.embedding), created_at=now,
            )
            session.add(row)
            out.append(_indexed(row))
        if out:
            vectors = scoring.index_vectors([np.asarray(f.embedding, dtype=np.float32) for f in faces])
            _index(catalog).add(session, _faces_space(collection_id), [f.face_id for f in out], vectors)
    return out


def list_faces(catalog: Catalog, collection_id: str, *, after: str | None, limit: int, user_id: str | None = None,
               face_ids: Sequence[str] | None = None) -> tuple[list[IndexedFace], str | None]:
    """Faces in FaceId order after ``after`` (optionally only a user's, or only ``face_ids``), and the next key."""
    with catalog.read() as session:
        _collection(session, collection_id)
        query = select(RekognitionFace).where(RekognitionFace.collection_id == collection_id)
        if user_id is not None:
            query = query.where(RekognitionFace.user_id == user_id)
        if after:
            query = query.where(RekognitionFace.face_id > after)
        query = query.order_by(RekognitionFace.face_id).limit(limit + 1)
        if face_ids:  # each chunk's first limit + 1 rows, merged: the first limit + 1 of them all
            found = [r for ids in _chunks(face_ids)
                     for r in session.scalars(query.where(RekognitionFace.face_id.in_(ids)))]
            found = sorted(found, key=lambda r: r.face_id)[: limit + 1]
        else:
            found = list(session.scalars(query))
        rows = [_indexed(r) for r in found]
    page = rows[:limit]
    return page, (page[-1].face_id if len(rows) > limit and page else None)


def delete_faces(catalog: Catalog, collection_id: str, face_ids: Sequence[str]) -> tuple[list[str], list[Failure]]:
    """Delete faces; a face still associated with a user, or not in the collection, is reported as a failure."""
    deleted: list[str] = []
    failures: list[Failure] = []
    with catalog.session() as session:
        _collection(session, collection_id)
        rows = _faces(session, collection_id, face_ids)
        for face_id in dict.fromkeys(face_ids):
            row = rows.get(face_id)
            if row is None:
                failures.append(Failure(face_id, "FACE_NOT_FOUND"))
            elif row.user_id is not None:
                failures.append(Failure(face_id, "ASSOCIATED_TO_AN_EXISTING_USER", user_id=row.user_id))
            else:
                session.delete(row)
                deleted.append(face_id)
        _index(catalog).remove(session, _faces_space(collection_id), deleted)
    return deleted, failures


def face_embedding(catalog: Catalog, collection_id: str, face_id: str) -> np.ndarray:
    """The stored embedding of a face; ``NotFound`` if it is not in the collection."""
    with catalog.read() as session:
        _collection(session, collection_id)
        row = session.get(RekognitionFace, face_id)
        if row is None or row.collection_id != collection_id:
            raise NotFound(f"Face {face_id} was not found in collection {collection_id}")
        return bytes_to_vector(row.embedding)


def search_faces(catalog: Catalog, collection_id: str, probe: np.ndarray, *, threshold: float, limit: int,
                 exclude_face_id: str | None = None) -> list[tuple[IndexedFace, float]]:
    """Faces of the collection with similarity >= ``threshold`` to ``probe``, most similar first, at most ``limit``."""
    with catalog.read() as session:
        _collection(session, collection_id, comparable=True)
        near = _index(catalog).nearest(session, _faces_space(collection_id), scoring.index_query(probe),
                                       candidates(limit) + (exclude_face_id is not None))
        found = (session.execute(select(*_SEARCHED).where(RekognitionFace.collection_id == collection_id))
                 if near is None else _searched(session, collection_id, near))
        rows = [r for r in found if r.face_id != exclude_face_id]
    if not rows:
        return []
    scores = scoring.scores(probe, [bytes_to_vector(r.embedding) for r in rows])
    ranked = sorted((i for i in range(len(rows)) if scores[i] >= threshold), key=lambda i: -scores[i])
    return [(_indexed(rows[i]), float(scores[i])) for i in ranked[:limit]]


# --- users --------------------------------------------------------------------------------------------------------


def create_user(catalog: Catalog, collection_id: str, user_id: str, *, client_token: str | None = None) -> None:
    """Create an empty user; repeating the call with the same ``client_token`` is a no-op, else ``AlreadyExists``."""
    with catalog.session() as session:
        _collection(session, collection_id)
        existing = session.get(RekognitionUser, (collection_id, user_id))
        if existing is not None:
            if client_token and existing.client_token == client_token:
                return
            raise AlreadyExists(f"User {user_id} already exists in collection {collection_id}")
        session.add(RekognitionUser(collection_id=collection_id, user_id=user_id, client_token=client_token,
                                    created_at=datetime.now(UTC)))


def delete_user(catalog: Catalog, collection_id: str, user_id: str) -> None:
    """Delete a user after disassociating its faces (the faces stay in the collection)."""
    with catalog.session() as session:
        user = _user(session, collection_id, user_id)
        for face in _user_faces(session, collection_id, user_id):
            face.user_id = None
        session.delete(user)
        _index(catalog).remove(session, _users_space(collection_id), [user_id])


def list_users(catalog: Catalog, collection_id: str, *, after: str | None,
               limit: int) -> tuple[list[User], str | None]:
    """Users in UserId order after ``after``, and the next page's key."""
    with catalog.read() as session:
        _collection(session, collection_id)
        query = select(RekognitionUser.user_id).where(RekognitionUser.collection_id == collection_id)
        if after:
            query = query.where(RekognitionUser.user_id > after)
        ids = list(session.scalars(query.order_by(RekognitionUser.user_id).limit(limit + 1)))
        counts = _face_counts(session, collection_id, ids[:limit])
    page = [User(uid, counts.get(uid, 0)) for uid in ids[:limit]]
    return page, (page[-1].user_id if len(ids) > limit and page else None)


def associate_faces(catalog: Catalog, collection_id: str, user_id: str, face_ids: Sequence[str], *,
                    threshold: float) -> tuple[list[str], list[Failure], User]:
    """Attach faces to a user. Once the user has faces, a new face must reach ``threshold`` against its vector."""
    associated: list[str] = []
    failures: list[Failure] = []
    with catalog.session() as session:
        _collection(session, collection_id, comparable=True)  # a face is scored against the user's vector
        _user(session, collection_id, user_id)
        current = _user_faces(session, collection_id, user_id)
        template = scoring.template([bytes_to_vector(f.embedding) for f in current]) if current else None
        rows = _faces(session, collection_id, face_ids)
        for face_id in dict.fromkeys(face_ids):
            row = rows.get(face_id)
            if row is None:
                failures.append(Failure(face_id, "FACE_NOT_FOUND"))
            elif row.user_id == user_id:
                associated.append(face_id)
            elif row.user_id is not None:
                failures.append(Failure(face_id, "ASSOCIATED_TO_A_DIFFERENT_USER", user_id=row.user_id))
            else:
                vector = bytes_to_vector(row.embedding)
                score = None if template is None else float(scoring.scores(template, [vector])[0])
                if score is not None and score < threshold:
                    failures.append(Failure(face_id, "LOW_MATCH_CONFIDENCE", user_id=user_id, similarity=score))
                else:
                    row.user_id = user_id
                    associated.append(face_id)
        session.flush()
        count = _face_counts(session, collection_id, [user_id]).get(user_id, 0)
        _index_user(catalog, session, collection_id, user_id)
    return associated, failures, User(user_id, count)


def disassociate_faces(catalog: Catalog, collection_id: str, user_id: str,
                       face_ids: Sequence[str]) -> tuple[list[str], list[Failure], User]:
    """Detach faces from a user; faces of other users (or of none) are failures."""
    done: list[str] = []
    failures: list[Failure] = []
    with catalog.session() as session:
        _user(session, collection_id, user_id)
        rows = _faces(session, collection_id, face_ids)
        for face_id in dict.fromkeys(face_ids):
            row = rows.get(face_id)
            if row is None:
                failures.append(Failure(face_id, "FACE_NOT_FOUND"))
            elif row.user_id != user_id:
                failures.append(Failure(face_id, "ASSOCIATED_TO_A_DIFFERENT_USER", user_id=row.user_id))
            else:
                row.user_id = None
                done.append(face_id)
        session.flush()
        count = _face_counts(session, collection_id, [user_id]).get(user_id, 0)
        _index_user(catalog, session, collection_id, user_id)
    return done, failures, User(user_id, count)


def user_vector(catalog: Catalog, collection_id: str, user_id: str) -> np.ndarray:
    """The user's vector; ``InvalidInput`` when the user has no faces yet."""
    with catalog.read() as session:
        _user(session, collection_id, user_id)
        faces = _user_faces(session, collection_id, user_id)
        if not faces:
            raise InvalidInput(f"User {user_id} has no faces associated")
        return scoring.template([bytes_to_vector(f.embedding) for f in faces])


def search_users(catalog: Catalog, collection_id: str, probe: np.ndarray, *, threshold: float, limit: int,
                 exclude_user_id: str | None = None) -> list[tuple[User, float]]:
    """Users whose vector reaches ``threshold`` against ``probe``, most similar first, at most ``limit``."""
    with catalog.read() as session:
        _collection(session, collection_id, comparable=True)
        near = _index(catalog).nearest(session, _users_space(collection_id), scoring.index_query(probe),
                                       candidates(limit) + (exclude_user_id is not None))
        query = select(RekognitionFace.user_id, RekognitionFace.embedding).where(
            RekognitionFace.collection_id == collection_id, RekognitionFace.user_id.is_not(None))
        rows = (session.execute(query).all() if near is None else
                [r for ids in _chunks(near) for r in session.execute(query.where(RekognitionFace.user_id.in_(ids)))])
    grouped: dict[str, list[np.ndarray]] = defaultdict(list)
    for uid, blob in rows:
        if uid is not None and uid != exclude_user_id:  # (the query asks for faces of users only)
            grouped[uid].append(bytes_to_vector(blob))
    if not grouped:
        return []
    users = sorted(grouped)
    scores = scoring.scores(probe, [scoring.template(grouped[u]) for u in users])
    ranked = sorted(((s, u) for s, u in zip(scores, users, strict=True) if s >= threshold), key=lambda p: -p[0])
    return [(User(u, len(grouped[u])), float(s)) for s, u in ranked[:limit]]


# --- helpers ------------------------------------------------------------------------------------------------------


def _collection(session: Session, collection_id: str, *, comparable: bool = False) -> RekognitionCollection:
    """The collection (``NotFound``); with ``comparable``, only if its vectors are the running recogniser's."""
    row = session.get(RekognitionCollection, collection_id)
    if row is None:
        raise NotFound(f"The collection id: {collection_id} does not exist")
    if comparable:
        _check_version(collection_id, row.face_model_version)
    return row


def _check_version(collection_id: str, version: str) -> None:
    """``FaceModelRetired`` unless ``version`` is the running recogniser's."""
    from photosift.faces.recognizers import RETIRED_FACE_MODEL_VERSIONS

    running = face_model_version()
    if version == running:
        return
    runs = "no longer runs" if version in RETIRED_FACE_MODEL_VERSIONS.values() else "does not run"
    raise FaceModelRetired(
        f"Collection {collection_id} holds faces of face model version {version}, which this server {runs} (it runs "
        f"{running}); create a new collection and index the faces again (IndexFaces)")


def _user(session: Session, collection_id: str, user_id: str) -> RekognitionUser:
    _collection(session, collection_id)
    row = session.get(RekognitionUser, (collection_id, user_id))
    if row is None:
        raise NotFound(f"User {user_id} does not exist in collection {collection_id}")
    return row


def _user_faces(session: Session, collection_id: str, user_id: str) -> list[RekognitionFace]:
    query = select(RekognitionFace).where(RekognitionFace.collection_id == collection_id,
                                          RekognitionFace.user_id == user_id)
    return list(session.scalars(query))


def _faces(session: Session, collection_id: str, face_ids: Sequence[str]) -> dict[str, RekognitionFace]:
    """The faces of the collection among ``face_ids``, by id (ids not there are left out). Looked up by primary key
    alone: with the collection in the WHERE clause, SQLite walks the collection's index instead (every face)."""
    return {r.face_id: r for ids in _chunks(face_ids)
            for r in session.scalars(select(RekognitionFace).where(RekognitionFace.face_id.in_(ids)))
            if r.collection_id == collection_id}


_SEARCHED = (RekognitionFace.face_id, RekognitionFace.collection_id, RekognitionFace.image_id,
             RekognitionFace.external_image_id, RekognitionFace.box_left, RekognitionFace.box_top,
             RekognitionFace.box_width, RekognitionFace.box_height, RekognitionFace.confidence, RekognitionFace.user_id,
             RekognitionFace.embedding)
"""What a search reads of a face (rows, not ORM objects: a search reads many and changes none)."""


def _searched(session: Session, collection_id: str, face_ids: Sequence[str]) -> list[Row[*tuple[Any, ...]]]:
    """``_SEARCHED`` of the collection's faces among ``face_ids`` (looked up by primary key alone, as ``_faces``)."""
    return [r for ids in _chunks(face_ids)
            for r in session.execute(select(*_SEARCHED).where(RekognitionFace.face_id.in_(ids)))
            if r.collection_id == collection_id]


def _face_counts(session: Session, collection_id: str, user_ids: Sequence[str]) -> dict[str, int]:
    query = (select(RekognitionFace.user_id, func.count())
             .where(RekognitionFace.collection_id == collection_id)
             .group_by(RekognitionFace.user_id))
    return {uid: int(n) for ids in _chunks(user_ids)
            for uid, n in session.execute(query.where(RekognitionFace.user_id.in_(ids))).all() if uid is not None}


def _chunks(ids: Sequence[str]) -> list[list[str]]:
    """Distinct ``ids`` in lists of at most ``IN_CHUNK``."""
    unique = list(dict.fromkeys(ids))
    return [unique[i : i + IN_CHUNK] for i in range(0, len(unique), IN_CHUNK)]


def _indexed(row: RekognitionFace | Row[*tuple[Any, ...]]) -> IndexedFace:
    box = (row.box_left, row.box_top, row.box_width, row.box_height)
    return IndexedFace(row.face_id, row.image_id, row.external_image_id, box, row.confidence, row.user_id)


# --- the face index ----------------------------------------------------------------------------------------------


def _faces_space(collection_id: str) -> str:
    return f"faces/{collection_id}"


def _users_space(collection_id: str) -> str:
    return f"users/{collection_id}"


def _index(catalog: Catalog) -> face_index.FaceIndex:
    return face_spaces.index_of(catalog)


def _index_user(catalog: Catalog, session: Session, collection_id: str, user_id: str) -> None:
    """Put the user's template (the mean of its faces' unit vectors) in the index, or take it out if it has none."""
    faces = _user_faces(session, collection_id, user_id)
    if faces:
        template = scoring.index_vectors([bytes_to_vector(f.embedding) for f in faces]).mean(axis=0, keepdims=True)
        _index(catalog).add(session, _users_space(collection_id), [user_id], template)
    else:
        _index(catalog).remove(session, _users_space(collection_id), [user_id])


class CollectionSpaces:
    """The catalog's vectors of a space (``face_index.Source``): a collection's faces, or its users' templates."""

    def count(self, session: Session, space: str) -> int:
        kind, collection_id = space.split("/", 1)
        where = [RekognitionFace.collection_id == collection_id]
        if kind == "users":
            return session.scalar(select(func.count(RekognitionFace.user_id.distinct())).where(*where)) or 0
        return session.scalar(select(func.count()).where(*where)) or 0

    def load(self, session: Session, space: str) -> Iterator[tuple[list[str], np.ndarray]]:
        kind, collection_id = space.split("/", 1)
        if kind == "users":
            grouped: dict[str, list[np.ndarray]] = defaultdict(list)
            for uid, blob in session.execute(select(RekognitionFace.user_id, RekognitionFace.embedding).where(
                    RekognitionFace.collection_id == collection_id, RekognitionFace.user_id.is_not(None))):
                if uid is not None:
                    grouped[uid].append(bytes_to_vector(blob))
            users = sorted(grouped)
            for i in range(0, len(users), face_index.BATCH):
                batch = users[i : i + face_index.BATCH]
                yield batch, np.stack([scoring.index_vectors(grouped[u]).mean(axis=0) for u in batch])
            return
        query = (select(RekognitionFace.face_id, RekognitionFace.embedding)
                 .where(RekognitionFace.collection_id == collection_id)
                 .execution_options(yield_per=face_index.BATCH))
        for rows in session.execute(query).partitions():
            yield [r[0] for r in rows], scoring.index_vectors([bytes_to_vector(r[1]) for r in rows])


COLLECTION_SPACES = CollectionSpaces()
