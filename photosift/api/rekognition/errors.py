"""AWS error types of the Rekognition endpoint, and the one table mapping photosift's errors onto them.

Every error leaves the endpoint as HTTP ``status`` with body ``{"__type": code, "message": message}`` and header
``X-Amzn-ErrorType: code`` (what botocore and the AWS SDK for JavaScript v3 parse).
"""

from __future__ import annotations

from photosift import errors


class AwsError(Exception):
    """An error with an AWS error code, message and HTTP status (400 unless stated)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


# photosift error -> AWS error code; the most specific class wins (checked in this order).
ERROR_TABLE: tuple[tuple[type[errors.PhotosiftError], str], ...] = (
    (errors.ImageTooLarge, "ImageTooLargeException"),
    (errors.InvalidImage, "InvalidImageFormatException"),
    (errors.InvalidInput, "InvalidParameterException"),
    (errors.NoFaceFound, "InvalidParameterException"),
    (errors.FaceTooSmall, "InvalidParameterException"),
    (errors.NotFound, "ResourceNotFoundException"),
    (errors.AlreadyExists, "ResourceAlreadyExistsException"),
    (errors.AccessDenied, "AccessDeniedException"),
    (errors.Busy, "ProvisionedThroughputExceededException"),
)

# Where AWS uses a different type for the same situation in one operation.
OPERATION_OVERRIDES: dict[tuple[str, type[errors.PhotosiftError]], str] = {
    ("CreateUser", errors.AlreadyExists): "ConflictException",
}


def to_aws(exc: errors.PhotosiftError, operation: str = "") -> AwsError:
    """The AWS error for a photosift error raised while running ``operation``."""
    for cls in type(exc).__mro__:
        override = OPERATION_OVERRIDES.get((operation, cls))
        if override:
            return AwsError(override, str(exc))
    for cls, code in ERROR_TABLE:
        if isinstance(exc, cls):
            return AwsError(code, str(exc))
    if isinstance(exc, errors.StorageError):  # a full disk or an unreachable store: the SDKs retry a 503
        return AwsError("ServiceUnavailableException", str(exc), 503)
    return AwsError("InternalServerError", "Internal server error", 500)


def invalid_parameter(message: str) -> AwsError:
    """``InvalidParameterException`` with ``message``."""
    return AwsError("InvalidParameterException", message)
