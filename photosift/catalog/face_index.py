"""Nearest-neighbour index of face vectors beside the catalog: one interface, a backend chosen by the database.

A *space* (one Rekognition collection's faces, or its users' templates) holds ``(id, vector)`` pairs of one
dimension; :meth:`FaceIndex.nearest` returns the ids whose vectors have the largest inner product with a query
(for unit vectors: the cosine), approximately. Callers re-score the candidates exactly. The catalog stays the source
of truth: a :class:`Source` lists a space's vectors, and every index can be rebuilt from it.

- SQLite: an HNSW graph per space (usearch) in memory, saved to files in a folder beside the catalog
  (``<catalog file>.face-index/``) a few seconds after it changes. A stamp row per space in the catalog
  (``face_index_spaces``: a generation and a version, bumped in the writing transaction) tells whether the graph is
  current; writes reach the graph after they commit. A graph that is missing, older than its stamp, changed by
  another process, or (at first use in a process) holding another count of vectors than the catalog is rebuilt.
- PostgreSQL with pgvector: one table per space with a ``vector(n)`` column and an HNSW index (``vector_ip_ops``),
  written in the catalog's transaction, so every server shares it.
- PostgreSQL without pgvector: no index (:meth:`FaceIndex.nearest` returns ``None``: scan every vector), with one
  logged warning.

HNSW parameters were chosen with ``benchmarks/search.py`` (recall@10 of the final answer against the exact scan).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import threading
import uuid
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
from sqlalchemy import Column, Integer, String, Table, delete, event, select, text
from sqlalchemy.orm import Session

from photosift.catalog.base import Base
from photosift.catalog.db import Catalog

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Hnsw:
    """Parameters of an HNSW graph."""

    m: int  # graph degree (usearch: connectivity)
    ef_construction: int  # candidates kept while inserting
    ef_search: int  # candidates kept while searching (at least the number asked for)


LARGE = Hnsw(m=32, ef_construction=200, ef_search=256)
"""SQLite's graphs of spaces that grow to millions (a Rekognition collection). At 200,000 faces shaped like real
ones M 32 / 200 found 0.980 of the ten best at 80 at ef_search 256 where ``SMALL``'s graph found 0.951
(``benchmarks/search.py``: 0.990 at 100,000 faces); ef_search 512 finds more (0.997 at 100,000) for 2 ms more a
search, which would take SearchFaces at 100,000 faces past twice its time at 100."""
SMALL = Hnsw(m=16, ef_construction=128, ef_search=512)
"""SQLite's graphs of spaces of up to some tens of thousands of vectors (an album): recall@10 1.0 at 20,000 faces,
and half the cost of ``LARGE`` to insert and search (``benchmarks/album_writes.py``)."""
PGVECTOR = Hnsw(m=16, ef_construction=128, ef_search=512)
"""PostgreSQL's graphs: pgvector 0.6 builds on two cores several times slower than usearch, so a smaller graph."""
PG_BUILD_MEMORY_MAX_MIB = 8192  # bound on maintenance_work_mem while pgvector builds a graph anew
PG_EF_SEARCH_MAX = 1000  # pgvector's bound on hnsw.ef_search: more results than this are left to the scan
SAVE_DELAY_S = 5.0  # a changed graph is written to its files this long after the first unsaved change
BATCH = 10_000  # vectors per batch while rebuilding

spaces_table = Table(
    "face_index_spaces", Base.metadata,
    Column("space", String(300), primary_key=True),
    Column("generation", String(32), nullable=False),  # new for each life of the space (created, dropped, created)
    Column("version", Integer, nullable=False),  # +1 per committed change
)


class Vectors(Protocol):
    """What a space holds, read from the catalog in ``session``."""

    def count(self, session: Session, space: str) -> int:
        """How many vectors the space holds."""

    def load(self, session: Session, space: str) -> Iterator[tuple[list[str], np.ndarray]]:
        """The space's ``(ids, vectors (n, d) float32)`` in batches."""


class Source(Vectors, Protocol):
    """The vectors of every space, and how each space's graph is built."""

    def hnsw(self, space: str) -> Hnsw:
        """The parameters of the space's graph (SQLite): ``LARGE`` or ``SMALL``."""


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
        cannot answer (no index, or ``k`` beyond it)."""

    def flush(self) -> None:  # noqa: B027 - only indexes kept in memory have something to write
        """Write whatever is kept in memory only (nothing for in-database indexes)."""


def for_catalog(catalog: Catalog, source: Source) -> FaceIndex:
    """The process's index of ``catalog`` (made at first call, with ``source`` to rebuild from)."""
    with _LOCK:
        index = _INDEXES.get(catalog)
        if index is None:
            index = _INDEXES[catalog] = _make(catalog, source)
        return index


def _make(catalog: Catalog, source: Source) -> FaceIndex:
    if catalog.is_sqlite:
        path = catalog.url[len("sqlite:///"):] if catalog.url.startswith("sqlite:///") else ""
        folder = Path(f"{path}.face-index") if path and ":memory:" not in path else None
        return HnswFiles(source, folder)
    if PgVector.available(catalog):
        return PgVector(catalog, source)
    log.warning("PostgreSQL has no pgvector extension (CREATE EXTENSION vector): Rekognition searches scan every "
                "face of a collection")
    return ExactScan()


_LOCK = threading.Lock()
_INDEXES: weakref.WeakKeyDictionary[Catalog, FaceIndex] = weakref.WeakKeyDictionary()


@atexit.register
def _flush_all() -> None:
    for index in list(_INDEXES.values()):
        index.flush()


def _stamp_row(session: Session, space: str) -> tuple[str, int] | None:
    row = session.execute(select(spaces_table.c.generation, spaces_table.c.version)
                          .where(spaces_table.c.space == space)).first()
    return (row[0], row[1]) if row else None


# --- no index ---------------------------------------------------------------------------------------------------


class ExactScan(FaceIndex):
    """No index: callers scan every vector."""

    def add(self, session: Session, space: str, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Nothing to keep."""

    def remove(self, session: Session, space: str, ids: Sequence[str]) -> None:
        """Nothing to keep."""

    def drop(self, session: Session, space: str) -> None:
        """Nothing to keep."""

    def nearest(self, session: Session, space: str, query: np.ndarray, k: int) -> None:
        return None


# --- SQLite: usearch graphs in files ----------------------------------------------------------------------------

Stamp = tuple[str, int] | None  # (generation, version) of a space's row; None: no row


@dataclass
class _Graph:
    """One space's HNSW graph, the ids of its keys, and the stamp it reflects."""

    stamp: Stamp
    params: Hnsw
    dim: int | None = None
    index: Any = None  # usearch.index.Index once it has a dimension (usearch has no type hints)
    ids: dict[int, str] = field(default_factory=dict)
    pending: dict[Stamp, tuple[int, Callable[[_Graph], None]]] = field(default_factory=dict)
    save_timer: threading.Timer | None = None

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if not len(ids):
            return
        if self.index is None:
            self.dim, self.index = vectors.shape[1], _new_usearch(vectors.shape[1], self.params)
        if vectors.shape[1] != self.dim:
            return  # another recogniser's vectors are never compared
        keys = np.array([_key(i) for i in ids], dtype=np.uint64)
        present = keys[self.index.contains(keys)]
        if len(present):
            self.index.remove(present)
        self.index.add(keys, vectors, threads=1)  # usearch 2.26's parallel insertion loses neighbours
        self.ids.update(zip(keys.tolist(), ids, strict=True))

    def remove(self, ids: Sequence[str]) -> None:
        keys = [k for k in map(_key, ids) if self.ids.pop(k, None) is not None]
        if keys and self.index is not None:
            self.index.remove(np.array(keys, dtype=np.uint64))


def _new_usearch(dim: int, params: Hnsw) -> Any:  # a usearch.index.Index
    from usearch.index import Index, MetricKind

    return Index(ndim=dim, metric=MetricKind.IP, dtype="f16", connectivity=params.m,
                 expansion_add=params.ef_construction, expansion_search=params.ef_search)


def _key(item_id: str) -> int:
    """The graph's 63-bit key of an id."""
    return int.from_bytes(hashlib.blake2b(item_id.encode(), digest_size=8).digest(), "little") >> 1


class HnswFiles(FaceIndex):
    """HNSW graphs (usearch) in memory and in ``folder`` (``None``: memory only), checked against stamp rows."""

    def __init__(self, source: Source, folder: Path | None) -> None:
        self.source, self.folder = source, folder
        self._graphs: dict[str, _Graph] = {}
        self._ours: set[tuple[str, str, int]] = set()  # (space, generation, version) of our own uncommitted writes
        self._lock = threading.RLock()  # one graph is changed or searched at a time (usearch is not re-entrant)

    # writes: bump the stamp in the catalog's transaction, change the graph once the transaction commits

    def add(self, session: Session, space: str, ids: Sequence[str], vectors: np.ndarray) -> None:
        ids, vectors = list(ids), np.asarray(vectors, dtype=np.float32)
        self._write(session, space, lambda graph: graph.add(ids, vectors))

    def remove(self, session: Session, space: str, ids: Sequence[str]) -> None:
        ids = list(ids)
        self._write(session, space, lambda graph: graph.remove(ids))

    def drop(self, session: Session, space: str) -> None:
        session.execute(delete(spaces_table).where(spaces_table.c.space == space))
        self._on_end(session, lambda: self._forget(space))

    def _write(self, session: Session, space: str, change: Callable[[_Graph], None]) -> None:
        old = _stamp_row(session, space)
        if old is None:
            new = (uuid.uuid4().hex, 1)
            session.execute(spaces_table.insert().values(space=space, generation=new[0], version=new[1]))
        else:
            new = (old[0], old[1] + 1)
            session.execute(spaces_table.update().where(spaces_table.c.space == space).values(version=new[1]))
        mine = (space, *new)
        with self._lock:
            self._ours.add(mine)
        self._on_end(session, lambda: self._apply(space, old, new, change), lambda: self._ours.discard(mine))

    @staticmethod
    def _on_end(session: Session, committed: Callable[[], None], always: Callable[[], None] | None = None) -> None:
        """Run ``committed`` once ``session`` commits, then ``always`` (also after a rollback)."""
        event.listen(session, "after_commit", lambda _s: committed(), once=True)
        if always is not None:
            event.listen(session, "after_commit", lambda _s: always(), once=True)
            event.listen(session, "after_rollback", lambda _s: always(), once=True)

    def _apply(self, space: str, old: Stamp, new: tuple[str, int], change: Callable[[_Graph], None]) -> None:
        """Apply committed changes in stamp order (threads may commit in one order and get here in another)."""
        with self._lock:
            graph = self._graphs.get(space)
            if graph is None or _included(graph.stamp, new):
                return  # not loaded (read from the catalog when first searched), or rebuilt with it already
            graph.pending[old] = (new[1], change)
            while graph.stamp in graph.pending:
                version, step = graph.pending.pop(graph.stamp)
                step(graph)
                graph.stamp = (new[0], version)
            self._schedule_save(space, graph)

    def _forget(self, space: str) -> None:
        with self._lock:
            graph = self._graphs.pop(space, None)
            if graph is not None and graph.save_timer is not None:
                graph.save_timer.cancel()
            if self.folder is not None:
                for path in self.folder.glob(f"{_file_stem(space)}.*"):
                    path.unlink(missing_ok=True)

    # searches

    def nearest(self, session: Session, space: str, query: np.ndarray, k: int) -> list[str]:
        stamp = _stamp_row(session, space)
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        with self._lock:
            graph = self._graphs.get(space)
            if graph is None:
                graph = self._graphs[space] = self._open(session, space, stamp)
            elif not self._current(space, graph.stamp, stamp):
                log.info("face index %s is stale: rebuilding it from the catalog", space)
                graph = self._graphs[space] = self._rebuild(session, space, stamp)
            if graph.index is None or query.shape[0] != graph.dim:
                return []
            if k >= len(graph.ids):
                return list(graph.ids.values())  # all of them: the caller scores every one
            graph.index.expansion_search = max(self.source.hnsw(space).ef_search, k)
            found = graph.index.search(query, count=k)
            return [graph.ids[key] for key in found.keys.tolist() if key in graph.ids]

    def _current(self, space: str, have: Stamp, catalog: Stamp) -> bool:
        """Whether a graph at ``have`` answers for the catalog at ``catalog``: equal, ahead of this reader's
        snapshot, or behind it only by this process's own writes, which it is about to apply."""
        if have == catalog:
            return True
        if have is None or catalog is None or have[0] != catalog[0]:
            return False
        return have[1] > catalog[1] or all((space, have[0], v) in self._ours for v in range(have[1] + 1,
                                                                                              catalog[1] + 1))

    def _open(self, session: Session, space: str, stamp: Stamp) -> _Graph:
        """The graph from its files when they match the stamp and the catalog's count, else rebuilt."""
        graph = self._load(space, stamp)
        if graph is not None and len(graph.ids) == self.source.count(session, space):
            return graph
        return self._rebuild(session, space, stamp)

    def _rebuild(self, session: Session, space: str, stamp: Stamp) -> _Graph:
        graph = _Graph(stamp, self.source.hnsw(space))
        for ids, vectors in self.source.load(session, space):
            graph.add(ids, vectors)
        self._schedule_save(space, graph)
        return graph

    # files: <stem>.json names the graph and id files of one stamp, written before it

    def _schedule_save(self, space: str, graph: _Graph) -> None:
        if self.folder is None or graph.save_timer is not None:
            return
        graph.save_timer = threading.Timer(SAVE_DELAY_S, self._save, args=(space,))
        graph.save_timer.daemon = True
        graph.save_timer.start()

    def flush(self) -> None:
        """Write every graph with unsaved changes now."""
        with self._lock:
            for space, graph in list(self._graphs.items()):
                if graph.save_timer is not None:
                    graph.save_timer.cancel()
                    self._save(space)

    def _save(self, space: str) -> None:
        try:
            self._write_files(space)
        except OSError as exc:  # e.g. the folder removed meanwhile: the graph is rebuilt from the catalog when needed
            log.warning("face index %s: could not save its files (%s)", space, exc)

    def _write_files(self, space: str) -> None:
        with self._lock:
            graph = self._graphs.get(space)
            if graph is None or self.folder is None:
                return
            graph.save_timer = None
            self.folder.mkdir(parents=True, exist_ok=True)
            stem, tag = _file_stem(space), uuid.uuid4().hex[:12]
            names = {"graph": f"{stem}.{tag}.usearch", "ids": f"{stem}.{tag}.npz"}
            if graph.index is not None:
                graph.index.save(str(self.folder / names["graph"]))
            keys = np.fromiter(graph.ids.keys(), dtype=np.uint64, count=len(graph.ids))
            np.savez(self.folder / names["ids"], keys=keys, ids=np.array(list(graph.ids.values()), dtype=np.str_))
            meta = {"space": space, "stamp": graph.stamp, "dim": graph.dim, "count": len(graph.ids), **names}
            _write_atomically(self.folder / f"{stem}.json", json.dumps(meta))
            for path in self.folder.glob(f"{stem}.*.*"):
                if path.name not in names.values():
                    path.unlink(missing_ok=True)

    def _load(self, space: str, stamp: Stamp) -> _Graph | None:
        if self.folder is None:
            return None
        try:
            meta = json.loads((self.folder / f"{_file_stem(space)}.json").read_text())
            if meta["space"] != space or tuple(meta["stamp"] or ()) != tuple(stamp or ()):
                return None
            stored = np.load(self.folder / meta["ids"])
            ids = dict(zip(stored["keys"].tolist(), stored["ids"].tolist(), strict=True))
            graph = _Graph(stamp, self.source.hnsw(space), meta["dim"], ids=ids)
            if meta["dim"] is not None:
                graph.index = _new_usearch(meta["dim"], graph.params)
                graph.index.load(str(self.folder / meta["graph"]))
            return graph if len(graph.index or ()) == len(graph.ids) else None
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            log.info("face index %s: files unusable (%s); rebuilding from the catalog", space, exc)
            return None


def _included(have: Stamp, new: Stamp) -> bool:
    """Whether a graph at ``have`` already holds the change that made ``new``."""
    return have is not None and new is not None and have[0] == new[0] and have[1] >= new[1]


def _file_stem(space: str) -> str:
    return hashlib.sha1(space.encode()).hexdigest()[:20]


def _write_atomically(path: Path, content: str) -> None:
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(content)
    os.replace(tmp, path)


# --- PostgreSQL: pgvector ---------------------------------------------------------------------------------------


class PgVector(FaceIndex):
    """One table per space (``face_index_<hash>``: id, ``vector(n)``) with an HNSW index, in the catalog's
    transactions. At first use in a process, a space whose table holds another count than the catalog is rebuilt."""

    def __init__(self, catalog: Catalog, source: Source) -> None:
        self._catalog_ref = weakref.ref(catalog)  # the catalog holds this index (for_catalog): no cycle
        self.source = source
        self._checked: set[str] = set()
        self._lock = threading.Lock()

    def _catalog(self) -> Catalog:
        catalog = self._catalog_ref()
        assert catalog is not None, "the face index outlived its catalog"
        return catalog

    @staticmethod
    def available(catalog: Catalog) -> bool:
        """Whether the server has pgvector; creates the extension in the database when it can."""
        with catalog.engine.connect() as db:
            if not db.scalar(text("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")):
                return False
            try:
                db.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
                db.commit()
            except Exception as exc:  # noqa: BLE001 - e.g. no privilege: log it and scan
                log.warning("cannot create the pgvector extension: %s", exc)
                return False
        return True

    def add(self, session: Session, space: str, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if not len(ids):
            return
        found = self._table(session, space, create_dim=vectors.shape[1])
        assert found is not None  # created when missing
        table, dim = found
        rows = [{"id": i, "v": v} for i, v in zip(ids, vectors, strict=True) if len(v) == dim]
        if rows:
            _know_vectors(session)
            session.execute(text(f"INSERT INTO {table} (id, v) VALUES (:id, :v) "
                                 "ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v"), rows)

    def remove(self, session: Session, space: str, ids: Sequence[str]) -> None:
        found = self._table(session, space)
        if found is not None and ids:
            session.execute(text(f"DELETE FROM {found[0]} WHERE id = ANY(:ids)"), {"ids": list(ids)})

    def drop(self, session: Session, space: str) -> None:
        session.execute(text(f"DROP TABLE IF EXISTS {_pg_table(space)}"))

    def nearest(self, session: Session, space: str, query: np.ndarray, k: int) -> list[str] | None:
        if k > PG_EF_SEARCH_MAX:
            return None
        self._check(space)
        found = self._table(session, space)
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        if found is None or found[1] != len(query):
            return []
        _know_vectors(session)
        session.execute(text(f"SET LOCAL hnsw.ef_search = {min(max(PGVECTOR.ef_search, k), PG_EF_SEARCH_MAX)}"))
        return list(session.scalars(text(f"SELECT id FROM {found[0]} ORDER BY v <#> :q LIMIT :k"),
                                     {"q": query, "k": k}))

    def _table(self, session: Session, space: str, create_dim: int | None = None) -> tuple[str, int] | None:
        """The space's table and dimension; created for ``create_dim`` when missing and asked for."""
        table = _pg_table(space)
        dim = session.scalar(text("SELECT atttypmod FROM pg_attribute WHERE attrelid = to_regclass(:t) "
                                  "AND attname = 'v'"), {"t": table})
        if dim is None and create_dim is not None:
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:t))"), {"t": table})
            session.execute(text(f"CREATE TABLE IF NOT EXISTS {table} (id text PRIMARY KEY, v vector({create_dim}))"))
            _create_hnsw(session, table)
            dim = create_dim
        return None if dim is None else (table, int(dim))

    def _check(self, space: str) -> None:
        """Once per process and space: rebuild the table if it holds another count of vectors than the catalog
        (in sessions of its own: the rebuild replaces the table, which a caller's session must not hold)."""
        with self._lock:
            if space in self._checked:
                return
            with self._catalog().read() as session:
                found = self._table(session, space)
                have = session.scalar(text(f"SELECT count(*) FROM {found[0]}")) if found else 0
                want = self.source.count(session, space)
            if have != want:
                log.info("face index %s holds %s vectors for %s in the catalog: rebuilding it", space, have, want)
                self.rebuild(space)
            self._checked.add(space)

    def rebuild(self, space: str) -> None:
        """Fill the space's table anew from the catalog (one transaction: copy the vectors, then build the graph)."""
        table = _pg_table(space)
        with self._catalog().session() as session:
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:t))"), {"t": table})
            self.drop(session, space)
            driver = _know_vectors(session)
            cursor, count, dim = driver.cursor(), 0, 0
            for ids, vectors in self.source.load(session, space):
                if not count:
                    dim = vectors.shape[1]
                    session.execute(text(f"CREATE TABLE {table} (id text PRIMARY KEY, v vector({dim}))"))
                with cursor.copy(f"COPY {table} (id, v) FROM STDIN WITH (FORMAT BINARY)") as copy:
                    copy.set_types(["text", "vector"])
                    for item, vector in zip(ids, vectors, strict=True):
                        copy.write_row((item, vector))
                count += len(ids)
            if count:
                session.execute(text(f"SET LOCAL maintenance_work_mem = '{_build_memory_mib(count, dim)}MB'"))
                _create_hnsw(session, table)


def _build_memory_mib(count: int, dim: int) -> int:
    """maintenance_work_mem for building a graph of ``count`` vectors: enough to hold it (pgvector builds many times
    slower once the graph outgrows it), at most ``PG_BUILD_MEMORY_MAX_MIB``."""
    need = count * (4 * dim + 16 * PGVECTOR.m + 64) * 1.5 / 2**20
    return int(min(max(need, 64), PG_BUILD_MEMORY_MAX_MIB))


def _create_hnsw(session: Session, table: str) -> None:
    session.execute(text(f"CREATE INDEX IF NOT EXISTS {table}_hnsw ON {table} USING hnsw (v vector_ip_ops) "
                         f"WITH (m = {PGVECTOR.m}, ef_construction = {PGVECTOR.ef_construction})"))


def _pg_table(space: str) -> str:
    return f"face_index_{hashlib.sha1(space.encode()).hexdigest()[:20]}"


def _know_vectors(session: Session) -> Any:  # the session's psycopg connection
    """The session's psycopg connection, taught once to send numpy arrays as binary ``vector`` values."""
    from pgvector.psycopg import register_vector

    driver = cast(Any, session.connection().connection.driver_connection)  # a psycopg Connection
    if driver not in _TAUGHT:
        register_vector(driver)
        _TAUGHT.add(driver)
    return driver


_TAUGHT: weakref.WeakSet[Any] = weakref.WeakSet()
