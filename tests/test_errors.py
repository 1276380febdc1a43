"""Every typed error answers by one table (``photosift.errors.REPLIES``): the native API's status and the
Rekognition endpoint's AWS type agree on whose fault it is, and no request error reads as a server failure."""

from __future__ import annotations

import inspect

from photosift import errors
from photosift.api.errors import status_of
from photosift.api.rekognition.errors import to_aws

SERVER_SIDE = {errors.PhotosiftError, errors.Busy, errors.ModelUnavailable, errors.InvalidSetting, errors.StorageError,
               errors.InsufficientStorage, errors.StoreUnavailable}


def _error_classes() -> list[type[errors.PhotosiftError]]:
    return [cls for _, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, errors.PhotosiftError)]


def test_each_error_class_answers_by_the_table() -> None:
    for cls in _error_classes():
        exc = cls("message", retry_after=1) if cls is errors.TooManyAttempts else cls("message")
        reply = errors.reply_for(exc)
        aws = to_aws(exc)
        assert (status_of(exc), aws.code, aws.status) == (reply.status, reply.aws_type, reply.aws_status), cls
        if cls is errors.Busy:  # AWS throttles with a 400 of this type, which its SDKs retry
            assert (reply.status, aws.code, aws.status) == (503, "ProvisionedThroughputExceededException", 400)
        elif cls in SERVER_SIDE:
            assert reply.status >= 500 and aws.status >= 500, cls
        else:  # the caller's request: 4xx everywhere, with the message it needs
            assert 400 <= reply.status < 500 and aws.status == 400 and aws.message == "message", cls


def test_subclasses_answer_as_their_nearest_listed_class() -> None:
    assert errors.reply_for(errors.FaceTooBlurred("x")) == errors.REPLIES[errors.FaceTooSmall]
    assert errors.reply_for(errors.FaceOfAnotherMember("x")) == errors.REPLIES[errors.AlreadyExists]
    assert errors.reply_for(errors.FaceModelRetired("x")).aws_type == "InvalidParameterException"
    assert to_aws(errors.ModelUnavailable("model file altered")).message == "Internal server error"
