"""Tables of the native service: albums, members and their reference photos, photos, faces, people, jobs, events.

Ids are 20-character lowercase hex strings that sort by creation time (``new_id``), so ``ORDER BY id`` is
creation order and a page cursor is simply the last id seen. Times are UTC. Face boxes are
``(left, top, width, height)`` in pixels of the upright original photo. Embeddings are float32 vectors stored as
raw bytes (``numpy.ndarray.tobytes``); each records its ``recognizer`` (``photosift.faces.EMBEDDER`` when it was
made), and vectors of two recognisers are never compared. Every write sets it explicitly: a row left without one
is an error (``recognizer_required``), not silently marked as some recogniser.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, MappedColumn, mapped_column, relationship

from photosift.catalog.base import Base

ID_LENGTH = 20


_id_lock = threading.Lock()
_last_micros = 0


def new_id() -> str:
    """A time-sortable id: 14 hex digits of microseconds since the epoch (strictly increasing within a process),
    then 6 random hex digits (unique across processes)."""
    global _last_micros
    with _id_lock:
        _last_micros = max(time.time_ns() // 1000, _last_micros + 1)
        micros = _last_micros
    return f"{micros:014x}{os.urandom(3).hex()}"


def utcnow() -> datetime:
    return datetime.now(UTC)


RETIRED_RECOGNIZER = "facenet+dlib"
"""The recogniser of releases before vectors recorded theirs: what migration 0009 marks every older row with."""


def recognizer_required() -> str:
    """Insert default of ``recognizer`` columns: refuses the insert (each write names the recogniser it used)."""
    raise ValueError("a stored vector needs its recognizer (photosift.faces.EMBEDDER); none was set")


def recognizer_column() -> MappedColumn[str]:
    """The ``recognizer`` of a row's vector (``String(40)``; the database's default marks pre-0009 rows)."""
    return mapped_column(String(40), server_default=RETIRED_RECOGNIZER, default=recognizer_required)


VECTOR_DTYPE = np.dtype("<f4")  # how every stored vector is encoded: little-endian float32, whatever the machine


def vector_to_bytes(vector: Any) -> bytes:
    """A vector as the bytes the catalog stores (``VECTOR_DTYPE``, flattened)."""
    return np.asarray(vector, dtype=VECTOR_DTYPE).reshape(-1).tobytes()


def bytes_to_vector(data: bytes) -> np.ndarray:
    """The inverse of ``vector_to_bytes`` (a read-only view of ``data``)."""
    return np.frombuffer(data, dtype=VECTOR_DTYPE)


class PhotoStatus:
    """Values of ``Photo.status``."""

    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


class JobStatus:
    """Values of ``Job.status``."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


UNFINISHED_JOBS = "status IN ('queued', 'running')"


class Album(Base):
    __tablename__ = "albums"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)  # None = application.matching.ALBUM_THRESHOLD
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    members: Mapped[list[Member]] = relationship(back_populates="album", cascade="all, delete-orphan",
                                                 passive_deletes=True)


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("album_id", "name"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    album_id: Mapped[str] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    template: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    recognizer: Mapped[str] = recognizer_column()  # the template's (a template of no reference: any)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    album: Mapped[Album] = relationship(back_populates="members")
    references: Mapped[list[Reference]] = relationship(
        back_populates="member", cascade="all, delete-orphan", passive_deletes=True, order_by="Reference.id"
    )


class Reference(Base):
    """One reference photo of a member: its blob and the embedding of its largest face."""

    __tablename__ = "member_references"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    album_id: Mapped[str] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"), index=True)
    blob_key: Mapped[str] = mapped_column(String(200), index=True)
    filename: Mapped[str | None] = mapped_column(String(500), nullable=True)
    box: Mapped[list[int]] = mapped_column(JSON)
    confidence: Mapped[float] = mapped_column(Float)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    recognizer: Mapped[str] = recognizer_column()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    member: Mapped[Member] = relationship(back_populates="references")


class Photo(Base):
    __tablename__ = "photos"
    __table_args__ = (
        UniqueConstraint("album_id", "sha256"),
        Index("ix_photos_album_status", "album_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    album_id: Mapped[str] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"), index=True)
    blob_key: Mapped[str] = mapped_column(String(200), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(500), nullable=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=PhotoStatus.PENDING)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sharpness: Mapped[float | None] = mapped_column(Float, nullable=True)
    blurry: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    blur_region: Mapped[str | None] = mapped_column(String(40), nullable=True)
    face_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    analysed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # When it was taken (UTC; a camera time without a recorded UTC offset is kept as if it were UTC), from EXIF
    # (taken_at_source "exif", taken_at_offset its UTC offset in minutes when recorded) or the upload ("upload").
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    taken_at_offset: Mapped[int | None] = mapped_column(Integer, nullable=True)
    taken_at_source: Mapped[str | None] = mapped_column(String(10), nullable=True)

    faces: Mapped[list[Face]] = relationship(
        back_populates="photo", cascade="all, delete-orphan", passive_deletes=True, order_by="Face.position"
    )


CONFIRMED = {"sqlite": "person_pinned IS 1 AND member_id IS NOT NULL",
             "postgresql": "person_pinned IS true AND member_id IS NOT NULL"}
"""A face a user gave a member (``this is <member>``), as each database's planner recognises it in a query."""


class Face(Base):
    """A face found in a photo, with the member it matched (``member_id``/``similarity``) or none (unknown)."""

    __tablename__ = "faces"
    __table_args__ = (
        UniqueConstraint("photo_id", "position"),
        Index("ix_faces_album_member", "album_id", "member_id"),
        Index("ix_faces_recognizer_album", "recognizer", "album_id"),
        # the faces users gave a member, read with every analysed photo (``matching.load_templates``)
        Index("ix_faces_confirmed", "album_id", "member_id", sqlite_where=text(CONFIRMED["sqlite"]),
              postgresql_where=text(CONFIRMED["postgresql"])),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    photo_id: Mapped[str] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"))
    album_id: Mapped[str] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # order within the photo, as the engine returned the faces
    left: Mapped[int] = mapped_column(Integer)
    top: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float)
    landmarks: Mapped[list[list[float]]] = mapped_column(JSON)
    pose: Mapped[dict[str, float]] = mapped_column(JSON)
    sharpness: Mapped[float] = mapped_column(Float)
    brightness: Mapped[float] = mapped_column(Float)
    # ``FaceQuality.relative_blur``; None for faces stored before it was measured (revision 0010)
    relative_blur: Mapped[float | None] = mapped_column(Float, nullable=True)
    # ``FaceQuality.size`` (px, in the pixels the face was analysed in); revision 0017 gave stored faces theirs from
    # their photo's size; None where that is unknown
    analysed_size: Mapped[float | None] = mapped_column(Float, nullable=True)
    too_small: Mapped[bool] = mapped_column(Boolean, default=False)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    recognizer: Mapped[str] = recognizer_column()
    member_id: Mapped[str | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), nullable=True,
                                                  index=True)
    similarity: Mapped[float | None] = mapped_column(Float, nullable=True)
    # People grouping (photosift.application.grouping): the person of a face no member matched, None = unknown.
    person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), nullable=True,
                                                  index=True)
    # The user placed this face (in ``person_id``, in ``member_id``, or unknown when both are None): neither
    # grouping nor member re-matching moves it again.
    person_pinned: Mapped[bool] = mapped_column(Boolean, default=False)

    photo: Mapped[Photo] = relationship(back_populates="faces")

    @property
    def box(self) -> list[int]:
        return [self.left, self.top, self.width, self.height]


class Rejection(Base):
    """A correction "this face is not <member>": evidence against the member for this face and faces like it.

    The face's embedding is copied, so the evidence outlives a re-analysis of the photo (which replaces its faces).
    Re-embedding the album copies the face's new vector; a rejection whose face is gone keeps its old recogniser's
    vector, which is then never compared again.
    """

    __tablename__ = "rejections"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    album_id: Mapped[str] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    face_id: Mapped[str | None] = mapped_column(ForeignKey("faces.id", ondelete="SET NULL"), nullable=True,
                                                index=True)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    recognizer: Mapped[str] = recognizer_column()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Person(Base):
    """A group of faces of one unnamed person of an album (naming a person makes it a member).

    ``number`` labels it ("Person 3") and never changes; ``hidden`` people are left out of the people list (their
    faces still join them, so a stranger hidden once stays hidden).
    """

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("album_id", "number"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    album_id: Mapped[str] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Job(Base):
    """A unit of background work. ``kind``: ``analyze`` (one photo), ``match`` (re-match one album's faces) or
    ``reembed`` (re-embed one album's faces and reference photos with the running recogniser).

    A worker claims a queued job (status ``running``, ``attempts`` + 1, ``lease_until``); a job whose worker died is
    queued again at the next start or once its lease expires. After ``max_attempts`` failures it is ``failed``.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_id", "status", "id"),
                      Index("ix_jobs_unfinished", "id", postgresql_where=text(UNFINISHED_JOBS),
                            sqlite_where=text(UNFINISHED_JOBS)),  # what workers claim from, however many are done
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    album_id: Mapped[str] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"), index=True)
    photo_id: Mapped[str | None] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), nullable=True,
                                                 index=True)
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Event(Base):
    """An album's event log, streamed as Server-Sent Events; ``id`` is the SSE event id (monotonic, signed 64-bit:
    BIGINT on PostgreSQL, SQLite's INTEGER key)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_album_id", "album_id", "id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    album_id: Mapped[str] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


__all__ = [
    "RETIRED_RECOGNIZER", "Album", "Event", "Face", "Job", "JobStatus", "Member", "Person", "Photo", "PhotoStatus",
    "Reference", "Rejection", "bytes_to_vector", "new_id", "recognizer_required", "utcnow", "vector_to_bytes",
]


class Share(Base):
    """A share link of one album: whoever holds its token reaches that album only (``can_upload``: and may add
    photos and members). Only the token's SHA-256 is stored; deleting the row revokes the link and its sessions."""

    __tablename__ = "shares"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    album_id: Mapped[str] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    can_upload: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AccessSession(Base):
    """A browser session (the cookie's token, stored as its SHA-256): the owner's after signing in (``share_id``
    None; ``credential`` fingerprints the key or password used, so removing that key ends the session), or a share
    link's visitor's (``share_id``; revoking the share deletes it)."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    share_id: Mapped[str | None] = mapped_column(ForeignKey("shares.id", ondelete="CASCADE"), nullable=True,
                                                 index=True)
    credential: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
