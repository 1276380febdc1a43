"""``/v1/albums/{id}/shares``: share links of an album (owner only). A link's token reaches that album and nothing
else; it is shown once, when the link is made."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from photosift.api import schemas
from photosift.api.deps import OWNER_ONLY, AlbumId, ServicesDep, ShareId
from photosift.application import access

router = APIRouter(tags=["shares"])


class ShareCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    can_upload: bool = Field(default=False, description="visitors may add photos, themselves as members, and "
                                                        "corrections (false: view only)")
    label: schemas.Name | None = Field(default=None, description="a note for the owner, e.g. who it was sent to")
    expires_in: int | None = Field(default=None, ge=60, le=access.MAX_SHARE_DAYS * 86400,
                                   description="seconds until the link stops working")
    expires_at: datetime | None = Field(default=None, description="when the link stops working (ISO 8601; with a "
                                                                  "time zone, else UTC)")


class Share(BaseModel):
    id: str
    album_id: str
    label: str | None
    can_upload: bool
    created_at: str
    expires_at: str | None = Field(description="null: until revoked")
    expired: bool
    sessions: int = Field(description="browsers signed in through the link now")


class ShareCreated(Share):
    token: str = Field(description="the bearer token (Authorization: Bearer <token>); shown only this once")
    url: str = Field(description="the link to send: opening it signs the browser in to this album")


@router.post("/albums/{album_id}/shares", status_code=201, response_model=ShareCreated, openapi_extra=OWNER_ONLY)
def create_share(album_id: AlbumId, request: Request, svc: ServicesDep,
                 body: Annotated[ShareCreate | None, Body()] = None) -> dict[str, Any]:
    """A new share link of the album (``can_upload`` false: view only). Its ``token`` and ``url`` are in this answer
    only: the server keeps a hash. The ``url`` (``<public url>/#share=<token>``) carries the token in its fragment,
    which browsers never send to a server, so it appears in no access log."""
    body = body or ShareCreate()
    share = access.create_share(svc, album_id, can_upload=body.can_upload, label=body.label,
                                expires_in=body.expires_in, expires_at=body.expires_at)
    return {**share, "url": f"{public_base(request)}/#share={share['token']}"}


@router.get("/albums/{album_id}/shares", response_model=list[Share], openapi_extra=OWNER_ONLY)
def list_shares(album_id: AlbumId, svc: ServicesDep) -> list[dict[str, Any]]:
    """The album's share links, oldest first (without their tokens)."""
    return access.list_shares(svc, album_id)


@router.delete("/albums/{album_id}/shares/{share_id}", status_code=204, openapi_extra=OWNER_ONLY)
def revoke_share(album_id: AlbumId, share_id: ShareId, svc: ServicesDep) -> Response:
    """Revoke a share link: its token and every browser session opened with it stop working at once (an open event
    stream ends within seconds)."""
    access.revoke_share(svc, album_id, share_id)
    return Response(status_code=204)


def public_base(request: Request) -> str:
    """Where people reach this server: ``PHOTOSIFT_PUBLIC_URL``, else the scheme and ``Host`` of this request."""
    configured = request.app.state.settings.public_url.strip().rstrip("/")
    return configured or str(request.base_url).rstrip("/")
