"""The catalog's face index (``photosift.catalog.face_index``) and what each of its spaces holds: albums' faces
(``album_index``) and Rekognition collections' faces and users (``rekognition``)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from photosift.application import album_index
from photosift.application.album_index import AlbumFaces
from photosift.application.grouping import Nearest
from photosift.catalog import face_index
from photosift.catalog.db import Catalog, Session


class Spaces:
    """Every space's vectors, read from the catalog (``face_index.Source``)."""

    def __init__(self) -> None:
        self.albums = AlbumFaces()

    def count(self, session: Session, space: str) -> int:
        return self._source(space).count(session, space)

    def load(self, session: Session, space: str) -> Iterator[tuple[list[str], np.ndarray]]:
        return self._source(space).load(session, space)

    def _source(self, space: str) -> face_index.Vectors:
        if AlbumFaces.owns(space):
            return self.albums
        from photosift.application.rekognition import COLLECTION_SPACES  # it indexes through this module

        return COLLECTION_SPACES


SPACES = Spaces()


def index_of(catalog: Catalog) -> face_index.FaceIndex:
    """The process's face index of ``catalog``."""
    return face_index.for_catalog(catalog, SPACES)


def album_nearest(catalog: Catalog, session: Session, album_id: str) -> Nearest:
    """The album's faces nearest an embedding, from ``catalog``'s face index (``grouping.Nearest``)."""
    return album_index.nearest(index_of(catalog), session, album_id)


__all__ = ["SPACES", "Spaces", "album_nearest", "index_of"]
