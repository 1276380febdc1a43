"""Access for a group: who a request acts as (``Principal``), share links of one album, and browser sessions.

- The **owner** holds an API key (``PHOTOSIFT_API_KEYS``) or the owner password (``PHOTOSIFT_OWNER_PASSWORD_HASH``,
  Argon2) and reaches everything. Without keys, every loopback client is the owner.
- A **share** link's token reaches one album (read, and with ``can_upload`` add photos, members and corrections).
- Signing in (a key, the password, or a share token) opens a **session**: a random token for a browser cookie.

Secrets are 256-bit random strings shown once; the catalog keeps only their SHA-256, so a copy of the database
opens nothing, and a lookup by that hash reveals no timing about the secret. API keys are compared (as SHA-256
digests) in constant time. Revoking a share deletes it and its sessions in one transaction: the next request fails.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from photosift.application.context import Services
from photosift.application.validation import check_name
from photosift.catalog import albums, photos, shares
from photosift.catalog.models import utcnow
from photosift.catalog.records import aware, iso
from photosift.catalog.shares import ShareLink
from photosift.config import Settings
from photosift.errors import InvalidInput, NotFound

TOKEN_BYTES = 32  # 256 random bits per share or session token
MAX_SHARE_DAYS = 3650
KEY_DIGEST_PREFIX = "sha256:"  # a PHOTOSIFT_API_KEYS entry given as the hex SHA-256 of the key, not the key


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the owner (everything) or a share link's holder (``album_id`` only)."""

    role: Literal["owner", "share"]
    via: Literal["loopback", "key", "token", "session"]
    album_id: str | None = None
    can_upload: bool = False
    share_id: str | None = None
    session_hash: str | None = None  # the session's token hash when it came from a cookie

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"

    def view(self) -> dict[str, Any]:
        """What the client may know about itself (``GET /v1/session``)."""
        return {"signed_in": True, "role": self.role, "via": self.via, "album_id": self.album_id,
                "can_upload": self.is_owner or self.can_upload}


def hash_secret(secret: str) -> str:
    """The hex SHA-256 of a token (what the catalog stores and looks up)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    """A fresh URL-safe secret with ``TOKEN_BYTES`` random bytes."""
    return secrets.token_urlsafe(TOKEN_BYTES)


class OwnerCredentials:
    """The owner's secrets from settings: API keys (plain, or ``sha256:<hex>``) and the Argon2 password hash."""

    def __init__(self, settings: Settings) -> None:
        self.key_digests = [_key_digest(k.strip()) for k in settings.api_keys.split(",") if k.strip()]
        self.password_hash = settings.owner_password_hash.strip()

    @property
    def keyless(self) -> bool:
        return not self.key_digests

    def key_fingerprint(self, secret: str) -> str | None:
        """The fingerprint of the API key ``secret`` is, or ``None``; every key is compared, in constant time."""
        digest = hash_secret(secret)
        found = None
        for known in self.key_digests:
            if hmac.compare_digest(digest, known):
                found = known
        return None if found is None else hash_secret("key:" + found)

    def password_fingerprint(self, secret: str) -> str | None:
        """The password's fingerprint when ``secret`` is the owner password (Argon2 verification), else ``None``."""
        if not self.password_hash or not secret:
            return None
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            PasswordHasher().verify(self.password_hash, secret)
        except (VerificationError, InvalidHashError):
            return None
        return self._password_mark()

    def fingerprints(self) -> set[str]:
        """The credentials an owner session may still rest on (a removed key or a changed password ends it)."""
        marks = {hash_secret("key:" + d) for d in self.key_digests}
        if self.password_hash:
            marks.add(self._password_mark())
        return marks

    def _password_mark(self) -> str:
        return hash_secret("password:" + self.password_hash)


def _key_digest(entry: str) -> str:
    if entry.lower().startswith(KEY_DIGEST_PREFIX):
        digest = entry[len(KEY_DIGEST_PREFIX):].strip().lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise InvalidInput(f"PHOTOSIFT_API_KEYS: {entry[:12]}... is not sha256: and 64 hex digits")
        return digest
    return hash_secret(entry)


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` for ``PHOTOSIFT_OWNER_PASSWORD_HASH``."""
    from argon2 import PasswordHasher

    if not password:
        raise InvalidInput("the password must not be empty")
    return PasswordHasher().hash(password)


# ---------------------------------------------------------------- share links

def create_share(svc: Services, album_id: str, *, can_upload: bool = False, label: str | None = None,
                 expires_in: float | None = None, expires_at: datetime | None = None) -> dict[str, Any]:
    """A new share link of the album; the answer carries its ``token``, which is not kept and is shown only once.
    Expiry: ``expires_in`` seconds or ``expires_at`` (not both); none = until revoked."""
    now = utcnow()
    if expires_in is not None and expires_at is not None:
        raise InvalidInput("give expires_in or expires_at, not both")
    if expires_in is not None:
        if not 60 <= expires_in <= MAX_SHARE_DAYS * 86400:
            raise InvalidInput(f"expires_in must be between 60 seconds and {MAX_SHARE_DAYS} days")
        expires_at = now + timedelta(seconds=expires_in)
    elif expires_at is not None:
        expires_at = aware(expires_at)
        if expires_at <= now:
            raise InvalidInput("expires_at is in the past")
        if expires_at > now + timedelta(days=MAX_SHARE_DAYS):
            raise InvalidInput(f"expires_at is more than {MAX_SHARE_DAYS} days away")
    label = check_name(label, "label") if label is not None and label.strip() else None
    token = new_token()
    with svc.catalog.session() as session:
        albums.require(session, album_id=album_id)
        share = shares.create(session, album_id=album_id, token_hash=hash_secret(token), label=label,
                              can_upload=can_upload, created_at=now, expires_at=expires_at)
        return {**_share_view(share, sessions=0, now=now), "token": token}


def list_shares(svc: Services, album_id: str) -> list[dict[str, Any]]:
    """The album's share links, oldest first, without tokens; ``sessions``: browsers signed in through each."""
    now = utcnow()
    with svc.catalog.read() as session:
        albums.require(session, album_id=album_id)
        links = shares.of_album(session, album_id=album_id)
        counts = shares.live_sessions(session, share_ids=[s.id for s in links], now=now)
        return [_share_view(s, sessions=counts.get(s.id, 0), now=now) for s in links]


def revoke_share(svc: Services, album_id: str, share_id: str) -> None:
    """Delete the share link and every session opened with it (effective for the next request)."""
    with svc.catalog.session() as session:
        share = shares.get(session, share_id=share_id)
        if share is None or share.album_id != album_id:
            raise NotFound(f"no share {share_id!r} in album {album_id!r}")
        shares.delete(session, share_id=share_id)


def _share_view(share: ShareLink, *, sessions: int, now: datetime) -> dict[str, Any]:
    expired = share.expires_at is not None and share.expires_at <= now
    return {"id": share.id, "album_id": share.album_id, "label": share.label, "can_upload": share.can_upload,
            "created_at": iso(share.created_at), "expires_at": iso(share.expires_at), "expired": expired,
            "sessions": sessions}


def principal_for_token(svc: Services, token: str) -> Principal | None:
    """The share principal of a share token, or ``None`` (unknown, revoked or expired)."""
    share = _live_share(svc, hash_secret(token))
    if share is None:
        return None
    return Principal(role="share", via="token", album_id=share.album_id, can_upload=share.can_upload,
                     share_id=share.id)


def _live_share(svc: Services, token_hash: str) -> ShareLink | None:
    with svc.catalog.read() as session:
        share = shares.by_token_hash(session, token_hash=token_hash)
    if share is None or not hmac.compare_digest(share.token_hash, token_hash):
        return None
    if share.expires_at is not None and share.expires_at <= utcnow():
        return None
    return share


# ---------------------------------------------------------------- sessions

def open_owner_session(svc: Services, fingerprint: str) -> tuple[str, datetime, Principal]:
    """A new owner session resting on the credential ``fingerprint``: (cookie token, expiry, principal)."""
    now = utcnow()
    expires = now + timedelta(days=svc.settings.session_days)
    token = new_token()
    with svc.catalog.session() as session:
        shares.purge_expired(session, now=now)
        shares.open_session(session, token_hash=hash_secret(token), credential=fingerprint, created_at=now,
                            expires_at=expires)
    return token, expires, Principal(role="owner", via="session", session_hash=hash_secret(token))


def open_share_session(svc: Services, share_token: str) -> tuple[str, datetime, Principal] | None:
    """A new session of a share link's visitor (``None`` when the token is not a live share): (cookie token,
    expiry: the share's or ``session_days``, whichever is first, principal)."""
    share = _live_share(svc, hash_secret(share_token))
    if share is None:
        return None
    now = utcnow()
    expires = now + timedelta(days=svc.settings.session_days)
    if share.expires_at is not None:
        expires = min(expires, share.expires_at)
    token = new_token()
    with svc.catalog.session() as session:
        shares.purge_expired(session, now=now)
        if shares.get(session, share_id=share.id) is None:  # revoked meanwhile
            return None
        shares.open_session(session, token_hash=hash_secret(token), share_id=share.id, created_at=now,
                            expires_at=expires)
    principal = Principal(role="share", via="session", album_id=share.album_id, can_upload=share.can_upload,
                          share_id=share.id, session_hash=hash_secret(token))
    return token, expires, principal


def principal_for_session(svc: Services, token: str, owner: OwnerCredentials) -> Principal | None:
    """The principal of a session cookie's token, or ``None`` (unknown, signed out, expired, revoked share, or an
    owner session whose key was removed or whose password changed)."""
    token_hash = hash_secret(token)
    now = utcnow()
    with svc.catalog.read() as session:
        row = shares.browser_session(session, token_hash=token_hash)
    if row is None:
        return None
    found, share = row
    if not hmac.compare_digest(found.token_hash, token_hash) or found.expires_at <= now:
        return None
    if found.share_id is None:
        if found.credential not in owner.fingerprints():
            return None
        return Principal(role="owner", via="session", session_hash=token_hash)
    if share is None or (share.expires_at is not None and share.expires_at <= now):
        return None
    return Principal(role="share", via="session", album_id=share.album_id, can_upload=share.can_upload,
                     share_id=share.id, session_hash=token_hash)


def close_session(svc: Services, token: str) -> None:
    """Sign out: delete the session of this cookie token (nothing when there is none)."""
    with svc.catalog.session() as session:
        shares.close_session(session, token_hash=hash_secret(token))


def still_valid(svc: Services, principal: Principal) -> bool:
    """Whether what ``principal`` rests on still exists (for long requests: the event stream checks it while open)."""
    if principal.session_hash is None and principal.share_id is None:
        return True  # loopback, or an API key (keys change only with a restart)
    now = utcnow()
    with svc.catalog.read() as session:
        if principal.session_hash is not None:
            row = shares.browser_session(session, token_hash=principal.session_hash)
            if row is None or row[0].expires_at <= now:
                return False
        if principal.share_id is not None:
            share = shares.get(session, share_id=principal.share_id)
            if share is None or (share.expires_at is not None and share.expires_at <= now):
                return False
    return True


# ---------------------------------------------------------------- scope

def album_of_photo(svc: Services, photo_id: str) -> str | None:
    """The album a photo belongs to, or ``None`` when there is no such photo."""
    with svc.catalog.read() as session:
        return photos.album_id_of(session, photo_id=photo_id)
