"""AWS JSON 1.1 on ``POST /``: authentication, dispatch on ``X-Amz-Target``, AWS-style replies and errors.

Order of checks, as AWS does it: authentication (SigV4 against ``PHOTOSIFT_AWS_CREDENTIALS``, or loopback callers
only when none are configured), then the operation (``UnknownOperationException``), then the request shape
(``InvalidParameterException``), then the operation itself. Every failure, including unexpected ones, leaves as an
AWS error; the app's own error handlers never see a request of this router.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from photosift.api.deps import is_loopback_client
from photosift.api.rekognition import ops_collections, ops_images, ops_users, shapes, sigv4
from photosift.api.rekognition.context import Context
from photosift.api.rekognition.errors import AwsError, to_aws
from photosift.errors import PhotosiftError

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.1"
TARGET_PREFIX = "RekognitionService"
MAX_BODY_BYTES = 16 * 1024 * 1024  # two 5 MB images, base64-encoded, plus the JSON around them
DEFAULT_REGION = "us-east-1"

Handler = Callable[[Context, dict[str, Any]], Awaitable[dict[str, Any]]]

OPERATIONS: dict[str, Handler] = {
    "DetectFaces": ops_images.detect_faces,
    "CompareFaces": ops_images.compare_faces,
    "CreateCollection": ops_collections.create_collection,
    "DescribeCollection": ops_collections.describe_collection,
    "ListCollections": ops_collections.list_collections,
    "DeleteCollection": ops_collections.delete_collection,
    "IndexFaces": ops_collections.index_faces,
    "ListFaces": ops_collections.list_faces,
    "DeleteFaces": ops_collections.delete_faces,
    "SearchFaces": ops_collections.search_faces,
    "SearchFacesByImage": ops_collections.search_faces_by_image,
    "CreateUser": ops_users.create_user,
    "DeleteUser": ops_users.delete_user,
    "ListUsers": ops_users.list_users,
    "AssociateFaces": ops_users.associate_faces,
    "DisassociateFaces": ops_users.disassociate_faces,
    "SearchUsers": ops_users.search_users,
    "SearchUsersByImage": ops_users.search_users_by_image,
}

router = APIRouter()


@router.post("/", include_in_schema=False)
async def rekognition(request: Request) -> Response:
    """Serve one Rekognition API call (``X-Amz-Target: RekognitionService.<Operation>``)."""
    request_id = str(uuid.uuid4())
    operation = ""
    try:
        body = await _body(request)
        region = _authenticate(request, body)
        target = ",".join(request.headers.getlist("x-amz-target"))  # the value the signature covered, repeats too
        prefix, _, operation = target.rpartition(".")
        handler = OPERATIONS.get(operation) if prefix == TARGET_PREFIX else None
        if handler is None:
            raise AwsError("UnknownOperationException", f"Unknown operation {target[:200]!r}")
        params = shapes.parse_request(operation, body)
        state = request.app.state
        ctx = Context(operation=operation, region=region, settings=state.settings, store=state.store,
                      catalog=state.catalog, engine=state.engine)
        result = await handler(ctx, params)
        return Response(json.dumps(result, allow_nan=False), media_type=CONTENT_TYPE,
                        headers={"x-amzn-RequestId": request_id})
    except AwsError as exc:
        return error_response(exc, request_id)
    except PhotosiftError as exc:
        return error_response(to_aws(exc, operation), request_id)
    except Exception:
        log.exception("Rekognition %s failed (request %s)", operation or "call", request_id)
        return error_response(AwsError("InternalServerError", "Internal server error", 500), request_id)


def error_response(error: AwsError, request_id: str) -> Response:
    """The AWS JSON 1.1 error reply: ``{"__type", "message"}`` plus ``X-Amzn-ErrorType``."""
    body = json.dumps({"__type": error.code, "message": error.message})
    return Response(body, status_code=error.status, media_type=CONTENT_TYPE,
                    headers={"x-amzn-RequestId": request_id, "x-amzn-ErrorType": error.code})


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 12 or int(declared) > MAX_BODY_BYTES):
        raise AwsError("ImageTooLargeException", f"Request body exceeds {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise AwsError("ImageTooLargeException", f"Request body exceeds {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _authenticate(request: Request, body: bytes) -> str:
    """Verify the caller; return the region to report (the signature's, or ``us-east-1``)."""
    settings = request.app.state.settings
    try:
        secrets = sigv4.parse_credentials(getattr(settings, "aws_credentials", "") or "")
    except ValueError as exc:
        log.error("%s", exc)
        raise AwsError("AccessDeniedException", "The server's AWS credentials are misconfigured") from exc
    if not secrets:
        if not is_loopback_client(request):
            raise AwsError("AccessDeniedException", "No AWS credentials are configured on this server "
                           "(PHOTOSIFT_AWS_CREDENTIALS); only loopback clients are accepted")
        return sigv4.region_hint(request.headers) or DEFAULT_REGION
    caller = sigv4.verify(
        method=request.method,
        path=request.url.path,
        query=request.url.query,
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
        body=body,
        secrets=secrets,
    )
    return caller.region


