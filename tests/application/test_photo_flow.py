"""A photo's way through the use cases, in-process on SQLite and a local folder, with a fake analysis (the models
are not the subject here): upload (a refused file does not stop the others; the same bytes again are a
duplicate), the analyze job (faces and blur stored, events in order), a photo deleted while its job waits, a
failed analysis, and a whole-album delete that leaves no blob behind."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from photosift import faces
from photosift.analysis import PhotoAnalysis
from photosift.application import albums, deletion, photos
from photosift.application.context import Services, build_services
from photosift.application.events import read_events
from photosift.application.photos import Upload
from photosift.application.processing import AnalyzeJob
from photosift.blur import BlurResult
from photosift.config import Settings
from photosift.errors import NotFound
from photosift.faces.types import EmbeddedFace, FaceQuality, Pose
from photosift.faces.types import Face as EngineFace


class FakeAnalysis:
    """Stands for the analysis processes: ``n`` faces for a photo whose width is ``100 + n``; blurry when odd."""

    def __init__(self) -> None:
        self.calls = 0

    def run(self, fn: Any, store: Any, key: str, **_: Any) -> PhotoAnalysis:  # noqa: ANN401 - as the pool's run
        self.calls += 1
        with Image.open(io.BytesIO(store.get(key))) as image:
            width, height = image.size
        count = width - 100
        rng = np.random.default_rng(count)
        found = [EmbeddedFace(EngineFace(box=(10 * k, 0, 9, 9), confidence=99.0, landmarks=(), pose=Pose(0, 0, 0),
                                         quality=FaceQuality(60.0, 50.0, 0.5)),
                              rng.normal(size=faces.EMBEDDING_DIM).astype(np.float32)) for k in range(count)]
        blur = BlurResult(20.0 if count % 2 else 80.0, bool(count % 2), "whole", None, "default")
        return PhotoAnalysis(width=width, height=height, blur=blur, faces=found)


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    services = build_services(Settings(data_dir=tmp_path))
    services.analysis = FakeAnalysis()  # type: ignore[assignment]
    yield services
    services.catalog.dispose()


def jpeg(faces_in_it: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (100 + faces_in_it, 60), (faces_in_it * 40 % 256, 90, 120)).save(out, "JPEG")
    return out.getvalue()


def run_jobs(svc: Services) -> int:
    done = 0
    while (job := svc.queue.claim(["analyze"])) is not None:
        AnalyzeJob(svc).run(job)
        done += 1
    return done


def blobs_in(svc: Services) -> list[Path]:
    return [p for p in (svc.settings.data_dir / "blobs").rglob("*") if p.is_file()]


def test_uploads_are_analysed_with_their_events_in_order(svc: Services) -> None:
    album = albums.create_album(svc, name="trip")
    results = photos.add_photos(svc, album.id, [Upload.from_bytes("two.jpg", jpeg(2)),
                                                Upload.from_bytes("notes.txt", b"not a photo"),
                                                Upload.from_bytes("three.jpg", jpeg(3)),
                                                Upload.from_bytes("again.jpg", jpeg(2))])
    assert [r.get("duplicate") for r in results] == [False, None, False, True]
    assert results[1]["error"]["type"] == "InvalidImage" and results[3]["id"] == results[0]["id"]

    assert run_jobs(svc) == 2
    two, three = (photos.get_photo(svc, results[i]["id"]) for i in (0, 2))
    assert (two.status, two.face_count, two.blur and two.blur.blurry) == ("done", 2, False)
    assert (three.status, three.face_count, three.blur and three.blur.blurry) == ("done", 3, True)
    assert [f.box for f in three.faces or []] == [[0, 0, 9, 9], [10, 0, 9, 9], [20, 0, 9, 9]]
    assert len(photos.list_faces(svc, album.id, unknown=True).items) == 5

    events = [(e.type, e.data.get("photo_id") or e.data["photo"]["id"]) for e in read_events(svc.catalog, album.id, 0)]
    assert events == [("photo.added", two.id), ("photo.added", three.id),
                      ("photo.analyzed", two.id), ("photo.analyzed", three.id)]


def test_a_photo_deleted_while_its_job_waits_is_not_analysed(svc: Services) -> None:
    album = albums.create_album(svc, name="trip")
    [added] = photos.add_photos(svc, album.id, [Upload.from_bytes("one.jpg", jpeg(1))])
    job = svc.queue.claim(["analyze"])
    assert job is not None
    deletion.delete_photo(svc, added["id"])  # and its job with it
    AnalyzeJob(svc).run(job)
    assert svc.analysis.calls == 0  # type: ignore[attr-defined]
    assert svc.queue.counts() == {} and blobs_in(svc) == []


def test_a_failed_analysis_marks_the_photo_and_says_why(svc: Services) -> None:
    album = albums.create_album(svc, name="trip")
    [added] = photos.add_photos(svc, album.id, [Upload.from_bytes("one.jpg", jpeg(1))])
    job = svc.queue.claim(["analyze"])
    assert job is not None
    AnalyzeJob(svc).failed(job, "the photo could not be decoded")
    photo = photos.get_photo(svc, added["id"])
    assert (photo.status, photo.error) == ("failed", "the photo could not be decoded")
    assert read_events(svc.catalog, album.id, 0)[-1].data == {"photo_id": added["id"],
                                                              "error": "the photo could not be decoded"}


def test_deleting_an_album_removes_its_photos_and_blobs(svc: Services) -> None:
    kept, gone = albums.create_album(svc, name="kept"), albums.create_album(svc, name="gone")
    photos.add_photos(svc, kept.id, [Upload.from_bytes("k.jpg", jpeg(1))])
    photos.add_photos(svc, gone.id, [Upload.from_bytes("g.jpg", jpeg(2))])
    run_jobs(svc)
    albums.delete_album(svc, gone.id)
    assert [a.id for a in albums.list_albums(svc)] == [kept.id]
    assert len(blobs_in(svc)) == 1  # the kept album's photo (thumbnails are made on demand)
    with pytest.raises(NotFound):
        albums.get_album(svc, gone.id)
