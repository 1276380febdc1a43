"""Benchmark: what storing one analysed photo costs as the album grows (1k, 10k, 50k faces).

The analysis itself (decode, detect, embed) does not depend on the album; what follows it does: matching the new
faces to the members, bringing the album's people up to date, the event. This measures that step
(``application.processing.record_analysis``, in its own transaction with the album's lock, as ``AnalyzeJob`` runs it)
on a SQLite catalog filled with synthetic faces shaped like real ones: identities are random directions, each
sighting sits at the cosine of real same-person pairs from its identity; 16 members with one reference each, their
faces matched; recurring strangers already grouped into people; one-off strangers unknown. Each new photo holds
four faces: a member, a recurring stranger and two new strangers. The table gives ms per photo (median of
``--photos``), the ratio to the smallest album (the issue bounds it at 2 for 50k faces), and the previous release's
way measured in the same run: no index, the people regrouped from every face of the album at each photo.

Then the album's re-match (``processing.MatchJob``, queued after photos that match a member): the median of
``--rematches`` runs after one that brings the stored similarities in line (not counted), with the album's index
(the faces near each member's template and rule 5's look-alikes from neighbour queries) and without it (every face
of the album read and scored, as the previous release did at every re-match).

Run: ``nice -n 10 .venv/bin/python benchmarks/album_writes.py [--sizes 1000,10000,50000] [--photos 20]
[--rematches 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import markdown_table  # noqa: E402

from photosift import faces as face_engine  # noqa: E402
from photosift.analysis import PhotoAnalysis  # noqa: E402
from photosift.application import face_spaces  # noqa: E402
from photosift.application.events import EventHub  # noqa: E402
from photosift.application.processing import MatchJob, record_analysis  # noqa: E402
from photosift.blur import BlurResult  # noqa: E402
from photosift.catalog import face_index  # noqa: E402
from photosift.catalog.db import Catalog  # noqa: E402
from photosift.catalog.models import (  # noqa: E402
    Album,
    Face,
    Job,
    Member,
    Person,
    Photo,
    PhotoStatus,
    Reference,
    new_id,
)
from photosift.faces.types import EmbeddedFace, FaceQuality, Pose  # noqa: E402
from photosift.faces.types import Face as EngineFace  # noqa: E402

MEMBERS = 16
FACES_PER_PHOTO = 4
SIGHTING_COSINE = 0.72  # a sighting's cosine to its identity: two sightings then meet at ~0.52, as real pairs do


class Identities:
    """Random identity directions and sightings of them (recogniser vector + a frontal pose value)."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.dim = face_engine.EMBEDDING_DIM - 1
        self.centres: list[np.ndarray] = []

    def new(self) -> int:
        v = self.rng.normal(size=self.dim)
        self.centres.append(v / np.linalg.norm(v))
        return len(self.centres) - 1

    def sighting(self, identity: int) -> np.ndarray:
        noise = self.rng.normal(size=self.dim)
        noise -= noise @ self.centres[identity] * self.centres[identity]
        noise /= np.linalg.norm(noise)
        v = SIGHTING_COSINE * self.centres[identity] + np.sqrt(1 - SIGHTING_COSINE**2) * noise
        return np.append(v, 0.0).astype(np.float32)


def fill_album(catalog: Catalog, faces: int, ids: Identities) -> tuple[str, list[int], list[int]]:
    """An album of ``faces`` stored faces; returns its id, its members' identities and its recurring strangers'."""
    members = [ids.new() for _ in range(MEMBERS)]
    recurring = [ids.new() for _ in range(max(4, faces // 40))]
    with catalog.session() as session:
        album = Album(name=f"{faces} faces")
        session.add(album)
        session.flush()
        member_ids = []
        for k, identity in enumerate(members):
            member = Member(album_id=album.id, name=f"Member {k}", recognizer=face_engine.EMBEDDER,
                            template=ids.sighting(identity).tobytes())
            session.add(member)
            session.flush()
            session.add(Reference(member_id=member.id, album_id=album.id, blob_key=f"ref-{k}", box=[0, 0, 100, 100],
                                  confidence=99.0, embedding=member.template, recognizer=face_engine.EMBEDDER))
            member_ids.append(member.id)
        people = []
        for k in range(len(recurring)):
            person = Person(album_id=album.id, number=k + 1, hidden=False)
            session.add(person)
            session.flush()
            people.append(person.id)
        photo_rows, face_rows = [], []
        for p in range(faces // FACES_PER_PHOTO):
            photo_id = new_id()
            photo_rows.append({"id": photo_id, "album_id": album.id, "blob_key": f"blob-{p}", "sha256": f"{p:064x}",
                               "content_type": "image/jpeg", "size_bytes": 1, "status": PhotoStatus.DONE,
                               "face_count": FACES_PER_PHOTO})
            who = [("member", p % MEMBERS), ("person", p % len(recurring)), ("new", 0), ("new", 0)]
            for position, (kind, k) in enumerate(who):
                identity = members[k] if kind == "member" else recurring[k] if kind == "person" else ids.new()
                face_rows.append({
                    "id": new_id(), "photo_id": photo_id, "album_id": album.id, "position": position,
                    "left": 100 * position, "top": 0, "width": 90, "height": 90, "confidence": 99.0,
                    "landmarks": [], "pose": {"yaw": 0.0, "pitch": 0.0, "roll": 0.0}, "sharpness": 60.0,
                    "brightness": 50.0, "relative_blur": 0.5, "too_small": False,
                    "embedding": ids.sighting(identity).tobytes(), "recognizer": face_engine.EMBEDDER,
                    "member_id": member_ids[k] if kind == "member" else None,
                    "similarity": 95.0 if kind == "member" else None,
                    "person_id": people[k] if kind == "person" else None, "person_pinned": False})
        session.execute(insert(Photo), photo_rows)
        session.execute(insert(Face), face_rows)
        return album.id, members, recurring


def new_photo(catalog: Catalog, album_id: str) -> str:
    with catalog.session() as session:
        key = new_id()
        photo = Photo(album_id=album_id, blob_key=key, sha256=key.rjust(64, "f"), content_type="image/jpeg",
                      size_bytes=1)
        session.add(photo)
        session.flush()
        return photo.id


def analysis(vectors: list[np.ndarray]) -> PhotoAnalysis:
    """A photo's analysis as the engine would return it, with ``vectors`` as its faces."""
    found = [EmbeddedFace(EngineFace(box=(100 * k, 0, 90, 90), confidence=99.0, landmarks=(), pose=Pose(0, 0, 0),
                                     quality=FaceQuality(60.0, 50.0, 0.5)), v) for k, v in enumerate(vectors)]
    return PhotoAnalysis(width=400, height=100, blur=BlurResult(60.0, False, "faces", None, "default"), faces=found)


WORKER = "benchmark"  # the claim a re-match settles (mark_done checks the job is still its worker's)


def rematch_ms(catalog: Catalog, album_id: str, runs: int) -> float:
    """Median ms of ``runs`` re-matches of the album (``MatchJob``), after one that is not counted."""
    job, times = MatchJob(SimpleNamespace(catalog=catalog, hub=EventHub())), []
    for _ in range(runs + 1):
        with catalog.session() as session:
            row = Job(kind="match", album_id=album_id, status="running", worker=WORKER)
            session.add(row)
            session.flush()
            job_id = row.id
        started = time.perf_counter()
        job.run(SimpleNamespace(id=job_id, album_id=album_id, worker=WORKER))
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times[1:])


def measure(size: int, photos: int, rematches: int, folder: Path, *, whole_album: bool) -> tuple[float, float]:
    """Median ms to record one analysed photo in an album of ``size`` faces, and to re-match it; ``whole_album``:
    the previous release's way (no index: the people are regrouped from every face of the album, the re-match reads
    every face), else from the new faces' and the members' neighbours."""
    catalog = Catalog(f"sqlite:///{folder / f'catalog-{size}-{whole_album}.sqlite3'}")
    catalog.migrate()
    index = face_index.ExactScan() if whole_album else face_spaces.index_of(catalog)
    if whole_album:  # the jobs' own look-ups (face_spaces) find no index either
        face_index._INDEXES[catalog] = index  # noqa: SLF001 - a benchmark's stand-in for a catalog without one
    ids = Identities(seed=size)
    album_id, members, recurring = fill_album(catalog, size, ids)
    times = []
    for p in range(photos + 1):  # the first builds the album's index from the catalog: not counted
        photo_id = new_photo(catalog, album_id)
        result = analysis([ids.sighting(members[p % MEMBERS]), ids.sighting(recurring[p % len(recurring)]),
                           ids.sighting(ids.new()), ids.sighting(ids.new())])
        started = time.perf_counter()
        with catalog.session() as session:
            album = session.scalars(select(Album).where(Album.id == album_id).with_for_update()).one()
            record_analysis(session, album, session.get(Photo, photo_id), result, index)
        times.append(1000 * (time.perf_counter() - started))
    rematch = rematch_ms(catalog, album_id, rematches)
    catalog.dispose()
    return statistics.median(times[1:]), rematch


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="album sizes in faces, comma-separated")
    parser.add_argument("--photos", type=int, default=20, help="photos recorded per album (the median is reported)")
    parser.add_argument("--rematches", type=int, default=3, help="re-matches timed per album (the median)")
    parser.add_argument("--baseline-up-to", type=int, default=10_000,
                        help="measure the whole-album baseline up to this size (it takes seconds per photo)")
    args = parser.parse_args()
    sizes = [int(v) for v in args.sizes.split(",")]
    rows, first = [], None
    with tempfile.TemporaryDirectory(prefix="photosift-album-writes-") as tmp:
        for size in sizes:
            ms, rematch = measure(size, args.photos, args.rematches, Path(tmp), whole_album=False)
            first = first or ms
            baseline, whole_rematch = (measure(size, max(3, args.photos // 5), args.rematches, Path(tmp),
                                               whole_album=True)
                                       if size <= args.baseline_up_to else (None, None))
            rows.append([f"{size:,}", f"{ms:.1f}", f"{ms / first:.2f}x",
                         f"{baseline:.1f}" if baseline else "not run", f"{baseline / ms:.1f}x" if baseline else "",
                         f"{rematch:.0f}", f"{whole_rematch:.0f}" if whole_rematch else "not run"])
            print(f"  {size} faces: {ms:.1f} ms per photo (whole album: {baseline}); re-match {rematch:.0f} ms "
                  f"(whole album: {whole_rematch})", file=sys.stderr)
    print(markdown_table(["album faces", "ms per analysed photo (median)", f"against {sizes[0]:,} faces",
                          "whole-album regroup (previous release), ms", "faster", "re-match, ms",
                          "whole-album re-match (previous release), ms"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
