"""An album's faces in the face index (``photosift.catalog.face_index``), so that the faces a new one is grouped
with (``grouping.regroup_faces``) come from a neighbour query instead of a read of the whole album.

One space per album (``album/<id>``) holds every face of the album whose vector the running recogniser made, as the
index holds vectors (``scoring.index_vectors``). It follows the catalog: faces are added when a photo's analysis
stores them and removed when their photo is deleted or analysed again; a re-embedded or deleted album drops its
space. A dropped space, or one the index missed a change of, is rebuilt from the catalog (:class:`AlbumFaces`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np

from photosift import faces as face_engine
from photosift.application import scoring
from photosift.application.grouping import Nearest
from photosift.catalog import face_index, faces
from photosift.catalog.db import Session
from photosift.catalog.face_index import FaceIndex
from photosift.catalog.models import bytes_to_vector


class IndexedFace(Protocol):
    """What the index reads of a stored face."""

    @property
    def id(self) -> str: ...
    @property
    def recognizer(self) -> str: ...
    @property
    def embedding(self) -> bytes: ...


PREFIX = "album/"


def space(album_id: str) -> str:
    return f"{PREFIX}{album_id}"


def add_faces(index: FaceIndex, session: Session, album_id: str, stored: Sequence[IndexedFace]) -> None:
    """Put faces ``stored`` (and flushed) of the album in its space; faces of another recogniser stay out."""
    current = [f for f in stored if f.recognizer == face_engine.EMBEDDER]
    if current:
        vectors = scoring.index_vectors([bytes_to_vector(f.embedding) for f in current])
        index.add(session, space(album_id), [f.id for f in current], vectors)


def remove_faces(index: FaceIndex, session: Session, album_id: str, face_ids: Sequence[str]) -> None:
    if face_ids:
        index.remove(session, space(album_id), list(face_ids))


def drop(index: FaceIndex, session: Session, album_id: str) -> None:
    index.drop(session, space(album_id))


def nearest(index: FaceIndex, session: Session, album_id: str) -> Nearest:
    """The album's ``grouping.Nearest``: ids of the faces whose vectors are nearest an embedding."""

    def query(embedding: np.ndarray, k: int) -> list[str] | None:
        return index.nearest(session, space(album_id), scoring.index_query(embedding), k)

    return query


class AlbumFaces:
    """The catalog's vectors of album spaces (``face_index.Source``)."""

    @staticmethod
    def owns(space_name: str) -> bool:
        return space_name.startswith(PREFIX)

    def count(self, session: Session, space_name: str) -> int:
        return faces.count_of_recognizer(session, album_id=_album_id(space_name), recognizer=face_engine.EMBEDDER)

    def load(self, session: Session, space_name: str) -> Iterator[tuple[list[str], np.ndarray]]:
        for ids, embeddings in faces.embeddings_of_recognizer(session, album_id=_album_id(space_name),
                                                             recognizer=face_engine.EMBEDDER, batch=face_index.BATCH):
            yield ids, scoring.index_vectors([bytes_to_vector(e) for e in embeddings])


def _album_id(space_name: str) -> str:
    return space_name[len(PREFIX):]


__all__ = ["AlbumFaces", "add_faces", "drop", "nearest", "remove_faces", "space"]
