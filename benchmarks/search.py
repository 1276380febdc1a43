"""Rekognition collection search at scale: the face index against the exact scan it replaces.

For each collection size and catalog (SQLite; PostgreSQL 16 from the ``pgserver`` wheel), faces are written straight
into the catalog (as a catalog of an earlier release holds them: no index yet), then ``search_faces`` runs in-process:

  * build: the first search, which reads every face from the catalog into the process's copy (coded past
    ``face_index.CODED_FROM`` faces) and then writes the index's entries; load: the search after it, which reads the
    copy from the entries (what a process started later pays once); the copy's memory;
  * index: p50/p95 of ``--queries`` searches (MaxFaces 10, AWS's default FaceMatchThreshold 80), each the index's
    nearest ``candidates(10)`` re-scored with the calibrated score;
  * recall@10: the share of the exact answer (every face scored, in memory) that the index's answer holds, over every
    query, at threshold 80 and at 0 (plain top 10);
  * exact: the code path before the index (every face read from the catalog and scored), timed on
    ``--exact-queries`` of the queries.

Faces: synthetic people shaped like the shared data's real embeddings (``fit_shape``: the mean and covariance of
people's centres and of faces around them, fitted to LFW, CFP and MFR2; two photos of one person at cosine
0.56 +- 0.15, two people 0.012 +- 0.067, as the real 0.55 +- 0.15 and 0.011 +- 0.068), ``--identities-every`` faces
per person, pose values drawn from the real faces'; the real faces are mixed in. Queries: new photos of the synthetic
people and, for half of them, real photos held out of the collection. Without ``../shared/data`` the vectors are
isotropic (a harder case, unlike faces). ``--boto3 SIZES`` also times SearchFaces through a running
``photosift serve`` (SQLite) at those sizes.

    .venv/bin/python benchmarks/search.py --boto3 100,100000    # 10k and 100k, both catalogs (about 20 minutes)
    .venv/bin/python benchmarks/search.py --sizes 1000000 --exact-queries 2   # 1M, both catalogs (about 40 minutes)
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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import boto3
import numpy as np
from botocore.config import Config
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import markdown_table, percentile, pgserver_database, start_serve, stop_serve  # noqa: E402

from photosift.application import face_spaces, scoring  # noqa: E402
from photosift.application import rekognition as app  # noqa: E402
from photosift.catalog import face_index  # noqa: E402
from photosift.catalog.db import Catalog  # noqa: E402
from photosift.catalog.rekognition import RekognitionFace  # noqa: E402

DIM = 512
KEY, SECRET = "AKIDBENCHSEARCH01", "bench-search-secret"
COLLECTION = "bench"
WITHIN_SPREAD = 0.45  # log-normal spread of a face's distance from its identity (genuine cosine 0.56 +- 0.15)
SHRINK = 0.25  # of the fitted covariances towards isotropy: two people's cosine 0.012 +- 0.067 (real: 0.011 +- 0.068)


@dataclass(frozen=True)
class Shape:
    """How the recogniser's vectors spread, fitted to the shared data's real embeddings (LFW, CFP, MFR2): the mean
    and the Cholesky factors of the covariance of identity centres and of faces around their centre, the pose values,
    and the real faces themselves (mixed into every collection)."""

    mean: np.ndarray
    between: np.ndarray
    within: np.ndarray
    poses: np.ndarray
    real: np.ndarray  # (n, DIM + 1) embeddings as stored
    real_identity: np.ndarray  # (n,) labels


def fit_shape() -> Shape | None:
    """The shape of real embeddings; None without ``../shared/data`` (then vectors are isotropic: a harder case)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "eval"))
    import _data

    if not _data.available():
        return None
    import _faces

    faces = [f for name in _faces.SETS for f in _faces.load(name) if f.embedding is not None]
    labels = np.array([f.identity for f in faces])
    stored = np.stack([f.embedding for f in faces]).astype(np.float32)
    unit = stored[:, :DIM].astype(np.float64)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    centres = np.zeros((len(counts), DIM))
    np.add.at(centres, inverse, unit)
    centres /= counts[:, None]
    seen_twice = counts[inverse] >= 2
    spread = (unit - centres[inverse])[seen_twice] * np.sqrt(counts[inverse][seen_twice] /
                                                              (counts[inverse][seen_twice] - 1))[:, None]
    within = np.cov(spread.T)
    between = np.cov(centres[counts >= 2].T) - within * np.mean(1 / counts[counts >= 2])  # less the centres' noise
    return Shape(centres[counts >= 2].mean(axis=0), _cholesky(between), _cholesky(within), stored[:, DIM].copy(),
                 stored, labels)


def _cholesky(covariance: np.ndarray, shrink: float = SHRINK) -> np.ndarray:
    """A Cholesky factor of ``covariance`` made positive definite (eigenvalues clipped) and shrunk towards isotropy
    (a covariance fitted to a few hundred people overstates its largest directions)."""
    values, vectors = np.linalg.eigh(covariance)
    covariance = (vectors * np.maximum(values, 1e-6)) @ vectors.T
    return np.linalg.cholesky((1 - shrink) * covariance + shrink * np.trace(covariance) / DIM * np.eye(DIM))


@dataclass(frozen=True)
class Collection:
    """A collection's embeddings (as stored: vector and pose value) and queries: other photos of its people."""

    embeddings: np.ndarray  # (count, DIM + 1) float32
    queries: np.ndarray  # (queries, DIM + 1)


def make_collection(count: int, queries: int, per_identity: int, shape: Shape | None, seed: int) -> Collection:
    """``count`` faces of about ``count / per_identity`` synthetic people shaped like real ones, with every real face
    of ``shape`` among them; queries are new photos of synthetic people and, for half of them, real photos held out
    of the collection (of people it holds other photos of)."""
    rng = np.random.default_rng(seed)
    held: list[int] = []
    if shape is not None:
        _, first = np.unique(shape.real_identity, return_index=True)
        repeated = [i for i in first if (shape.real_identity == shape.real_identity[i]).sum() >= 2]
        held = sorted(rng.choice(repeated, min(queries // 2, len(repeated)), replace=False).tolist())
    real = np.delete(shape.real, held, axis=0) if shape is not None else np.zeros((0, DIM + 1), np.float32)
    real = real[rng.permutation(len(real))[:count]]  # a collection smaller than the real faces holds some of them
    synthetic = count - len(real)
    people = max(synthetic // per_identity, 1)
    if shape is None:
        centres, within = rng.normal(size=(people, DIM)), np.eye(DIM)
    else:
        centres, within = shape.mean + rng.normal(size=(people, DIM)) @ shape.between.T, shape.within

    def photos(who: np.ndarray) -> np.ndarray:
        out = []
        for start in range(0, len(who), 50_000):
            part = who[start:start + 50_000]
            scale = np.exp(rng.normal(size=(len(part), 1)) * WITHIN_SPREAD) if shape is not None else 1.0
            vectors = centres[part] + scale * (rng.normal(size=(len(part), DIM)) @ within.T)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            pose = rng.choice(shape.poses, len(part)) if shape is not None else rng.uniform(0, 0.5, len(part))
            out.append(np.column_stack([vectors, pose]).astype(np.float32))
        return np.concatenate(out) if out else np.zeros((0, DIM + 1), np.float32)

    embeddings = np.concatenate([photos(rng.integers(0, people, synthetic)), real])
    probes = [photos(rng.integers(0, people, queries - len(held)))]
    if held:
        probes.append(shape.real[held])
    return Collection(embeddings[rng.permutation(len(embeddings))], np.concatenate(probes))


def fill(catalog: Catalog, embeddings: np.ndarray) -> list[str]:
    """A collection of ``embeddings`` written into the catalog directly; the faces' ids."""
    app.create_collection(catalog, COLLECTION, arn="arn", face_model_version=app.face_model_version())
    now, ids = datetime.now(UTC), [str(uuid.uuid4()) for _ in range(len(embeddings))]
    for start in range(0, len(embeddings), 20_000):
        rows = [{"face_id": i, "collection_id": COLLECTION, "image_id": "img", "external_image_id": None,
                 "user_id": None, "box_left": 0.1, "box_top": 0.1, "box_width": 0.2, "box_height": 0.2,
                 "confidence": 99.0, "embedding": v.tobytes(), "created_at": now}
                for i, v in zip(ids[start:start + 20_000], embeddings[start:start + 20_000], strict=True)]
        with catalog.session() as session:
            session.execute(insert(RekognitionFace), rows)
    return ids


def exact_answers(embeddings: np.ndarray, ids: list[str], queries: np.ndarray, threshold: float) -> list[list[str]]:
    """What scoring every face answers: the ids of the 10 most similar at ``threshold`` or more, per query."""
    prepared, out = scoring.prepare(embeddings), []
    for query in queries:
        scores = scoring.similarity(query, prepared)[0]
        top = np.argpartition(-scores, 10)[:10]
        out.append([ids[i] for i in top[np.argsort(-scores[top])] if scores[i] >= threshold])
    return out


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


def copy_size_mib(catalog: Catalog) -> float:
    """The process's copy of the collection: its arrays as allocated, its codes, and its ids."""
    copy = face_spaces.index_of(catalog)._copies[f"faces/{COLLECTION}"]  # type: ignore[attr-defined]
    codes = copy.codes.ntotal * copy.codes.code_size if copy.codes is not None else 0
    arrays = copy.rows.nbytes + copy.alive.nbytes + (copy.scales.nbytes if copy.scales is not None else 0)
    ids = sys.getsizeof(copy.ids) + sys.getsizeof(copy.slots) + sum(map(sys.getsizeof, copy.ids))
    return (arrays + codes + ids) / 2**20


def recall(found: list[list[str]], truth: list[list[str]]) -> float:
    """The share of the exact answers' faces the index's answers hold (over every query with an exact answer)."""
    held = sum(len(set(f) & set(t)) for f, t in zip(found, truth, strict=True))
    return held / max(sum(len(t) for t in truth), 1)


def in_process(url: str, count: int, args: argparse.Namespace, shape: Shape | None) -> list[object]:
    """Build and load times, the copy's size, search times, recall@10 and the exact scan's times."""
    collection = make_collection(count, args.queries, args.identities_every, shape, seed=count)
    catalog = Catalog(url)
    catalog.migrate()
    ids = fill(catalog, collection.embeddings)
    threshold = scoring.DEFAULT_THRESHOLD - 1e-3
    start = time.perf_counter()
    app.search_faces(catalog, COLLECTION, collection.queries[0], threshold=threshold, limit=10)
    build = time.perf_counter() - start
    start = time.perf_counter()
    app.search_faces(catalog, COLLECTION, collection.queries[0], threshold=threshold, limit=10)
    load = time.perf_counter() - start
    size = copy_size_mib(catalog)
    seconds, answers = timed_searches(catalog, collection.queries, threshold)
    top = timed_searches(catalog, collection.queries, 0.0)[1]
    with exact_scan(catalog):
        exact_seconds, _ = timed_searches(catalog, collection.queries[: args.exact_queries], threshold)
    app.delete_collection(catalog, COLLECTION)
    catalog.dispose()
    truth = exact_answers(collection.embeddings, ids, collection.queries, threshold)
    top_truth = exact_answers(collection.embeddings, ids, collection.queries, 0.0)
    exact_p50, exact_p95 = (percentile(exact_seconds, q) * 1000 for q in (50, 95))
    name = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    return [f"{count:,}", name, f"{build:.1f} s", f"{load:.1f} s", f"{size:.0f} MiB",
            f"{percentile(seconds, 50) * 1000:.2f}", f"{percentile(seconds, 95) * 1000:.2f}",
            f"{recall(answers, truth):.4f}", f"{recall(top, top_truth):.4f}", f"{exact_p50:,.0f}", f"{exact_p95:,.0f}",
            f"{exact_p95 / (percentile(seconds, 95) * 1000):,.0f}x"]


def through_boto3(count: int, args: argparse.Namespace, shape: Shape | None, workdir: Path) -> list[object]:
    """p50/p95 ms of SearchFaces (by FaceId, MaxFaces 10) of a running server with ``count`` faces (SQLite)."""
    data = workdir / f"serve-{count}"
    catalog = Catalog(f"sqlite:///{(data / 'catalog.sqlite3').resolve()}")
    catalog.migrate()
    ids = fill(catalog, make_collection(count, 0, args.identities_every, shape, seed=count).embeddings)
    catalog.dispose()
    process, url = start_serve(data, PHOTOSIFT_AWS_CREDENTIALS=f"{KEY}:{SECRET}")
    try:
        client = boto3.client("rekognition", endpoint_url=url, region_name="us-east-1", aws_access_key_id=KEY,
                              aws_secret_access_key=SECRET, config=Config(retries={"total_max_attempts": 1},
                                                                          read_timeout=3600))
        client.search_faces(CollectionId=COLLECTION, FaceId=ids[0], MaxFaces=10)  # builds the index
        seconds = []
        for face_id in (ids * args.queries)[: args.queries]:
            start = time.perf_counter()
            client.search_faces(CollectionId=COLLECTION, FaceId=face_id, MaxFaces=10)
            seconds.append(time.perf_counter() - start)
    finally:
        stop_serve(process)
    return [f"{count:,}", f"{percentile(seconds, 50) * 1000:.1f}", f"{percentile(seconds, 95) * 1000:.1f}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="collection sizes, comma-separated")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument("--queries", type=int, default=200, help="timed searches per size, also the recall's queries")
    parser.add_argument("--exact-queries", type=int, default=5, help="of which also timed scanning every face")
    parser.add_argument("--identities-every", type=int, default=10, help="faces per identity (default 10)")
    parser.add_argument("--boto3", default="", help="also SearchFaces through photosift serve at these sizes")
    args = parser.parse_args()
    shape = fit_shape()
    print("vectors: " + ("shaped like the shared data's real embeddings, which are mixed in" if shape else
                         "isotropic (no ../shared/data)"), flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="photosift-search-"))
    rows = []
    try:
        for backend in filter(None, args.backends.split(",")):
            with (pgserver_database(workdir) if backend == "postgresql" else _sqlite(workdir)) as url:
                for count in (int(s) for s in args.sizes.split(",")):
                    rows.append(found := in_process(url, count, args, shape))
                    print(markdown_table(COLUMNS, [found]), flush=True)
        print(f"\nIn-process search_faces (MaxFaces 10; coded from {face_index.CODED_FROM:,} faces, "
              f"{face_index.reranked(app.candidates(10)):,} coded neighbours of each search re-ranked); {args.queries} "
              f"searches per row, recall@10 against scoring every face for all of them, the exact scan timed on "
              f"{args.exact_queries}:\n")
        print(markdown_table(COLUMNS, rows))
        if args.boto3:
            served = [through_boto3(int(count), args, shape, workdir) for count in args.boto3.split(",")]
            print("\nboto3 SearchFaces through photosift serve (SQLite), ms:\n")
            print(markdown_table(["faces", "p50", "p95"], served))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


COLUMNS = ["faces", "catalog", "index build", "index load", "copy size", "p50 ms", "p95 ms", "recall@10 (80)",
           "recall@10 (top)", "exact p50 ms", "exact p95 ms", "p95 ratio"]


@contextmanager
def _sqlite(workdir: Path) -> Iterator[str]:
    yield f"sqlite:///{workdir / 'catalog.sqlite3'}"


if __name__ == "__main__":
    raise SystemExit(main())
