"""Request dependencies: the process's ``Services``, API-key access control, and validated path ids."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import Depends, Path, Request

from photosift.application.context import Services
from photosift.application.validation import ID_PATTERN, MAX_ID, check_id
from photosift.config import Settings
from photosift.errors import AccessDenied


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


def check_path_ids(request: Request) -> None:
    """Every path parameter under ``/v1`` is an id: a malformed one is refused (400) before any query runs."""
    for name, value in request.path_params.items():
        check_id(value, name)


def api_keys(settings: Settings) -> list[str]:
    """The configured bearer tokens (``PHOTOSIFT_API_KEYS``, comma-separated)."""
    return [k.strip() for k in settings.api_keys.split(",") if k.strip()]


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (an IP address or ``localhost``) is a loopback address."""
    if not host:
        return False
    if host in ("localhost", "testclient"):  # "testclient": Starlette's in-process TestClient
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_access(request: Request) -> None:
    """With API keys configured: ``Authorization: Bearer <key>`` must name one. Without: loopback clients only."""
    keys = api_keys(request.app.state.settings)
    if not keys:
        client = request.client.host if request.client else None
        if client is not None and not is_loopback(client):
            raise AccessDenied("this server has no API keys configured and accepts loopback clients only")
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not any(hmac.compare_digest(token.strip(), key) for key in keys):
        raise AccessDenied("missing or invalid API key (send Authorization: Bearer <key>)")
