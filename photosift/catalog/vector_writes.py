"""Writing vectors of a new recogniser over an album's old ones (re-embedding): faces, references, rejections."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, select, update

from photosift.catalog import models
from photosift.catalog.db import Session

Embedded = type[models.Face] | type[models.Reference] | type[models.Rejection]


def replace_old(session: Session, model: Embedded, *, album_id: str, vectors: dict[str, bytes],
                recognizer: str) -> int:
    """Store ``vectors`` (row id -> stored bytes) of ``recognizer`` on the album's rows of ``model`` still of another
    recogniser (rows deleted or replaced meanwhile are left out); returns how many were written."""
    still_old = set(session.scalars(select(model.id).where(model.album_id == album_id,
                                                           model.recognizer != recognizer)))
    written = {row_id: blob for row_id, blob in vectors.items() if row_id in still_old}
    write(session, model, written, recognizer)
    return len(written)


def write(session: Session, model: Embedded, vectors: dict[str, bytes], recognizer: str) -> None:
    """Set ``embedding`` (row id -> stored bytes) and ``recognizer`` of ``model``'s rows, in one statement."""
    if vectors:
        table = cast(Table, model.__table__)
        session.execute(update(table).where(table.c.id == bindparam("row_id"))
                        .values(embedding=bindparam("vector"), recognizer=recognizer),
                        [{"row_id": row_id, "vector": blob} for row_id, blob in vectors.items()])
