"""Rekognition collection search at scale: the face index against the exact scan it replaces.

For each collection size and catalog (SQLite + usearch graph files; PostgreSQL 16 + pgvector from the ``pgserver``
wheel), faces are written straight into the catalog (as a catalog of an earlier release holds them: no index yet),
then ``search_faces`` runs in-process:

  * build: the first search, which builds the index from the catalog (usearch: read every vector, insert it; pgvector:
    COPY every vector, CREATE INDEX ... USING hnsw), and the index's size (usearch: its memory; pgvector: the HNSW
    index's pages);
  * index: p50/p95 of ``--queries`` searches (MaxFaces 10, AWS's default FaceMatchThreshold 80), each the index's
    nearest ``candidates(10)`` re-scored with the calibrated score;
  * exact: the same searches scoring every face (the code path before the index; a sample of ``--exact-queries``);
  * recall@10: the share of the exact scan's answer the index's answer holds, at threshold 80 and at 0 (plain top 10).

Faces: ``--identities-every`` faces per identity on average, unit vectors at cosine ~0.7 to their identity's centre
(two photos of one person: ~0.5, as w600k_mbf's genuine pairs; two people: ~0 +- 0.045), pose values 0-0.5.
Queries: other photos of indexed people (a face plus noise). ``--boto3`` also times SearchFaces through a running
``photosift serve`` (SQLite) at 100 faces and at the largest size.

    .venv/bin/python benchmarks/search.py                      # 10k and 100k, both catalogs (a few minutes)
    .venv/bin/python benchmarks/search.py --sizes 1000000      # 1M (SQLite ~1 h of building on 2 cores)
    .venv/bin/python benchmarks/search.py --sizes 2000 --queries 50 --backends sqlite   # a quick look
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import boto3
import numpy as np
from botocore.config import Config
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import markdown_table, percentile, start_serve, stop_serve  # noqa: E402

from photosift.application import face_spaces, scoring  # noqa: E402
from photosift.application import rekognition as app  # noqa: E402
from photosift.catalog import face_index  # noqa: E402
from photosift.catalog.db import Catalog  # noqa: E402
from photosift.catalog.rekognition import RekognitionFace  # noqa: E402

DIM = 512
KEY, SECRET = "AKIDBENCHSEARCH01", "bench-search-secret"
COLLECTION = "bench"


def synthetic_faces(count: int, per_identity: int, seed: int) -> Iterator[np.ndarray]:
    """Embeddings (batches of ``(n, DIM + 1)`` float32) around identity centres; see the module docstring."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(count // per_identity, 1), DIM)).astype(np.float32)
    for start in range(0, count, 50_000):
        n = min(50_000, count - start)
        vectors = centres[rng.integers(0, len(centres), n)] + rng.normal(size=(n, DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        yield np.column_stack([vectors, rng.uniform(0, 0.5, n).astype(np.float32)])


def fill(catalog: Catalog, count: int, per_identity: int) -> tuple[list[str], np.ndarray]:
    """A collection of ``count`` faces written into the catalog directly; (a sample of ids, their embeddings)."""
    app.create_collection(catalog, COLLECTION, arn="arn", face_model_version=app.face_model_version())
    now, sample_ids, sample = datetime.now(UTC), [], []
    for batch in synthetic_faces(count, per_identity, seed=count):
        ids = [str(uuid.uuid4()) for _ in batch]
        rows = [{"face_id": i, "collection_id": COLLECTION, "image_id": "img", "external_image_id": None,
                 "user_id": None, "box_left": 0.1, "box_top": 0.1, "box_width": 0.2, "box_height": 0.2,
                 "confidence": 99.0, "embedding": v.tobytes(), "created_at": now} for i, v in zip(ids, batch,
                                                                                                strict=True)]
        with catalog.session() as session:
            session.execute(insert(RekognitionFace), rows)
        sample_ids += ids[:200]
        sample.append(batch[:200])
    return sample_ids, np.concatenate(sample)


def probes(sample: np.ndarray, queries: int) -> np.ndarray:
    """Other photos of indexed people: sampled faces plus noise (cosine ~0.9 to the face)."""
    rng = np.random.default_rng(1)
    chosen = sample[rng.choice(len(sample), queries, replace=queries > len(sample))].copy()
    chosen[:, :DIM] += rng.normal(size=(queries, DIM)).astype(np.float32) * 0.02
    chosen[:, :DIM] /= np.linalg.norm(chosen[:, :DIM], axis=1, keepdims=True)
    return chosen


def timed_searches(catalog: Catalog, queries: np.ndarray, threshold: float) -> tuple[list[float], list[list[str]]]:
    seconds, answers = [], []
    for probe in queries:
        start = time.perf_counter()
        found = app.search_faces(catalog, COLLECTION, probe, threshold=threshold, limit=10)
        seconds.append(time.perf_counter() - start)
        answers.append([f.face_id for f, _ in found])
    return seconds, answers


@contextmanager
def exact_scan(catalog: Catalog) -> Iterator[None]:
    """Searches of ``catalog`` score every face meanwhile (the path without an index)."""
    kept = face_spaces.index_of(catalog)
    face_index._INDEXES[catalog] = face_index.ExactScan()
    try:
        yield
    finally:
        face_index._INDEXES[catalog] = kept


def index_size_mib(catalog: Catalog) -> float:
    index = face_spaces.index_of(catalog)
    if isinstance(index, face_index.HnswFiles):
        return index._graphs[f"faces/{COLLECTION}"].index.memory_usage / 2**20
    with catalog.read() as session:
        return session.scalar(text(f"SELECT pg_relation_size('{face_index._pg_table('faces/' + COLLECTION)}_hnsw')"
                                   )) / 2**20


def recall(found: list[list[str]], truth: list[list[str]]) -> float:
    pairs = [(set(f), set(t)) for f, t in zip(found, truth, strict=True) if t]
    return sum(len(f & t) / len(t) for f, t in pairs) / max(len(pairs), 1)


def in_process(url: str, count: int, args: argparse.Namespace) -> list[object]:
    catalog = Catalog(url)
    catalog.migrate()
    _, sample = fill(catalog, count, args.identities_every)
    queries = probes(sample, args.queries)
    threshold = scoring.DEFAULT_THRESHOLD - 1e-3
    start = time.perf_counter()
    app.search_faces(catalog, COLLECTION, queries[0], threshold=threshold, limit=10)
    build = time.perf_counter() - start
    size = index_size_mib(catalog)
    seconds, answers = timed_searches(catalog, queries, threshold)
    _, top = timed_searches(catalog, queries[: args.exact_queries], 0.0)
    with exact_scan(catalog):
        exact_seconds, truth = timed_searches(catalog, queries[: args.exact_queries], threshold)
        _, top_truth = timed_searches(catalog, queries[: args.exact_queries], 0.0)
    app.delete_collection(catalog, COLLECTION)
    catalog.dispose()
    p95, exact_p95 = percentile(seconds, 95) * 1000, percentile(exact_seconds, 95) * 1000
    return [f"{count:,}", "SQLite + usearch" if url.startswith("sqlite") else "PostgreSQL + pgvector",
            f"{build:.1f} s", f"{size:.0f} MiB", f"{percentile(seconds, 50) * 1000:.2f}", f"{p95:.2f}",
            f"{recall(answers[: args.exact_queries], truth):.3f}", f"{recall(top, top_truth):.3f}",
            f"{percentile(exact_seconds, 50) * 1000:.0f}", f"{exact_p95:.0f}", f"{exact_p95 / p95:.0f}x"]


def through_boto3(count: int, args: argparse.Namespace, workdir: Path) -> list[object]:
    """p50/p95 ms of SearchFaces (by FaceId, MaxFaces 10) of a running server with ``count`` faces (SQLite)."""
    data = workdir / f"serve-{count}"
    catalog = Catalog(f"sqlite:///{(data / 'catalog.sqlite3').resolve()}")
    catalog.migrate()
    ids, _ = fill(catalog, count, args.identities_every)
    catalog.dispose()
    process, url = start_serve(data, PHOTOSIFT_AWS_CREDENTIALS=f"{KEY}:{SECRET}")
    try:
        client = boto3.client("rekognition", endpoint_url=url, region_name="us-east-1", aws_access_key_id=KEY,
                              aws_secret_access_key=SECRET, config=Config(retries={"total_max_attempts": 1},
                                                                          read_timeout=3600))
        client.search_faces(CollectionId=COLLECTION, FaceId=ids[0], MaxFaces=10)  # builds the index
        seconds = []
        for face_id in (ids * 10)[: args.queries]:
            start = time.perf_counter()
            client.search_faces(CollectionId=COLLECTION, FaceId=face_id, MaxFaces=10)
            seconds.append(time.perf_counter() - start)
    finally:
        stop_serve(process)
    return [f"{count:,}", f"{percentile(seconds, 50) * 1000:.1f}", f"{percentile(seconds, 95) * 1000:.1f}"]


@contextmanager
def pgvector_server(workdir: Path) -> Iterator[str]:
    import pgserver

    server = pgserver.get_server(workdir / "pg", cleanup_mode="stop")
    server.psql("CREATE DATABASE bench;")
    try:
        yield f"postgresql+psycopg://postgres@/bench?host={workdir / 'pg'}"
    finally:
        server.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="collection sizes, comma-separated")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument("--queries", type=int, default=200, help="timed searches per size (default 200)")
    parser.add_argument("--exact-queries", type=int, default=20, help="of which also scanned exactly (default 20)")
    parser.add_argument("--identities-every", type=int, default=10, help="faces per identity (default 10)")
    parser.add_argument("--boto3", action="store_true", help="also SearchFaces through photosift serve")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="photosift-search-"))
    rows = []
    try:
        for backend in args.backends.split(","):
            with (pgvector_server(workdir) if backend == "postgresql" else _sqlite(workdir)) as url:
                for count in sizes:
                    rows.append(in_process(url, count, args))
                    print(markdown_table(COLUMNS, rows[-1:]), flush=True)
        print(f"\nIn-process search_faces (MaxFaces 10), {args.queries} searches per row; exact: "
              f"{args.exact_queries} of them, timed and as the truth of recall@10:\n")
        print(markdown_table(COLUMNS, rows))
        if args.boto3:
            served = [through_boto3(count, args, workdir) for count in (100, max(sizes))]
            print("\nboto3 SearchFaces through photosift serve (SQLite), ms:\n")
            print(markdown_table(["faces", "p50", "p95"], served))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


COLUMNS = ["faces", "catalog", "index build", "index size", "p50 ms", "p95 ms", "recall@10 (80)",
           "recall@10 (top)", "exact p50 ms", "exact p95 ms", "p95 ratio"]


@contextmanager
def _sqlite(workdir: Path) -> Iterator[str]:
    yield f"sqlite:///{workdir / 'catalog.sqlite3'}"


if __name__ == "__main__":
    raise SystemExit(main())
