"""The orders of an album's photos, in-process (no analysis): one upload's photos keep the
order of its parts even when the clock stands still or steps back, and lists by date taken fall back to the upload
time with ties in upload order."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import update

from photosift.application import albums, photos
from photosift.application.context import Services, build_services
from photosift.catalog.models import Photo
from photosift.config import Settings


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def svc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    """Services on a new SQLite catalog, then on the module's PostgreSQL database (shared by the tests: each looks
    at its own albums only)."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    services = build_services(Settings(data_dir=tmp_path / "data", workers=1, database_url=url))
    yield services
    services.engine.shutdown()
    services.catalog.engine.dispose()


def image(seed: int, taken: str | None = None) -> bytes:
    """A small JPEG, with EXIF ``DateTimeOriginal`` ``taken`` ("2024:07:01 10:00:00") when given."""
    exif = Image.Exif()
    if taken is not None:
        exif.get_ifd(0x8769)[0x9003] = taken
    out = io.BytesIO()
    Image.new("RGB", (64 + seed, 48), (seed * 7 % 256, 90, 120)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def add(svc: Services, album: str, named: list[tuple[str, bytes]]) -> dict[str, str]:
    entries = photos.add_photos(svc, album, [photos.Upload.from_bytes(name, data) for name, data in named])
    return {e["filename"]: e["id"] for e in entries}


def listed(svc: Services, album: str, sort: str, limit: int = 500) -> list[str]:
    """The photos' file names in ``sort`` order, read page by page."""
    names, cursor = [], None
    while True:
        page = photos.list_photos(svc, album, sort=sort, limit=limit, cursor=cursor)
        names += [p["filename"] for p in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            return names


def test_one_uploads_times_follow_its_parts_even_if_the_clock_steps_back(svc: Services, monkeypatch) -> None:
    start = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    ticks = iter(range(100))
    monkeypatch.setattr(photos, "utcnow", lambda: start - timedelta(milliseconds=next(ticks) // 3))
    album = albums.create_album(svc, name="clock")["id"]
    names = [f"{n}.jpg" for n in range(8)]
    add(svc, album, [(name, image(n)) for n, name in enumerate(names)])
    assert listed(svc, album, "uploaded") == names
    assert listed(svc, album, "taken_at") == listed(svc, album, "taken_at", limit=3) == names
    assert listed(svc, album, "-taken_at") == listed(svc, album, "-taken_at", limit=2) == names[::-1]
    created = [p["created_at"] for p in photos.list_photos(svc, album)["items"]]
    assert created == sorted(set(created))  # strictly increasing


def test_taken_at_falls_back_to_the_upload_time_and_keeps_ties_in_upload_order(svc: Services) -> None:
    album = albums.create_album(svc, name="dates")["id"]
    tie = "2024:07:01 10:00:00"
    ids = add(svc, album, [("none1.jpg", image(1)), ("tie1.jpg", image(2, tie)),
                           ("early.jpg", image(3, "2024:06:30 09:00:00")), ("tie2.jpg", image(4, tie)),
                           ("old.jpg", image(5)), ("future.jpg", image(6, "2099:01:01 00:00:00")),
                           ("tie3.jpg", image(7, tie)), ("none2.jpg", image(8))])
    with svc.catalog.session() as session:  # a photo of a release before capture dates: no taken_at at all
        session.execute(update(Photo).where(Photo.id == ids["old.jpg"]).values(taken_at=None, taken_at_source=None))
    by_date = ["early.jpg", "tie1.jpg", "tie2.jpg", "tie3.jpg", "none1.jpg", "old.jpg", "none2.jpg", "future.jpg"]
    newest_first = ["future.jpg", "none2.jpg", "old.jpg", "none1.jpg", "tie1.jpg", "tie2.jpg", "tie3.jpg", "early.jpg"]
    for limit in (1, 2, 3, 500):
        assert listed(svc, album, "taken_at", limit) == by_date, limit
        assert listed(svc, album, "-taken_at", limit) == newest_first, limit
    old = photos.get_photo(svc, ids["old.jpg"])
    assert old["taken_at"] == old["created_at"] and old["taken_at_source"] == "upload"
