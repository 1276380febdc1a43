"""Request dependencies: the process's ``Services``, who the request acts as (``Principal``) and what it reaches,
and validated path ids.

Access is decided once for every ``/v1`` route, by the router's dependencies, in this order:
1. ``require_access`` resolves the ``Principal`` (401 without valid credentials): without API keys every loopback
   client is the owner; with keys, ``Authorization: Bearer <API key>`` is the owner, ``Bearer <share token>`` a
   share, and the session cookie (``SESSION_COOKIE``) whoever signed in. A write authenticated by the cookie must
   come from the app's own page (``Origin`` or ``Sec-Fetch-Site: same-origin``; the Origin itself is checked by
   ``RequestGuard``), on top of the cookie's ``SameSite=Lax``.
2. ``check_path_ids``: every path parameter is a well-formed id (400).
3. ``check_scope``: a share reaches only routes with its album's ``album_id`` in the path, or a ``photo_id`` of that
   album (another album's is 404, as if it did not exist; routes without either, such as the album list, are 403).
   Reading is allowed; a write needs a share with ``can_upload`` and a route marked ``SHARE_CONTRIBUTE``; a route
   marked ``OWNER_ONLY`` is 403 for every share. New routes are thus owner-only for writes until marked.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from photosift.application import access
from photosift.application.access import OwnerCredentials, Principal
from photosift.application.context import Services
from photosift.application.validation import ID_PATTERN, MAX_ID, check_id
from photosift.config import Settings
from photosift.errors import AccessDenied, Forbidden, NotFound

SESSION_COOKIE = "photosift_session"
SECURE_SESSION_COOKIE = "__Host-photosift_session"  # the name over HTTPS: the browser binds it to this host
SHARE_ACCESS = "x-share-access"  # the OpenAPI extension that marks what a share link may do on a route
SHARE_CONTRIBUTE: dict[str, Any] = {SHARE_ACCESS: "contribute"}  # writes open to shares with can_upload
OWNER_ONLY: dict[str, Any] = {SHARE_ACCESS: "owner"}  # no share may use the route, not even to read
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]

AlbumId = Annotated[str, Path(pattern=ID_PATTERN, max_length=MAX_ID, description="an album id")]
MemberId = Annotated[str, Path(pattern=ID_PATTERN, max_length=MAX_ID, description="a member id")]
PersonId = Annotated[str, Path(pattern=ID_PATTERN, max_length=MAX_ID,
                               description="a person id, or 'unknown' for the faces that fit nobody")]
FaceId = Annotated[str, Path(pattern=ID_PATTERN, max_length=MAX_ID, description="a face id")]
PhotoId = Annotated[str, Path(pattern=ID_PATTERN, max_length=MAX_ID, description="a photo id")]
ReferenceId = Annotated[str, Path(pattern=ID_PATTERN, max_length=MAX_ID, description="a reference photo's id")]
ShareId = Annotated[str, Path(pattern=ID_PATTERN, max_length=MAX_ID, description="a share link's id")]


def check_path_ids(request: Request) -> None:
    """Every path parameter under ``/v1`` is an id: a malformed one is refused (400) before any query runs."""
    for name, value in request.path_params.items():
        check_id(value, name)


def api_keys(settings: Settings) -> list[str]:
    """The configured bearer tokens (``PHOTOSIFT_API_KEYS``, comma-separated)."""
    return [k.strip() for k in settings.api_keys.split(",") if k.strip()]


def is_loopback_name(host: str | None) -> bool:
    """Whether ``host`` (a name or an IP address, IPv6 with or without brackets: a ``Host`` header's, the address
    to listen on) is ``localhost`` or a loopback address (``127.0.0.1``, ``::1``, ...)."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_client(request: Request) -> bool:
    """Whether ``request`` comes from this machine: its peer's address is a loopback address (``testclient``:
    Starlette's in-process TestClient)."""
    client = request.client.host if request.client else None
    return client == "testclient" or is_loopback_name(client)


def owner_credentials(request: Request) -> OwnerCredentials:
    """The owner's keys and password hash, read from settings once per application."""
    state = request.app.state
    if getattr(state, "owner_credentials", None) is None:
        state.owner_credentials = OwnerCredentials(state.settings)
    return state.owner_credentials


def session_token(request: Request) -> str | None:
    """The session cookie's token, if the request carries one."""
    return request.cookies.get(SECURE_SESSION_COOKIE) or request.cookies.get(SESSION_COOKIE) or None


def resolve_principal(request: Request) -> Principal:
    """Who the request acts as (see the module docstring); raises ``AccessDenied`` (401). Cached per request."""
    if (cached := getattr(request.state, "principal", None)) is not None:
        return cached
    principal = _resolve(request)
    request.state.principal = principal
    return principal


def _resolve(request: Request) -> Principal:
    owner = owner_credentials(request)
    if owner.keyless:
        if request.client is not None and not is_loopback_client(request):
            raise AccessDenied("this server has no API keys configured and accepts loopback clients only")
        return Principal(role="owner", via="loopback")
    svc: Services = request.app.state.services
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AccessDenied("send Authorization: Bearer <API key or share token>")
        if owner.key_fingerprint(token) is not None:
            return Principal(role="owner", via="key")
        if len(token) <= 200 and (share := access.principal_for_token(svc, token)) is not None:
            return share
        raise AccessDenied("invalid API key or share token (or the share link was revoked or has expired)")
    if (cookie := session_token(request)) is not None:
        if len(cookie) <= 200 and (principal := access.principal_for_session(svc, cookie, owner)) is not None:
            return principal
        raise AccessDenied("the session has ended (signed out, expired, or its share link was revoked): sign in "
                           "again")
    raise AccessDenied("sign in, or send Authorization: Bearer <API key or share token>")


PrincipalDep = Annotated[Principal, Depends(resolve_principal)]


def require_access(request: Request) -> None:
    """The request's ``Principal`` must resolve (401 otherwise); a write authenticated by the session cookie must come
    from a page of this app (403 otherwise)."""
    principal = resolve_principal(request)
    if principal.via == "session" and request.method not in SAFE_METHODS and not _from_own_page(request):
        raise Forbidden("a write with a session cookie must come from this app's page (Origin or Sec-Fetch-Site)")


def _from_own_page(request: Request) -> bool:
    # RequestGuard has already refused a foreign Origin and Sec-Fetch-Site: cross-site; browsers send one of them
    # with every fetch or form that writes.
    fetch_site = request.headers.get("sec-fetch-site", "").strip().lower()
    return "origin" in request.headers or fetch_site == "same-origin"


def check_scope(request: Request) -> None:
    """What a share link's holder may reach (see the module docstring); the owner reaches everything."""
    principal = resolve_principal(request)
    if principal.is_owner:
        return
    route = request.scope.get("route")
    marker = (getattr(route, "openapi_extra", None) or {}).get(SHARE_ACCESS)
    if marker == OWNER_ONLY[SHARE_ACCESS]:
        raise Forbidden("only the album's owner can do this; a share link cannot")
    params = request.path_params
    album_id = params.get("album_id")
    if album_id is None and "photo_id" in params:
        album_id = access.album_of_photo(request.app.state.services, params["photo_id"])
        if album_id != principal.album_id:
            raise NotFound(f"no photo {params['photo_id']!r}")
    if album_id is None:
        raise Forbidden(f"a share link reaches its own album only (/v1/albums/{principal.album_id})")
    if album_id != principal.album_id:
        raise NotFound(f"no album {album_id!r}")
    if request.method in SAFE_METHODS:
        return
    if marker != SHARE_CONTRIBUTE[SHARE_ACCESS]:
        raise Forbidden("only the album's owner can do this; a share link cannot")
    if not principal.can_upload:
        raise Forbidden("this share link is view-only: it cannot add or change anything")
