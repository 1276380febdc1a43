"""Request dependencies: the process's ``Services`` and API-key access control."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import Depends, Request

from photosift.application.context import Services
from photosift.config import Settings
from photosift.errors import AccessDenied


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


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
