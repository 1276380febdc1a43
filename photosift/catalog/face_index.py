"""Nearest-neighbour index of face vectors, kept in the catalog and searched in memory; the same on SQLite and
PostgreSQL.

A *space* (one Rekognition collection's faces or its users' templates, one album's faces) holds ``(id, vector)``
pairs of one dimension; :meth:`FaceIndex.nearest` returns the ids whose vectors have the largest inner product with a
query, approximately. Callers re-score the candidates exactly.

- **In the catalog.** ``face_index_entries`` holds each id's vector (float16) and the version that wrote it (an id
  removed keeps a row without vector), ``face_index_spaces`` a stamp per space: a generation (new when the space is
  created or refilled) and a version, incremented by every transaction that writes the space. Writers of one space
  queue on its stamp row, so versions commit in order.
- **In memory.** Each process keeps a copy of the spaces it searches. Before each search it reads the rows numbered
  after its copy's version, up to the stamp the caller's transaction sees: whichever process or server wrote them,
  a search answers from what its transaction sees.
- **Searched** exactly while a space is small; past :data:`CODED_FROM` vectors, over product-quantisation codes
  (faiss fast-scan: 4 bits for every 4 dimensions, 65 bytes a face) scanned in full, the best :func:`reranked`
  ranked again on the vectors (:class:`Copy`). Graphs (HNSW: usearch, pgvector) were measured and left: at a million
  faces shaped like real ones a query's ten best at AWS's threshold are often strangers near no neighbourhood a
  graph walks to (``benchmarks/search.py``, README).

The catalog's faces stay the source of truth: a space whose entries hold another count of vectors than its
:class:`Vectors` (a catalog of an earlier release, rows lost) is refilled from them.
"""

from __future__ import annotations

import logging
import threading
import uuid
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from sqlalchemy import Column, Index, Integer, LargeBinary, String, Table, bindparam, delete, event, func, select, text
from sqlalchemy.orm import Session

from photosift.catalog.base import Base
from photosift.catalog.db import Catalog

log = logging.getLogger(__name__)

CODED_FROM = 20_000
"""Vectors from which a space is searched over codes instead of exactly: an exact search of 20,000 vectors of 514
dimensions takes about 3 ms, a coded one 0.5 ms (of a million, 5); below this, albums get exact answers."""
RECODE_GROWTH = 4
"""A space's codebooks are trained anew from its vectors once it holds this many times the vectors they were trained
on (or once half its slots are of removed ids)."""
TRAINING_MOST = 65_536  # vectors the codebooks are trained on
BATCH = 10_000  # vectors per batch while loading or refilling

spaces_table = Table(
    "face_index_spaces", Base.metadata,
    Column("space", String(300), primary_key=True),
    Column("generation", String(32), nullable=False),  # new for each life of the space (created, refilled)
    Column("version", Integer, nullable=False),  # +1 per committed change
    Column("dim", Integer),  # the space's vectors' dimension (others are left out: another recogniser's)
)
entries_table = Table(
    "face_index_entries", Base.metadata,
    Column("space", String(300), primary_key=True),
    Column("item", String(300), primary_key=True),
    Column("version", Integer, nullable=False),  # the space's version that wrote this row
    Column("vector", LargeBinary),  # float16; NULL: removed
    Index("ix_face_index_entries_version", "space", "version"),
)


def reranked(k: int) -> int:
    """How many coded neighbours are re-ranked for ``k`` answers (``benchmarks/search.py``: at a million faces, 1,000
    for 64 answers found 0.992 of the exact ten best at 80, 3,000 0.997)."""
    return max(32 * k, 2048)


class Vectors(Protocol):
    """What a space holds, read from the catalog's faces in ``session``."""

    def count(self, session: Session, space: str) -> int:
        """How many vectors the space holds."""

    def load(self, session: Session, space: str) -> Iterator[tuple[list[str], np.ndarray]]:
        """The space's ``(ids, vectors (n, d) float32)`` in batches."""


class FaceIndex(ABC):
    """Ids of the vectors nearest a query, per space; writes take the catalog's write session."""

    @abstractmethod
    def add(self, session: Session, space: str, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add (or replace) ``vectors`` (n, d) under ``ids``."""

    @abstractmethod
    def remove(self, session: Session, space: str, ids: Sequence[str]) -> None:
        """Remove ``ids`` (absent ones are ignored)."""

    @abstractmethod
    def drop(self, session: Session, space: str) -> None:
        """Remove the whole space."""

    @abstractmethod
    def nearest(self, session: Session, space: str, query: np.ndarray, k: int) -> list[str] | None:
        """Up to ``k`` ids by decreasing inner product with ``query`` (approximate; every id, unordered, when ``k``
        reaches their count); ``[]`` for a query of another dimension than the space's; ``None`` when this index
        cannot answer (the caller scans every vector)."""


def for_catalog(catalog: Catalog, source: Vectors) -> FaceIndex:
    """The process's index of ``catalog`` (made at first call, with ``source`` to refill from)."""
    with _LOCK:
        index = _INDEXES.get(catalog)
        if index is None:
            index = _INDEXES[catalog] = CatalogIndex(catalog, source)
        return index


_LOCK = threading.Lock()
_INDEXES: weakref.WeakKeyDictionary[Catalog, FaceIndex] = weakref.WeakKeyDictionary()


class ExactScan(FaceIndex):
    """No index: callers scan every vector (the path before the index; benchmarks measure against it)."""

    def add(self, session: Session, space: str, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Nothing to keep."""

    def remove(self, session: Session, space: str, ids: Sequence[str]) -> None:
        """Nothing to keep."""

    def drop(self, session: Session, space: str) -> None:
        """Nothing to keep."""

    def nearest(self, session: Session, space: str, query: np.ndarray, k: int) -> None:
        return None


Stamp = tuple[str, int]  # (generation, version) of a space
UNFILLED: Stamp = ("", 0)  # a space without stamp: nothing written to it since the catalog had the index


class CatalogIndex(FaceIndex):
    """Spaces kept in the catalog's tables, searched in copies kept in memory (:class:`Copy`)."""

    def __init__(self, catalog: Catalog, source: Vectors) -> None:
        self._catalog_ref = weakref.ref(catalog)  # the catalog holds this index (for_catalog): no cycle
        self.source = source
        self._copies: dict[str, Copy] = {}
        self._refilling: set[str] = set()  # spaces to refill once the session that found them out ends
        self._lock = threading.RLock()  # one copy is changed or searched at a time

    # writes: rows numbered with the space's next version, in the caller's transaction

    def add(self, session: Session, space: str, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if not len(ids):
            return
        version, dim = self._next_version(session, space, vectors.shape[1])
        if vectors.shape[1] != dim:
            return  # another recogniser's vectors are never compared
        _write_entries(session, space, version, ids, vectors)

    def remove(self, session: Session, space: str, ids: Sequence[str]) -> None:
        if not ids:
            return
        version, _ = self._next_version(session, space, None)
        _write_entries(session, space, version, ids, None)

    def drop(self, session: Session, space: str) -> None:
        session.execute(delete(spaces_table).where(spaces_table.c.space == space))
        session.execute(delete(entries_table).where(entries_table.c.space == space))
        event.listen(session, "after_commit", lambda _s: self._forget(space), once=True)

    def _next_version(self, session: Session, space: str, dim: int | None) -> tuple[int, int | None]:
        """The space's stamp moved on by one in ``session`` (created when missing): its new version and dimension."""
        session.execute(_CREATE_STAMP, {"space": space, "generation": uuid.uuid4().hex, "dim": dim})
        version, have_dim = session.execute(_BUMP_STAMP, {"space": space}).one()
        if have_dim is None and dim is not None:
            session.execute(spaces_table.update().where(spaces_table.c.space == space).values(dim=dim))
            have_dim = dim
        written = session.info.setdefault("face_index_written", set())
        if space not in written:  # a copy may have read this transaction's rows: forgotten if they never commit
            written.add(space)
            event.listen(session, "after_rollback", lambda _s: self._forget(space), once=True)
        return version, have_dim

    def _forget(self, space: str) -> None:
        with self._lock:
            self._copies.pop(space, None)

    # searches: the copy brought to the caller's stamp, then searched

    def nearest(self, session: Session, space: str, query: np.ndarray, k: int) -> list[str] | None:
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        stamp = _stamp_row(session, space) or UNFILLED
        with self._lock:
            copy = self._copies.get(space)
            if copy is None or copy.stamp[0] != stamp[0]:
                copy = self._copies[space] = self._open(session, space, stamp)
            elif copy.stamp[1] < stamp[1]:
                self._catch_up(session, space, copy, stamp)
            if copy.dim is None or query.shape[0] != copy.dim:
                return []
            return copy.nearest(query, k)

    def _open(self, session: Session, space: str, stamp: Stamp) -> Copy:
        """The space's copy from its entries; from the catalog's faces when the entries do not hold them all (a
        catalog of an earlier release, entries lost), and then the entries are refilled."""
        count = self.source.count(session, space)
        if stamp != UNFILLED:
            copy = self._load(session, space, stamp)
            if copy.live == count:
                return copy
        copy = Copy(stamp)
        for ids, vectors in self.source.load(session, space):
            copy.put(ids, vectors)
        if count or stamp != UNFILLED:
            self._refill_after(session, space)
        return copy

    def _load(self, session: Session, space: str, stamp: Stamp) -> Copy:
        copy = Copy(stamp)
        rows = session.execute(select(entries_table.c.item, entries_table.c.vector)
                               .where(entries_table.c.space == space, entries_table.c.vector.is_not(None),
                                      entries_table.c.version <= stamp[1]),
                               execution_options={"yield_per": BATCH})
        for part in rows.partitions():
            copy.put([r[0] for r in part], _decode([r[1] for r in part]))
        return copy

    def _catch_up(self, session: Session, space: str, copy: Copy, stamp: Stamp) -> None:
        rows = session.execute(select(entries_table.c.item, entries_table.c.vector)
                               .where(entries_table.c.space == space, entries_table.c.version > copy.stamp[1],
                                      entries_table.c.version <= stamp[1])).all()
        gone = [item for item, vector in rows if vector is None]
        kept = [(item, vector) for item, vector in rows if vector is not None]
        copy.remove(gone)
        if kept:
            copy.put([item for item, _ in kept], _decode([vector for _, vector in kept]))
        copy.stamp = stamp

    # refilling a space's entries from the catalog's faces

    def _refill_after(self, session: Session, space: str) -> None:
        """The space's entries refilled once ``session`` ends (in a write transaction of their own, which the
        caller's must not wait for)."""
        if space in self._refilling:
            return
        self._refilling.add(space)
        log.info("face index %s does not match the catalog: refilling it", space)

        def ended(_session: Session, transaction: Any) -> None:
            if transaction.parent is None and space in self._refilling:  # the session's outermost transaction
                self.refill(space)

        event.listen(session, "after_transaction_end", ended)

    def refill(self, space: str) -> None:
        """Write the space's entries anew from the catalog's faces, under a new generation (one transaction)."""
        catalog = self._catalog_ref()
        if catalog is None:
            return
        try:
            with catalog.session() as session:
                self._next_version(session, space, None)  # writers of the space wait for this transaction
                if self._entries(session, space) == self.source.count(session, space):
                    return  # refilled meanwhile (by another process)
                session.execute(delete(entries_table).where(entries_table.c.space == space))
                dim = None
                for ids, vectors in self.source.load(session, space):
                    dim = dim or vectors.shape[1]
                    if vectors.shape[1] == dim:
                        _write_entries(session, space, 1, ids, vectors)
                session.execute(spaces_table.update().where(spaces_table.c.space == space)
                                .values(generation=uuid.uuid4().hex, version=1, dim=dim))
        except Exception:  # noqa: BLE001 - logged; the space's next search reads the faces again and retries
            log.exception("face index %s: refilling it failed", space)
        finally:
            self._refilling.discard(space)
            self._forget(space)

    @staticmethod
    def _entries(session: Session, space: str) -> int:
        return session.scalar(select(func.count()).select_from(entries_table)
                              .where(entries_table.c.space == space, entries_table.c.vector.is_not(None))) or 0


_CREATE_STAMP = text("INSERT INTO face_index_spaces (space, generation, version, dim) "
                     "VALUES (:space, :generation, 0, :dim) ON CONFLICT (space) DO NOTHING")
_BUMP_STAMP = text("UPDATE face_index_spaces SET version = version + 1 WHERE space = :space RETURNING version, dim")
_UPSERT = text("INSERT INTO face_index_entries (space, item, version, vector) VALUES (:space, :item, :version, "
               ":vector) ON CONFLICT (space, item) DO UPDATE SET version = excluded.version, vector = excluded.vector"
               ).bindparams(bindparam("vector", type_=LargeBinary))


def _write_entries(session: Session, space: str, version: int, ids: Sequence[str], vectors: np.ndarray | None) -> None:
    """Rows of ``ids`` at ``version``: their vectors in float16, or (``None``) removed."""
    blobs = [None] * len(ids) if vectors is None else [v.astype("<f2").tobytes() for v in vectors]
    session.execute(_UPSERT, [{"space": space, "item": i, "version": version, "vector": b}
                              for i, b in zip(ids, blobs, strict=True)])


def _stamp_row(session: Session, space: str) -> tuple[str, int] | None:
    row = session.execute(select(spaces_table.c.generation, spaces_table.c.version)
                          .where(spaces_table.c.space == space)).first()
    return (row[0], row[1]) if row else None


def _decode(blobs: Sequence[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(blobs), dtype="<f2").reshape(len(blobs), -1).astype(np.float32)


@dataclass
class Copy:
    """One space in memory: its vectors by slot, the id of each slot and whether it is live (a replaced or removed
    id's slot is not). Past :data:`CODED_FROM` vectors, their product-quantisation codes (faiss) and the vectors in
    int8 with a scale per row (``vector ~ row / scale``: a quarter of the memory, and re-ranked ten times faster than
    float16)."""

    stamp: Stamp
    dim: int | None = None
    ids: list[str] = field(default_factory=list)
    slots: dict[str, int] = field(default_factory=dict)  # live ids' slots
    rows: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))  # float32, or int8 once coded
    scales: np.ndarray | None = None  # once coded: each row's scale
    alive: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    codes: Any = None  # faiss.IndexPQFastScan over slots 0 .. len(ids) - 1
    trained_on: int = 0

    @property
    def live(self) -> int:
        return len(self.slots)

    def put(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        if self.dim is None:
            self.dim, self.rows = vectors.shape[1], np.zeros((0, vectors.shape[1]), np.float32)
        if vectors.shape[1] != self.dim:
            return
        self.remove(ids)
        start, end = len(self.ids), len(self.ids) + len(ids)
        if end > len(self.rows):
            size = max(len(self.rows) * 3 // 2, end, 64)
            self.rows, self.alive = _grown(self.rows, start, size), _grown(self.alive, start, size)
            self.scales = None if self.scales is None else _grown(self.scales, start, size)
        if self.scales is None:
            self.rows[start:end] = vectors
        else:
            self.rows[start:end], self.scales[start:end] = _quantised(vectors)
            self.codes.add(_padded(vectors, self.codes.d))
        self.alive[start:end] = True
        self.ids.extend(ids)
        self.slots.update(zip(ids, range(start, end), strict=True))
        if self.live >= CODED_FROM and (self.codes is None or self.live >= RECODE_GROWTH * self.trained_on):
            self._compact()

    def remove(self, ids: Sequence[str]) -> None:
        for item in ids:
            slot = self.slots.pop(item, None)
            if slot is not None:
                self.alive[slot] = False
        if len(self.ids) > 2 * self.live + 1024:
            self._compact()

    def _vectors(self, slots: np.ndarray) -> np.ndarray:
        rows: np.ndarray = self.rows[slots]
        return rows if self.scales is None else rows.astype(np.float32) / self.scales[slots, None]

    def _compact(self) -> None:
        """Keep the live slots only, and past :data:`CODED_FROM` train the codebooks anew on their vectors."""
        kept = np.flatnonzero(self.alive[: len(self.ids)])
        vectors = self._vectors(kept)
        self.ids = [self.ids[s] for s in kept.tolist()]
        self.slots = {item: s for s, item in enumerate(self.ids)}
        self.alive = np.ones(len(kept), bool)
        self.rows, self.scales, self.codes, self.trained_on = vectors, None, None, 0
        if len(kept) < CODED_FROM:
            return
        import faiss

        faiss.omp_set_num_threads(1)  # a search is one query; processes, not threads, use the cores
        width = -(-vectors.shape[1] // 8) * 8  # fast-scan codes: an even number of sub-quantisers of 4 dimensions
        codes = faiss.IndexPQFastScan(width, width // 4, 4, faiss.METRIC_INNER_PRODUCT)
        sample = np.sort(np.random.default_rng(0).permutation(len(vectors))[:TRAINING_MOST])
        codes.train(_padded(vectors[sample], width))
        codes.add(_padded(vectors, width))
        self.rows, self.scales = _quantised(vectors)
        self.codes, self.trained_on = codes, len(vectors)

    def nearest(self, query: np.ndarray, k: int) -> list[str]:
        if k >= self.live:
            return list(self.slots)  # all of them: the caller scores every one
        if self.codes is None or reranked(k) >= len(self.ids):  # every vector
            slots = np.arange(len(self.ids))
            keys = self.rows[: len(self.ids)].astype(np.float32, copy=False) @ query
        else:
            _, found = self.codes.search(_padded(query[None], self.codes.d), reranked(k))
            slots = np.sort(found[0][found[0] >= 0])
            keys = self.rows[slots].astype(np.float32) @ query
        if self.scales is not None:
            keys /= self.scales[slots]
        keys[~self.alive[slots]] = -np.inf
        best = np.argpartition(-keys, k)[:k] if len(keys) > k else np.arange(len(keys))
        best = best[np.argsort(-keys[best], kind="stable")]
        return [self.ids[s] for s in slots[best].tolist() if self.alive[s]]


def _grown(array: np.ndarray, used: int, size: int) -> np.ndarray:
    """``array``'s first ``used`` rows in a zeroed array of ``size`` rows."""
    out = np.zeros((size, *array.shape[1:]), array.dtype)
    out[:used] = array[:used]
    return out


def _quantised(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``vectors`` in int8 and each row's scale (``vector ~ row / scale``)."""
    scales = (127.0 / np.maximum(np.abs(vectors).max(axis=1), 1e-12)).astype(np.float32)
    return np.round(vectors * scales[:, None]).astype(np.int8), scales


def _padded(vectors: np.ndarray, width: int) -> np.ndarray:
    out = np.zeros((len(vectors), width), np.float32)
    out[:, : vectors.shape[1]] = vectors
    return out
