"""ASGI middleware around the whole app (web UI, ``/v1`` and the Rekognition ``POST /``).

- ``RequestGuard``: without API keys, only requests whose ``Host`` names a loopback address (and the server's port,
  or none) are served (421 otherwise: a DNS-rebinding page names its own host). In every mode, a state-changing
  request (POST, PUT, PATCH, DELETE) from a browser page of another origin (``Origin`` other than the request's own,
  or ``Sec-Fetch-Site: cross-site``) is refused (403) unless that origin is in ``PHOTOSIFT_ALLOWED_ORIGINS``.
  Requests without ``Origin`` (curl, SDKs) pass. A NUL byte in the path or query is refused (400), and so is a body
  over ``MAX_BODY_BYTES`` sent to ``/v1`` other than a multipart upload (413).
- ``UploadGate``: a multipart upload to ``/v1`` is authenticated before its body is read (FastAPI reads a body before
  the routes' dependencies run), so a client without valid credentials cannot make the server spool files; and its
  body is capped at ``max_files_per_request`` files of ``max_upload_bytes`` (413 beyond).
- With API keys, the Rekognition endpoint serves SigV4-signed requests only: without ``PHOTOSIFT_AWS_CREDENTIALS``
  it refuses every call (a keyed server is meant to be reached from elsewhere, often through a reverse proxy on the
  same machine, where every client would look local), and a ``Bearer`` credential (an API key or a share link's
  token) is refused there in every case (403 ``AccessDeniedException``).

Refusals of Rekognition requests (``POST /`` with ``X-Amz-Target``) carry the AWS error shape.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from photosift.api.deps import is_loopback_name, require_access
from photosift.api.errors import error_reply, is_rekognition, typed_error_response
from photosift.config import Settings
from photosift.errors import PhotosiftError

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_BODY_BYTES = 1 << 20  # JSON bodies of the native API (the largest, 1000 face ids, is about 30 KB)
PART_OVERHEAD = 1 << 20  # per file of an upload: its part headers, and room for the form's other fields
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def split_host(value: str) -> tuple[str, int | None] | None:
    """``("host", port)`` of a ``Host`` header value (``[::1]:8000`` -> ``("::1", 8000)``); ``None`` if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return None
        port = rest[1:]
    else:
        host, _, port = value.partition(":")
        if ":" in port:
            return None
    if not host:
        return None
    if not port:
        return host, None
    if not port.isascii() or not port.isdigit() or len(port) > 5:
        return None
    return host, int(port)


def parse_origins(value: str) -> frozenset[str]:
    """The normalised origins of a comma-separated list (``PHOTOSIFT_ALLOWED_ORIGINS``)."""
    return frozenset(o for o in (normal_origin(v) for v in value.split(",")) if o)


def normal_origin(value: str) -> str | None:
    """``scheme://host:port`` (lowercase, explicit port) of an origin or URL; ``None`` when it has no host."""
    try:
        parts = urlsplit(value.strip().lower())
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}:{port}" if port else f"{parts.scheme}://{host}"


def same_origin(origin: str, host_header: str | None) -> bool:
    """Whether ``origin`` names the host and port the request was sent to (its ``Host``), in the origin's scheme.

    Comparing host and port (not the scheme the server sees) keeps pages served over HTTPS by a reverse proxy that
    forwards ``Host`` working."""
    if not host_header or (host := split_host(host_header)) is None:
        return False
    try:
        parts = urlsplit(origin.strip().lower())
        origin_port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    if not parts.hostname:
        return False
    return (parts.hostname, origin_port) == (host[0], host[1] or _DEFAULT_PORTS.get(parts.scheme))


class RequestGuard:
    """Refuses foreign ``Host`` values (keyless mode), cross-origin writes and NUL bytes in the URL."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.keyless = not any(k.strip() for k in settings.api_keys.split(","))
        self.allowed_origins = parse_origins(settings.allowed_origins)
        self.signed_rekognition = bool(settings.aws_credentials.strip())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (response := self.check(scope)) is not None:
            await response(scope, receive, send)
            return
        if _limited_body(scope):
            receive = _counting(receive, MAX_BODY_BYTES, _TOO_LARGE)
        await self.app(scope, receive, send)

    def check(self, scope: Scope) -> Response | None:
        """The refusal for this request, or ``None`` to serve it."""
        headers = Headers(scope=scope)
        host = headers.get("host")
        if self.keyless and not self._loopback_host(host, scope):
            return error_reply(scope, 421, "MisdirectedRequest",
                           f"this server has no API keys and answers only requests addressed to a loopback host "
                           f"(127.0.0.1, [::1] or localhost), not {host!r}", "AccessDeniedException")
        if scope.get("method", "GET") in UNSAFE_METHODS and self._cross_origin(headers, host):
            return error_reply(scope, 403, "AccessDenied",
                           f"cross-origin request from {headers.get('origin') or 'another site'} refused "
                           "(add the origin to PHOTOSIFT_ALLOWED_ORIGINS to allow it)", "AccessDeniedException")
        if not self.keyless and is_rekognition(scope) and (refusal := self._rekognition_refusal(headers)):
            return error_reply(scope, 403, "AccessDenied", refusal, "AccessDeniedException")
        if _limited_body(scope) and _declared_length(headers) > MAX_BODY_BYTES:
            return error_reply(scope, 413, "RequestTooLarge", _TOO_LARGE, "InvalidParameterException")
        if "\x00" in scope.get("path", "") or b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
            return error_reply(scope, 400, "InvalidInput", "NUL bytes are not allowed in the URL",
                           "InvalidParameterException")
        return None

    @staticmethod
    def _loopback_host(host_header: str | None, scope: Scope) -> bool:
        host = split_host(host_header) if host_header else None
        if host is None or not is_loopback_name(host[0]):
            return False
        server = scope.get("server")
        return host[1] is None or not server or server[1] is None or host[1] == server[1]

    def _rekognition_refusal(self, headers: Headers) -> str | None:
        """Why a Rekognition call to a server with API keys is refused, or ``None`` to let SigV4 decide."""
        if not self.signed_rekognition:
            return ("this server has API keys, so its Rekognition endpoint accepts only signed requests: set "
                    "PHOTOSIFT_AWS_CREDENTIALS")
        if headers.get("authorization", "").strip().lower().startswith("bearer"):
            return "API keys and share links do not reach the Rekognition endpoint: sign the request (SigV4)"
        return None

    def _cross_origin(self, headers: Headers, host: str | None) -> bool:
        origin = headers.get("origin")
        if origin is not None:
            if normal_origin(origin) in self.allowed_origins:
                return False
            if not same_origin(origin, host):
                return True
        return headers.get("sec-fetch-site", "").strip().lower() == "cross-site"


class UploadGate:
    """Multipart uploads to ``/v1``: credentials checked before the body is read, and the body's size capped."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_bytes = settings.max_files_per_request * (settings.max_upload_bytes + PART_OVERHEAD)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_upload(scope):
            await self.app(scope, receive, send)
            return
        too_large = f"an upload's body is limited to {self.max_bytes} bytes (send the files in several requests)"
        if _declared_length(Headers(scope=scope)) > self.max_bytes:
            await error_reply(scope, 413, "RequestTooLarge", too_large, "InvalidParameterException")(
                scope, receive, send)
            return
        request = Request(scope)  # shares scope["state"]: the routes reuse the principal resolved here
        try:
            await run_in_threadpool(require_access, request)
        except PhotosiftError as exc:
            await typed_error_response(request, exc)(scope, receive, send)
            return
        await self.app(scope, _counting(receive, self.max_bytes, too_large), send)


_TOO_LARGE = f"the request body is over {MAX_BODY_BYTES} bytes"


def _is_upload(scope: Scope) -> bool:
    """A request to ``/v1`` with a multipart body."""
    content_type = Headers(scope=scope).get("content-type", "")
    return scope.get("path", "").startswith("/v1/") and content_type.lower().startswith("multipart/form-data")


def _limited_body(scope: Scope) -> bool:
    """A request to ``/v1`` whose body is not a multipart upload (those are capped by ``UploadGate``)."""
    return scope.get("path", "").startswith("/v1/") and not _is_upload(scope)


def _declared_length(headers: Headers) -> int:
    value = headers.get("content-length", "")
    return int(value) if value.isascii() and value.isdigit() else 0


def _counting(receive: Receive, limit: int, message: str) -> Receive:
    """``receive`` that raises an HTTP 413 (``message``) once the body passes ``limit`` bytes (chunked bodies)."""
    total = 0

    async def counted() -> Message:
        nonlocal total
        received = await receive()
        if received["type"] == "http.request":
            total += len(received.get("body", b""))
            if total > limit:
                raise HTTPException(413, message)
        return received

    return counted
