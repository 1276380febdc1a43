"""One JSON error shape for every native 4xx/5xx: ``{"error": {"type": ..., "message": ...}}``; no stack traces.

Typed errors answer with the status ``photosift.errors.REPLIES`` gives them. Requests of the Rekognition-compatible
``POST /`` are left to that router's own AWS-style formatting (``photosift.api.rekognition.error_response`` when it
provides one).
"""

from __future__ import annotations

import json
import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from photosift import errors
from photosift.store.failures import storage_failure

log = logging.getLogger("photosift.api")

_HTTP_TYPES = {400: "InvalidInput", 401: "AccessDenied", 403: "AccessDenied", 404: "NotFound",
               405: "MethodNotAllowed", 409: "AlreadyExists", 413: "RequestTooLarge", 415: "InvalidInput",
               422: "InvalidInput", 429: "Busy", 503: "Busy", 507: "InsufficientStorage"}


def status_of(exc: errors.PhotosiftError) -> int:
    """The HTTP status of a typed error (``photosift.errors.REPLIES``)."""
    return errors.reply_for(exc).status


def error_body(type_: str, message: str, details: dict | None = None) -> dict:
    """The native error shape; ``details`` (structured data of the error, when it has some) only when present."""
    body: dict = {"type": type_, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def error_response(status: int, type_: str, message: str, headers: dict[str, str] | None = None,
                   details: dict | None = None) -> JSONResponse:
    return JSONResponse(error_body(type_, message, details), status_code=status, headers=headers)


def is_rekognition(scope: Scope) -> bool:
    """A call of the Rekognition-compatible endpoint (``POST /`` with ``X-Amz-Target``)."""
    return (scope.get("method") == "POST" and scope.get("path") == "/"
            and any(k == b"x-amz-target" for k, _ in scope.get("headers", ())))


def error_reply(scope: Scope, status: int, type_: str, message: str, aws_type: str) -> Response:
    """An error response for a request outside the routes' handlers (middleware): the AWS JSON 1.1 shape
    (``aws_type``) for Rekognition calls, the native shape (``type_``) otherwise."""
    if is_rekognition(scope):
        return Response(json.dumps({"__type": aws_type, "message": message}), status_code=status,
                        media_type="application/x-amz-json-1.1",
                        headers={"x-amzn-RequestId": str(uuid.uuid4()), "x-amzn-ErrorType": aws_type})
    return error_response(status, type_, message)


def _foreign(request: Request, exc: Exception) -> Response | None:
    """The Rekognition router's own error response for its requests, when it formats errors itself."""
    if request.method != "POST" or request.url.path != "/":
        return None
    try:
        from photosift.api import rekognition
    except ImportError:
        return None
    formatter = getattr(rekognition, "error_response", None)
    return formatter(exc) if callable(formatter) else None


async def _photosift_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.PhotosiftError)
    return typed_error_response(request, exc)


def typed_error_response(request: Request, exc: errors.PhotosiftError) -> Response:
    """The response of a typed error (its status, the native shape, ``WWW-Authenticate`` on 401)."""
    if (foreign := _foreign(request, exc)) is not None:
        return foreign
    status = status_of(exc)
    if status >= 500:
        log.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
    headers = {"Retry-After": "2"} if status == 503 else None
    if isinstance(exc, errors.TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after)}
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return error_response(status, type(exc).__name__, str(exc) or type(exc).__name__, headers,
                          getattr(exc, "details", None))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if (typed := storage_failure(exc.__cause__)) is not None:  # e.g. the disk filled while spooling an upload
        return await _photosift_error(request, typed)
    if (foreign := _foreign(request, exc)) is not None:
        return foreign
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return error_response(exc.status_code, _HTTP_TYPES.get(exc.status_code, "Error"), message,
                          dict(exc.headers) if exc.headers else None)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if (foreign := _foreign(request, exc)) is not None:
        return foreign
    parts = []
    for item in exc.errors():
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return error_response(400, "InvalidInput", "; ".join(parts) or "invalid request")


async def _internal_error(request: Request, exc: Exception) -> Response:
    if (typed := storage_failure(exc)) is not None:  # a full disk or an unreachable catalog is not a bug
        return await _photosift_error(request, typed)
    if (foreign := _foreign(request, exc)) is not None:
        return foreign
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "InternalError", "internal server error")


class CatchAll:
    """ASGI middleware: an unexpected exception becomes a JSON 500 (AWS shape for Rekognition calls) answered like
    any response, so the server keeps the connection. (Starlette's last-resort handler re-raises after answering,
    and uvicorn then closes the connection.) After a response has started, only closing it can tell the client."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                raise
            if (typed := storage_failure(exc)) is not None:  # a full disk or an unreachable catalog: 507 / 503
                log.error("%s on %s %s: %s", type(typed).__name__, scope.get("method"), scope.get("path"), typed)
                await error_reply(scope, status_of(typed), type(typed).__name__, str(typed), "InternalServerError")(
                    scope, receive, send)
                return
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            await error_reply(scope, 500, "InternalError", "internal server error", "InternalServerError")(
                scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Register the native error handlers on ``app``, and ``CatchAll`` for the unexpected."""
    app.add_exception_handler(errors.PhotosiftError, _photosift_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _internal_error)  # last resort, for errors outside CatchAll
    app.add_middleware(CatchAll)
