"""Rekognition collections, indexed faces and user vectors: the use cases behind the AWS-compatible endpoint.

Every function takes the catalog (``photosift.catalog.db.Catalog``) and runs in one transaction. Similarities and
thresholds here are photosift's calibrated 0-100 scale (``photosift.application.scoring``); the API adapter converts
them to what it reports. A user's vector is ``scoring.template`` of its faces' embeddings.
Missing collections, faces or users raise ``NotFound``; duplicates raise ``AlreadyExists``.

Searches do not score every face: a face index (``photosift.catalog.face_index``) holds each collection's faces
(space ``faces/<collection>``) and its users' templates (``users/<collection>``) as the recogniser's unit vector
(a template: the mean of its faces' unit vectors), ranked by cosine; the ``candidates(limit)`` nearest are scored
exactly. Writes keep the index in step in their transaction; without an index (``face_index.ExactScan``, the
benchmarks' baseline) every face is scored.

As on AWS, a collection keeps no images, only vectors, and keeps the face model version it was created with
(``face_model_version``: the running recogniser's, ``photosift.faces.FACE_MODEL_VERSION``). Vectors of two
recognisers are never compared: indexing into or searching a collection of another version raises
``FaceModelRetired`` (the faces must be indexed again into a new collection); listing, describing and deleting it
work as ever. The queries are ``photosift.catalog.collections``'.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from photosift.application import face_spaces, scoring
from photosift.catalog import collections, face_index
from photosift.catalog.collections import Box, CollectionDetail, IndexedFace, NewFace
from photosift.catalog.db import Catalog, Session
from photosift.errors import AlreadyExists, FaceModelRetired, InvalidInput, NotFound

__all__ = [
    "COLLECTION_SPACES", "Box", "CollectionDetail", "CollectionSpaces", "Failure", "IndexedFace", "NewFace", "User",
    "add_faces", "associate_faces", "candidates", "collection_version", "comparable_version", "create_collection",
    "create_user", "delete_collection", "delete_faces", "delete_user", "describe_collection", "disassociate_faces",
    "face_embedding", "face_model_version", "list_collections", "list_faces", "list_users", "search_faces",
    "search_users", "user_vector",
]


def candidates(limit: int) -> int:
    """How many nearest vectors the index is asked for to answer ``limit`` results: cosine ranks nearly as the
    calibrated score does, and the margin covers the rest (recall@10 >= 0.99, ``benchmarks/search.py``)."""
    return max(4 * limit, 64)


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


def create_collection(catalog: Catalog, collection_id: str, *, arn: str,
                      face_model_version: str) -> CollectionDetail:
    """Create an empty collection; ``AlreadyExists`` if the id is taken."""
    with catalog.session() as session:
        if collections.get(session, collection_id=collection_id) is not None:
            raise AlreadyExists(f"The collection id: {collection_id} already exists")
        row = collections.create(session, collection_id=collection_id, arn=arn,
                                 face_model_version=face_model_version)
        return CollectionDetail(row.collection_id, row.arn, row.face_model_version, row.created_at, 0, 0)


def describe_collection(catalog: Catalog, collection_id: str) -> CollectionDetail:
    """The collection with its face and user counts."""
    with catalog.read() as session:
        return collections.detail(session, collection=_collection(session, collection_id))


def list_collections(catalog: Catalog, *, after: str | None, limit: int) -> tuple[list[tuple[str, str]], str | None]:
    """``(collection_id, face_model_version)`` pairs in id order after ``after``, and the next page's key."""
    with catalog.read() as session:
        return collections.page(session, after=after, limit=limit)


def delete_collection(catalog: Catalog, collection_id: str) -> None:
    """Delete a collection with all its faces and users."""
    with catalog.session() as session:
        _collection(session, collection_id)
        collections.delete_collection(session, collection_id=collection_id)
        index = _index(catalog)
        for space in (_faces_space(collection_id), _users_space(collection_id)):
            index.drop(session, space)


# --- faces --------------------------------------------------------------------------------------------------------


def add_faces(catalog: Catalog, collection_id: str, faces: Sequence[NewFace], *, image_id: str,
              external_image_id: str | None) -> list[IndexedFace]:
    """Store ``faces`` of one image (new random FaceIds), in the given order."""
    with catalog.session() as session:
        _collection(session, collection_id, comparable=True)
        out = collections.add_faces(session, collection_id=collection_id, image_id=image_id,
                                    external_image_id=external_image_id, faces=faces)
        if out:
            vectors = scoring.index_vectors([np.asarray(f.embedding, dtype=np.float32) for f in faces])
            _index(catalog).add(session, _faces_space(collection_id), [f.face_id for f in out], vectors)
    return out


def list_faces(catalog: Catalog, collection_id: str, *, after: str | None, limit: int, user_id: str | None = None,
               face_ids: Sequence[str] | None = None) -> tuple[list[IndexedFace], str | None]:
    """Faces in FaceId order after ``after`` (optionally only a user's, or only ``face_ids``), and the next key."""
    with catalog.read() as session:
        _collection(session, collection_id)
        return collections.face_page(session, collection_id=collection_id, after=after, limit=limit,
                                     user_id=user_id, face_ids=face_ids)


def delete_faces(catalog: Catalog, collection_id: str, face_ids: Sequence[str]) -> tuple[list[str], list[Failure]]:
    """Delete faces; a face still associated with a user, or not in the collection, is reported as a failure."""
    deleted: list[str] = []
    failures: list[Failure] = []
    with catalog.session() as session:
        _collection(session, collection_id)
        found = _faces(session, collection_id, face_ids)
        for face_id in dict.fromkeys(face_ids):
            face = found.get(face_id)
            if face is None:
                failures.append(Failure(face_id, "FACE_NOT_FOUND"))
            elif face.user_id is not None:
                failures.append(Failure(face_id, "ASSOCIATED_TO_AN_EXISTING_USER", user_id=face.user_id))
            else:
                deleted.append(face_id)
        collections.delete_faces(session, face_ids=deleted)
        _index(catalog).remove(session, _faces_space(collection_id), deleted)
    return deleted, failures


def face_embedding(catalog: Catalog, collection_id: str, face_id: str) -> np.ndarray:
    """The stored embedding of a face; ``NotFound`` if it is not in the collection."""
    with catalog.read() as session:
        _collection(session, collection_id)
        embedding = collections.face_embedding(session, collection_id=collection_id, face_id=face_id)
    if embedding is None:
        raise NotFound(f"Face {face_id} was not found in collection {collection_id}")
    return embedding


def search_faces(catalog: Catalog, collection_id: str, probe: np.ndarray, *, threshold: float, limit: int,
                 exclude_face_id: str | None = None) -> list[tuple[IndexedFace, float]]:
    """Faces of the collection with similarity >= ``threshold`` to ``probe``, most similar first, at most ``limit``."""
    with catalog.read() as session:
        _collection(session, collection_id, comparable=True)
        near = _index(catalog).nearest(session, _faces_space(collection_id), scoring.index_query(probe),
                                       candidates(limit) + (exclude_face_id is not None))
        found = [f for f in collections.with_vectors(session, collection_id=collection_id, face_ids=near)
                 if f.face_id != exclude_face_id]
    if not found:
        return []
    scores = scoring.scores(probe, [f.embedding for f in found])
    ranked = sorted((i for i in range(len(found)) if scores[i] >= threshold), key=lambda i: -scores[i])
    return [(found[i].face, float(scores[i])) for i in ranked[:limit]]


# --- users --------------------------------------------------------------------------------------------------------


def create_user(catalog: Catalog, collection_id: str, user_id: str, *, client_token: str | None = None) -> None:
    """Create an empty user; repeating the call with the same ``client_token`` is a no-op, else ``AlreadyExists``."""
    with catalog.session() as session:
        _collection(session, collection_id)
        existing = collections.user(session, collection_id=collection_id, user_id=user_id)
        if existing is not None:
            if client_token and existing.client_token == client_token:
                return
            raise AlreadyExists(f"User {user_id} already exists in collection {collection_id}")
        collections.create_user(session, collection_id=collection_id, user_id=user_id, client_token=client_token)


def delete_user(catalog: Catalog, collection_id: str, user_id: str) -> None:
    """Delete a user after disassociating its faces (the faces stay in the collection)."""
    with catalog.session() as session:
        _user(session, collection_id, user_id)
        collections.delete_user(session, collection_id=collection_id, user_id=user_id)
        _index(catalog).remove(session, _users_space(collection_id), [user_id])


def list_users(catalog: Catalog, collection_id: str, *, after: str | None,
               limit: int) -> tuple[list[User], str | None]:
    """Users in UserId order after ``after``, and the next page's key."""
    with catalog.read() as session:
        _collection(session, collection_id)
        ids, next_key = collections.user_page(session, collection_id=collection_id, after=after, limit=limit)
        counts = collections.face_counts(session, collection_id=collection_id, user_ids=ids)
    return [User(uid, counts.get(uid, 0)) for uid in ids], next_key


def associate_faces(catalog: Catalog, collection_id: str, user_id: str, face_ids: Sequence[str], *,
                    threshold: float) -> tuple[list[str], list[Failure], User]:
    """Attach faces to a user. Once the user has faces, a new face must reach ``threshold`` against its vector."""
    associated: list[str] = []
    failures: list[Failure] = []
    with catalog.session() as session:
        _collection(session, collection_id, comparable=True)  # a face is scored against the user's vector
        _user(session, collection_id, user_id)
        current = _user_embeddings(session, collection_id, user_id)
        template = scoring.template(current) if current else None
        found = _faces(session, collection_id, face_ids)
        newly: list[str] = []
        for face_id in dict.fromkeys(face_ids):
            face = found.get(face_id)
            if face is None:
                failures.append(Failure(face_id, "FACE_NOT_FOUND"))
            elif face.user_id == user_id:
                associated.append(face_id)
            elif face.user_id is not None:
                failures.append(Failure(face_id, "ASSOCIATED_TO_A_DIFFERENT_USER", user_id=face.user_id))
            else:
                score = None if template is None else float(scoring.scores(template, [face.embedding])[0])
                if score is not None and score < threshold:
                    failures.append(Failure(face_id, "LOW_MATCH_CONFIDENCE", user_id=user_id, similarity=score))
                else:
                    newly.append(face_id)
                    associated.append(face_id)
        collections.set_user(session, face_ids=newly, user_id=user_id)
        count = _index_user(catalog, session, collection_id, user_id)
    return associated, failures, User(user_id, count)


def disassociate_faces(catalog: Catalog, collection_id: str, user_id: str,
                       face_ids: Sequence[str]) -> tuple[list[str], list[Failure], User]:
    """Detach faces from a user; faces of other users (or of none) are failures."""
    done: list[str] = []
    failures: list[Failure] = []
    with catalog.session() as session:
        _user(session, collection_id, user_id)
        found = _faces(session, collection_id, face_ids)
        for face_id in dict.fromkeys(face_ids):
            face = found.get(face_id)
            if face is None:
                failures.append(Failure(face_id, "FACE_NOT_FOUND"))
            elif face.user_id != user_id:
                failures.append(Failure(face_id, "ASSOCIATED_TO_A_DIFFERENT_USER", user_id=face.user_id))
            else:
                done.append(face_id)
        collections.set_user(session, face_ids=done, user_id=None)
        count = _index_user(catalog, session, collection_id, user_id)
    return done, failures, User(user_id, count)


def user_vector(catalog: Catalog, collection_id: str, user_id: str) -> np.ndarray:
    """The user's vector; ``InvalidInput`` when the user has no faces yet."""
    with catalog.read() as session:
        _user(session, collection_id, user_id)
        embeddings = _user_embeddings(session, collection_id, user_id)
    if not embeddings:
        raise InvalidInput(f"User {user_id} has no faces associated")
    return scoring.template(embeddings)


def search_users(catalog: Catalog, collection_id: str, probe: np.ndarray, *, threshold: float, limit: int,
                 exclude_user_id: str | None = None) -> list[tuple[User, float]]:
    """Users whose vector reaches ``threshold`` against ``probe``, most similar first, at most ``limit``."""
    with catalog.read() as session:
        _collection(session, collection_id, comparable=True)
        near = _index(catalog).nearest(session, _users_space(collection_id), scoring.index_query(probe),
                                       candidates(limit) + (exclude_user_id is not None))
        grouped = collections.user_embeddings(session, collection_id=collection_id, user_ids=near)
    if exclude_user_id is not None:
        grouped.pop(exclude_user_id, None)
    if not grouped:
        return []
    users = sorted(grouped)
    scores = scoring.scores(probe, [scoring.template(grouped[u]) for u in users])
    ranked = sorted(((s, u) for s, u in zip(scores, users, strict=True) if s >= threshold), key=lambda p: -p[0])
    return [(User(u, len(grouped[u])), float(s)) for s, u in ranked[:limit]]


# --- helpers ------------------------------------------------------------------------------------------------------


def _collection(session: Session, collection_id: str, *, comparable: bool = False) -> collections.Collection:
    """The collection (``NotFound``); with ``comparable``, only if its vectors are the running recogniser's."""
    found = collections.get(session, collection_id=collection_id)
    if found is None:
        raise NotFound(f"The collection id: {collection_id} does not exist")
    if comparable:
        _check_version(collection_id, found.face_model_version)
    return found


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


def _user(session: Session, collection_id: str, user_id: str) -> None:
    """``NotFound`` unless the collection has the user."""
    _collection(session, collection_id)
    if collections.user(session, collection_id=collection_id, user_id=user_id) is None:
        raise NotFound(f"User {user_id} does not exist in collection {collection_id}")


def _user_embeddings(session: Session, collection_id: str, user_id: str) -> list[np.ndarray]:
    return collections.user_embeddings(session, collection_id=collection_id, user_ids=[user_id]).get(user_id, [])


def _faces(session: Session, collection_id: str, face_ids: Sequence[str]) -> dict[str, collections.FaceVector]:
    return {f.face_id: f for f in collections.with_vectors(session, collection_id=collection_id,
                                                                face_ids=face_ids)}


# --- the face index ----------------------------------------------------------------------------------------------


def _faces_space(collection_id: str) -> str:
    return f"faces/{collection_id}"


def _users_space(collection_id: str) -> str:
    return f"users/{collection_id}"


def _index(catalog: Catalog) -> face_index.FaceIndex:
    return face_spaces.index_of(catalog)


def _index_user(catalog: Catalog, session: Session, collection_id: str, user_id: str) -> int:
    """Put the user's template (the mean of its faces' unit vectors) in the index, or take it out if it has none;
    the user's face count."""
    embeddings = _user_embeddings(session, collection_id, user_id)
    if embeddings:
        template = scoring.index_vectors(embeddings).mean(axis=0, keepdims=True)
        _index(catalog).add(session, _users_space(collection_id), [user_id], template)
    else:
        _index(catalog).remove(session, _users_space(collection_id), [user_id])
    return len(embeddings)


class CollectionSpaces:
    """The catalog's vectors of a space (``face_index.Source``): a collection's faces, or its users' templates."""

    def count(self, session: Session, space: str) -> int:
        kind, collection_id = space.split("/", 1)
        if kind == "users":
            return collections.user_with_faces_count(session, collection_id=collection_id)
        return collections.face_count(session, collection_id=collection_id)

    def load(self, session: Session, space: str) -> Iterator[tuple[list[str], np.ndarray]]:
        kind, collection_id = space.split("/", 1)
        if kind == "users":
            grouped = collections.user_embeddings(session, collection_id=collection_id, user_ids=None)
            users = sorted(grouped)
            for i in range(0, len(users), face_index.BATCH):
                batch = users[i : i + face_index.BATCH]
                yield batch, np.stack([scoring.index_vectors(grouped[u]).mean(axis=0) for u in batch])
            return
        for ids, embeddings in collections.face_batches(session, collection_id=collection_id, batch=face_index.BATCH):
            yield ids, scoring.index_vectors(embeddings)


COLLECTION_SPACES = CollectionSpaces()
