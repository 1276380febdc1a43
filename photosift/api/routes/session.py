"""``/v1/session``: sign in (an API key, the owner password, or a share link's token) for a browser session cookie;
who am I; sign out. Mounted without the ``/v1`` access rule: these routes are how a browser gets access."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from photosift.api import schemas
from photosift.api.deps import (
    SECURE_SESSION_COOKIE,
    SESSION_COOKIE,
    ServicesDep,
    owner_credentials,
    resolve_principal,
    session_token,
)
from photosift.application import access
from photosift.errors import AccessDenied, InvalidInput

router = APIRouter(tags=["session"])


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: str | None = Field(default=None, min_length=1, max_length=1000,
                               description="an API key (PHOTOSIFT_API_KEYS) or the owner password")
    share_token: str | None = Field(default=None, min_length=1, max_length=200,
                                    description="a share link's token (the part after #share=)")


class SessionView(BaseModel):
    signed_in: bool
    role: Literal["owner", "share"] | None = Field(default=None, description="owner: everything; share: one album")
    via: Literal["loopback", "key", "token", "session"] | None = None
    album_id: str | None = Field(default=None, description="the one album a share reaches")
    can_upload: bool = Field(default=False, description="may add photos, members and corrections")
    keyless: bool = Field(description="no API keys are configured: every loopback client is the owner")
    password: bool = Field(description="the owner may sign in with a password")


SIGN_IN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": schemas.ErrorBody, "description": "wrong key or password, or a revoked or expired share link"},
    429: {"model": schemas.ErrorBody, "description": "too many owner sign-ins from this address (Retry-After)"}}


@router.get("/session", response_model=SessionView)
def who_am_i(request: Request) -> dict[str, Any]:
    """Who this request acts as; ``signed_in: false`` (not an error) when it has no valid credentials."""
    try:
        principal = resolve_principal(request)
    except AccessDenied:
        return _view(request, None)
    return _view(request, principal)


@router.post("/session", response_model=SessionView, responses=SIGN_IN_ERRORS)
def sign_in(body: SignIn, request: Request, response: Response, svc: ServicesDep) -> dict[str, Any]:
    """Sign in with ``secret`` (an API key or the owner password: the owner) or ``share_token`` (a share link: its
    album). Sets an HttpOnly, SameSite=Lax session cookie (Secure over HTTPS), stored server-side as a hash.
    Without API keys (loopback only) there is nothing to sign in to: the answer says who the request is, and for a
    share token which album it opens."""
    if (body.secret is None) == (body.share_token is None):
        raise InvalidInput("give either secret or share_token")
    owner = owner_credentials(request)
    if owner.keyless:
        principal = resolve_principal(request)
        view = _view(request, principal)
        if body.share_token is not None:
            share = access.principal_for_token(svc, body.share_token)
            if share is None:
                raise AccessDenied("this share link was revoked or has expired")
            view["album_id"] = share.album_id
        return view
    if body.secret is not None:
        request.app.state.sign_in_throttle.attempt(request.client.host if request.client else "unknown")
        fingerprint = owner.key_fingerprint(body.secret) or owner.password_fingerprint(body.secret)
        if fingerprint is None:
            raise AccessDenied("wrong key or password")
        token, expires, principal = access.open_owner_session(svc, fingerprint)
    else:
        opened = access.open_share_session(svc, body.share_token or "")
        if opened is None:
            raise AccessDenied("this share link was revoked or has expired: ask the album's owner for a new one")
        token, expires, principal = opened
    if (old := session_token(request)) is not None and len(old) <= 200:
        access.close_session(svc, old)
    _set_cookie(request, response, token, expires)
    return _view(request, principal)


@router.delete("/session", status_code=204)
def sign_out(request: Request, svc: ServicesDep) -> Response:
    """Sign out: the session is deleted on the server (its cookie opens nothing any more) and the cookie cleared."""
    if (token := session_token(request)) is not None and len(token) <= 200:
        access.close_session(svc, token)
    response = Response(status_code=204)
    for name, secure in ((SESSION_COOKIE, False), (SECURE_SESSION_COOKIE, True)):
        response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=secure)
    return response


def _view(request: Request, principal: access.Principal | None) -> dict[str, Any]:
    owner = owner_credentials(request)
    base = {"keyless": owner.keyless, "password": bool(owner.password_hash)}
    if principal is None:
        return {**base, "signed_in": False}
    return {**base, **principal.view()}


def is_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (uvicorn applies ``X-Forwarded-Proto`` from trusted proxies:
    ``FORWARDED_ALLOW_IPS``, default 127.0.0.1)."""
    return request.url.scheme == "https"


def _set_cookie(request: Request, response: Response, token: str, expires: datetime) -> None:
    secure = is_https(request)
    max_age = max(0, int((expires - datetime.now(UTC)).total_seconds()))
    response.set_cookie(SECURE_SESSION_COOKIE if secure else SESSION_COOKIE, token, max_age=max_age, path="/",
                        httponly=True, samesite="lax", secure=secure)

