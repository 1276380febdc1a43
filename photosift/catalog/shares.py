"""Share links and browser sessions.

Repository functions: a session first, then keyword-only arguments; they return ``records`` dataclasses or plain
values, never ORM rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select

from photosift.catalog import models
from photosift.catalog.db import Session
from photosift.catalog.records import aware

_Share = models.Share
_Session = models.AccessSession


@dataclass(frozen=True, slots=True)
class ShareLink:
    """A share link (its token only as the SHA-256 ``token_hash``); times are UTC-aware."""

    id: str
    album_id: str
    token_hash: str
    label: str | None
    can_upload: bool
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class BrowserSession:
    """A browser session: the owner's (``credential``) or a share link's visitor's (``share_id``)."""

    token_hash: str
    share_id: str | None
    credential: str | None
    expires_at: datetime


def _link(row: models.Share) -> ShareLink:
    return ShareLink(id=row.id, album_id=row.album_id, token_hash=row.token_hash, label=row.label,
                     can_upload=row.can_upload, created_at=aware(row.created_at),
                     expires_at=None if row.expires_at is None else aware(row.expires_at))


def _browser(row: models.AccessSession) -> BrowserSession:
    return BrowserSession(token_hash=row.token_hash, share_id=row.share_id, credential=row.credential,
                          expires_at=aware(row.expires_at))


def create(session: Session, *, album_id: str, token_hash: str, label: str | None, can_upload: bool,
           created_at: datetime, expires_at: datetime | None) -> ShareLink:
    row = _Share(album_id=album_id, token_hash=token_hash, label=label, can_upload=can_upload,
                 expires_at=expires_at, created_at=created_at)
    session.add(row)
    session.flush()
    return _link(row)


def of_album(session: Session, *, album_id: str) -> list[ShareLink]:
    """The album's share links, oldest first."""
    return [_link(s) for s in session.scalars(select(_Share).where(_Share.album_id == album_id).order_by(_Share.id))]


def live_sessions(session: Session, *, share_ids: list[str], now: datetime) -> dict[str, int]:
    """``{share id: browsers signed in through it and not expired at now}`` (shares without any left out)."""
    if not share_ids:
        return {}
    query = (select(_Session.share_id, func.count())
             .where(_Session.share_id.in_(share_ids), _Session.expires_at > now).group_by(_Session.share_id))
    return {share_id: count for share_id, count in session.execute(query).all() if share_id is not None}


def get(session: Session, *, share_id: str) -> ShareLink | None:
    row = session.get(_Share, share_id)
    return None if row is None else _link(row)


def by_token_hash(session: Session, *, token_hash: str) -> ShareLink | None:
    row = session.scalars(select(_Share).where(_Share.token_hash == token_hash)).first()
    return None if row is None else _link(row)


def delete(session: Session, *, share_id: str) -> None:
    """Delete the share link and every session opened with it."""
    session.execute(sql_delete(_Session).where(_Session.share_id == share_id))
    session.execute(sql_delete(_Share).where(_Share.id == share_id))


def open_session(session: Session, *, token_hash: str, created_at: datetime, expires_at: datetime,
                 share_id: str | None = None, credential: str | None = None) -> None:
    session.add(_Session(token_hash=token_hash, share_id=share_id, credential=credential, created_at=created_at,
                         expires_at=expires_at))


def browser_session(session: Session, *, token_hash: str) -> tuple[BrowserSession, ShareLink | None] | None:
    """The session of ``token_hash`` with its share link (None for the owner's, or when the link is gone)."""
    row = session.execute(select(_Session, _Share).outerjoin(_Share, _Share.id == _Session.share_id)
                          .where(_Session.token_hash == token_hash)).first()
    if row is None:
        return None
    found, share = row
    return _browser(found), None if share is None else _link(share)


def close_session(session: Session, *, token_hash: str) -> None:
    session.execute(sql_delete(_Session).where(_Session.token_hash == token_hash))


def purge_expired(session: Session, *, now: datetime) -> None:
    """Delete every session expired at ``now``."""
    session.execute(sql_delete(_Session).where(_Session.expires_at <= now))
