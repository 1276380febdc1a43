"""The orders of an album's photos, in-process (no analysis; statuses set by hand): one upload's photos keep the
order of its parts even when the clock stands still or steps back, lists by date taken fall back to the upload time
with ties in upload order, and the album list's cover photo (one query for every album)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import event, update

from photosift.application import albums, deletion, photos
from photosift.application.context import Services, build_services
from photosift.catalog.models import Photo, PhotoStatus
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
        names += [p.filename for p in page.items]
        if (cursor := page.next_cursor) is None:
            return names


def test_one_uploads_times_follow_its_parts_even_if_the_clock_steps_back(svc: Services, monkeypatch) -> None:
    start = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    ticks = iter(range(100))
    monkeypatch.setattr(photos, "utcnow", lambda: start - timedelta(milliseconds=next(ticks) // 3))
    album = albums.create_album(svc, name="clock").id
    names = [f"{n}.jpg" for n in range(8)]
    add(svc, album, [(name, image(n)) for n, name in enumerate(names)])
    assert listed(svc, album, "uploaded") == names
    assert listed(svc, album, "taken_at") == listed(svc, album, "taken_at", limit=3) == names
    assert listed(svc, album, "-taken_at") == listed(svc, album, "-taken_at", limit=2) == names[::-1]
    created = [p.created_at for p in photos.list_photos(svc, album).items]
    assert created == sorted(set(created))  # strictly increasing


def test_taken_at_falls_back_to_the_upload_time_and_keeps_ties_in_upload_order(svc: Services) -> None:
    album = albums.create_album(svc, name="dates").id
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
    assert old.taken_at == old.created_at and old.taken_at_source == "upload"


def set_status(svc: Services, status: str, *photo_ids: str) -> None:
    with svc.catalog.session() as session:
        session.execute(update(Photo).where(Photo.id.in_(photo_ids)).values(status=status))


def covers(svc: Services, *album_ids: str) -> list[str | None]:
    """The ``cover_photo_id`` of each album in the album list."""
    listed = {a.id: a.cover_photo_id for a in albums.list_albums(svc)}
    return [listed[album_id] for album_id in album_ids]


def test_the_album_list_names_each_albums_cover_photo(svc: Services) -> None:
    empty = albums.create_album(svc, name="empty").id
    trip = albums.create_album(svc, name="trip").id
    ids = add(svc, trip, [("late.jpg", image(1, "2024:07:03 10:00:00")), ("first.jpg", image(2, "2024:07:01 08:00:00")),
                          ("broken.jpg", image(3, "2024:06:01 08:00:00")), ("tie.jpg", image(4, "2024:07:02 10:00:00")),
                          ("tie2.jpg", image(5, "2024:07:02 10:00:00")), ("now.jpg", image(6))])
    other = albums.create_album(svc, name="other").id
    other_ids = add(svc, other, [("a.jpg", image(7)), ("b.jpg", image(8))])
    assert covers(svc, empty, trip, other) == [None, None, None]  # nothing analysed yet

    set_status(svc, PhotoStatus.DONE, *ids.values(), *other_ids.values())
    set_status(svc, PhotoStatus.FAILED, ids["broken.jpg"])
    assert covers(svc, empty, trip, other) == [None, ids["first.jpg"], other_ids["a.jpg"]]
    deletion.delete_photos(svc, trip, photo_ids=[ids["first.jpg"]])
    assert covers(svc, trip) == [ids["tie.jpg"]]  # a tie on the date: the first uploaded
    set_status(svc, PhotoStatus.PENDING, ids["tie.jpg"])  # being analysed again
    assert covers(svc, trip) == [ids["tie2.jpg"]]
    assert listed(svc, trip, "taken_at")[:2] == ["broken.jpg", "tie.jpg"]  # the list itself shows every photo


def test_the_album_list_takes_as_many_queries_for_one_album_as_for_many(svc: Services) -> None:
    def queries() -> int:
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(svc.catalog.engine, "before_cursor_execute", count)
        try:
            albums.list_albums(svc)
        finally:
            event.remove(svc.catalog.engine, "before_cursor_execute", count)
        return sum(s.lstrip().upper().startswith(("SELECT", "WITH")) for s in statements)

    first = albums.create_album(svc, name="a0").id
    set_status(svc, PhotoStatus.DONE, *add(svc, first, [("x.jpg", image(1))]).values())
    one = queries()
    for n in range(1, 6):
        album = albums.create_album(svc, name=f"a{n}").id
        set_status(svc, PhotoStatus.DONE, *add(svc, album, [(f"{n}.jpg", image(n + 1))]).values())
    assert queries() == one
