"""One error hierarchy for photosift, and how each error is answered (``REPLIES``: one table for the native API's
HTTP status and the Rekognition endpoint's AWS type and status). The command line exits 2 on any error of a whole
command and 1 when some files could not be used (``photosift.cli.output.EXIT_CODES``).

    PhotosiftError
    ├── InvalidInput            bad request data (parameters, CSV rows, ...)
    │   ├── InvalidImage        not a decodable image (empty, truncated, wrong format)
    │   ├── ImageTooLarge       over the byte or pixel limit (decompression bombs included)
    │   └── FaceModelRetired    a collection's faces were made by a recogniser this server does not run
    ├── NoFaceFound             an operation needs a face and the image has none
    ├── SeveralFaces            a reference photo shows several faces of similar size: the caller must choose
    ├── FaceTooSmall            a face was found but is too small to compare reliably
    │   └── FaceTooBlurred      ... or too blurred (too little detail either way)
    ├── NotFound                an album, photo, member, collection, ... does not exist
    ├── AlreadyExists           a resource with that name/id exists already
    │   └── FaceOfAnotherMember a reference face already matches another member of the album
    ├── AccessDenied            missing or wrong credentials
    │   ├── Forbidden           valid credentials that do not reach this (a share link outside its album)
    │   └── TooManyAttempts     too many sign-ins from this client: wait ``retry_after`` seconds
    ├── Busy                    the server is saturated; try again later
    ├── ModelUnavailable        a model file is missing or differs from its pinned SHA-256 (refuse to start)
    └── StorageError            the blob store or catalog failed (not the caller's fault)
        ├── InsufficientStorage no space left (disk full, quota, a full S3 server)
        └── StoreUnavailable    the store or catalog cannot be reached or read/written right now
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class PhotosiftError(Exception):
    """Base of every error photosift raises on purpose; ``details`` (optional) is structured data for the caller
    (the HTTP API sends it as ``error.details``, e.g. the faces of ``SeveralFaces``)."""

    def __init__(self, *args: object, details: dict[str, Any] | None = None) -> None:
        super().__init__(*args)
        self.details = details


class InvalidInput(PhotosiftError):
    """The caller's input is malformed."""


class InvalidImage(InvalidInput):
    """The bytes are not an image photosift can decode."""


class ImageTooLarge(InvalidInput):
    """The image exceeds the configured byte or pixel limit."""


class FaceModelRetired(InvalidInput):
    """A Rekognition collection holds vectors of another face model version than the running recogniser's: they
    cannot be compared with new ones (the collection must be indexed again)."""


class NoFaceFound(PhotosiftError):
    """No face was detected where one is required."""


class SeveralFaces(PhotosiftError):
    """A reference photo shows several faces of similar size and none was chosen."""


class FaceTooSmall(PhotosiftError):
    """A face was found but is too small to compare reliably."""


class FaceTooBlurred(FaceTooSmall):
    """A face was found but is too blurred to compare reliably (like too small: too little detail)."""


class NotFound(PhotosiftError):
    """The requested resource does not exist."""


class AlreadyExists(PhotosiftError):
    """A resource with the same identifier already exists."""


class FaceOfAnotherMember(AlreadyExists):
    """A reference face matches another member of the album (the same person cannot be two members)."""


class AccessDenied(PhotosiftError):
    """Credentials are missing or wrong."""


class Forbidden(AccessDenied):
    """The credentials are valid but do not reach this resource or action (e.g. a view-only share link writing)."""


class TooManyAttempts(AccessDenied):
    """Too many sign-ins from one client; the next attempt is heard after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Busy(PhotosiftError):
    """The server cannot take more work right now."""


class InvalidSetting(PhotosiftError):
    """A ``PHOTOSIFT_*`` setting of the wrong type or out of range."""


class ModelUnavailable(PhotosiftError):
    """A face model cannot be loaded: its package is not installed, or the file differs from its pinned SHA-256."""


class StorageError(PhotosiftError):
    """The blob store or the catalog failed; the request may succeed later."""


class InsufficientStorage(StorageError):
    """No space is left where photos or the catalog are written (``ENOSPC``, a quota, a full S3 server)."""


class StoreUnavailable(StorageError):
    """The store or catalog cannot be reached, or failed to read or write (S3 connection errors, I/O errors)."""


@dataclass(frozen=True)
class Reply:
    """How an error is answered: ``status`` by the native API (``{"error": {"type": <class name>, ...}}``),
    ``aws_type`` and ``aws_status`` by the Rekognition endpoint (``{"__type", "message"}``)."""

    status: int
    aws_type: str
    aws_status: int = 400

    @property
    def internal(self) -> bool:
        """An error of the server, not of the request: its message is not shown to Rekognition callers."""
        return self.aws_status == 500


REPLIES: dict[type[PhotosiftError], Reply] = {
    PhotosiftError: Reply(500, "InternalServerError", 500),
    InvalidInput: Reply(400, "InvalidParameterException"),
    InvalidImage: Reply(400, "InvalidImageFormatException"),
    ImageTooLarge: Reply(413, "ImageTooLargeException"),
    NoFaceFound: Reply(422, "InvalidParameterException"),
    SeveralFaces: Reply(422, "InvalidParameterException"),
    FaceTooSmall: Reply(422, "InvalidParameterException"),
    NotFound: Reply(404, "ResourceNotFoundException"),
    AlreadyExists: Reply(409, "ResourceAlreadyExistsException"),
    AccessDenied: Reply(401, "AccessDeniedException"),
    Forbidden: Reply(403, "AccessDeniedException"),
    TooManyAttempts: Reply(429, "AccessDeniedException"),
    Busy: Reply(503, "ProvisionedThroughputExceededException"),
    ModelUnavailable: Reply(503, "InternalServerError", 500),
    InvalidSetting: Reply(503, "InternalServerError", 500),  # the server's configuration, read as it starts
    StorageError: Reply(503, "ServiceUnavailableException", 503),  # may succeed later: the AWS SDKs retry a 503
    InsufficientStorage: Reply(507, "ServiceUnavailableException", 503),
    StoreUnavailable: Reply(503, "ServiceUnavailableException", 503),
}
"""Each error class's answer; a class not listed answers as its nearest listed base class."""


def reply_for(exc: PhotosiftError) -> Reply:
    """How ``exc`` is answered (its most specific class in ``REPLIES``)."""
    return next(REPLIES[cls] for cls in type(exc).__mro__ if cls in REPLIES)
