"""Catalog tables of the Rekognition-compatible endpoint: collections, their indexed faces and user vectors.

Face boxes are stored as AWS ratios of the indexed image's width/height; embeddings as raw little-endian float32
(length = the embedder's dimension). Deleting a collection deletes its faces and users (ON DELETE CASCADE).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from photosift.catalog.base import Base


class RekognitionCollection(Base):
    """A face collection (``CreateCollection``)."""

    __tablename__ = "rekognition_collections"

    collection_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    arn: Mapped[str] = mapped_column(String(512))
    face_model_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RekognitionUser(Base):
    """A user vector in a collection (``CreateUser``); its faces point at it by ``user_id``."""

    __tablename__ = "rekognition_users"

    collection_id: Mapped[str] = mapped_column(
        String(255), ForeignKey("rekognition_collections.collection_id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    client_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RekognitionFace(Base):
    """One indexed face (``IndexFaces``): where it was, how sure the detector was, and its embedding."""

    __tablename__ = "rekognition_faces"
    __table_args__ = (Index("ix_rekognition_faces_collection_user", "collection_id", "user_id"),)

    face_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    collection_id: Mapped[str] = mapped_column(
        String(255), ForeignKey("rekognition_collections.collection_id", ondelete="CASCADE")
    )
    image_id: Mapped[str] = mapped_column(String(36))
    external_image_id: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(128))
    box_left: Mapped[float] = mapped_column(Float)
    box_top: Mapped[float] = mapped_column(Float)
    box_width: Mapped[float] = mapped_column(Float)
    box_height: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
