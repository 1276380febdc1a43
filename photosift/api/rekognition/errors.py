"""AWS error types of the Rekognition endpoint; photosift's errors map onto them by ``photosift.errors.REPLIES``.

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
    reply = errors.reply_for(exc)
    return AwsError(reply.aws_type, "Internal server error" if reply.internal else str(exc), reply.aws_status)


def invalid_parameter(message: str) -> AwsError:
    """``InvalidParameterException`` with ``message``."""
    return AwsError("InvalidParameterException", message)
