"""Downloads: an album's photos (a member's, a person's, or a selection) as one ZIP of their original bytes, streamed
from the store.

The archive is built while it is sent (``zipstream-ng``): entries are stored, not compressed (photos are compressed
already), so its length is known before the first byte and each photo is read from the store only when its turn
comes. A download holds one photo in memory at a time, however many it contains.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from zipstream import ZIP_STORED, ZipStream

from photosift.application.context import Services
from photosift.application.photos import require_member_filter
from photosift.application.validation import check_id, check_ids
from photosift.catalog import albums, members, people, photos
from photosift.errors import InvalidInput, NotFound
from photosift.store.base import CHUNK

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')  # not allowed in file names on common systems
_EXTENSIONS = {"image/jpeg": ".jpg", "image/heic": ".heic", "image/png": ".png", "image/webp": ".webp"}


@dataclass(frozen=True)
class Download:
    """A ZIP ready to stream: ``filename`` (of the archive), ``size`` in bytes, ``chunks`` (iterate once)."""

    filename: str
    size: int
    chunks: Iterator[bytes]


def album_download(svc: Services, album_id: str, *, member_id: str | None = None, person_id: str | None = None,
                   photo_ids: Sequence[str] | None = None) -> Download:
    """The ZIP of the album's photos where member ``member_id`` was matched, or where person ``person_id`` was
    grouped, or of the selection ``photo_ids`` (exactly one of the three), in capture-time order; it is named after
    the album and the member ("Jeju trip - Hugo.zip"), the person ("Jeju trip - Person 3.zip") or the number of
    photos ("Jeju trip - 12 photos.zip").

    Raises ``InvalidInput`` for none or several of them, a malformed id or ``member=null``, and ``NotFound`` for a
    member, person or photo the album does not have.
    """
    if sum(v is not None for v in (member_id, person_id, photo_ids)) != 1:
        raise InvalidInput("choose the photos: exactly one of member, person or photo_ids")
    wanted = None
    with svc.catalog.read() as session:
        album = albums.require(session, album_id=album_id)
        if member_id is not None:
            require_member_filter(session, album_id, member_id)
            label = members.names(session, album_id=album_id).get(member_id) or "member"
        elif person_id is not None:
            check_id(person_id, "person")
            number = people.number(session, album_id=album_id, person_id=person_id)
            if number is None:
                raise NotFound(f"no person {person_id!r} in album {album_id!r}")
            label = f"Person {number}"
        else:
            wanted = check_ids(list(photo_ids or []), "photo_ids")
            label = ""  # "<n> photos", once they are found
        chosen = photos.files(session, album_id=album_id, member_id=member_id, person_id=person_id, photo_ids=wanted)
    if wanted is not None and (missing := sorted(set(wanted) - {p.id for p in chosen})):
        raise NotFound(f"album {album_id!r} has no photo {', '.join(map(repr, missing[:5]))}"
                       + (f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""))
    entries = [(p.blob_key, p.size_bytes, name) for p, name in zip(chosen, entry_names(chosen), strict=True)]
    archive = archive_name(album.name, label or f"{len(chosen)} photo{'' if len(chosen) == 1 else 's'}")
    stream = ZipStream(compress_type=ZIP_STORED, sized=True)
    for key, size, name in entries:
        stream.add(_blob_chunks(svc, key), name, size=size)
    return Download(filename=archive, size=len(stream), chunks=iter(stream))


def archive_name(album: str, label: str) -> str:
    """The ZIP's file name: "<album> - <label>.zip" ("Jeju trip - Hugo.zip", "Jeju trip - Person 3.zip"), each part
    made safe (``safe_name``), at most 200 characters with the ``.zip`` kept."""
    label_part = (safe_name(label) or "photos")[:80].rstrip(" .")
    album_part = (safe_name(album) or "album")[: 196 - 3 - len(label_part)].rstrip(" .")
    return f"{album_part} - {label_part}.zip"


def entry_names(files: Sequence[photos.File]) -> list[str]:
    """A file name for each photo: its uploaded name made safe (else ``<id><extension>``), a number added to names
    already taken ("IMG_1.jpg", "IMG_1 (2).jpg"; compared ignoring case, as macOS and Windows do)."""
    taken: set[str] = set()
    names = []
    for photo in files:
        name = safe_name(photo.filename or "") or f"{photo.id}{_extension(photo.content_type)}"
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem:
            stem, ext = name, ""
        candidate, n = name, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})"
        taken.add(candidate.casefold())
        names.append(candidate)
    return names


def safe_name(name: str) -> str:
    """``name`` as a plain file name: its last path part, unsafe characters replaced, at most 200 characters."""
    name = unicodedata.normalize("NFC", re.split(r"[/\\]", name)[-1])
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:200]
    return name


def _extension(content_type: str) -> str:
    return _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ""


def _blob_chunks(svc: Services, key: str) -> Iterator[bytes]:
    """The blob's bytes in ``CHUNK``-sized pieces, read from the store when iteration starts."""
    data = svc.store.get(key)
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        yield bytes(view[start:start + CHUNK])


__all__ = ["Download", "album_download", "archive_name", "entry_names", "safe_name"]
