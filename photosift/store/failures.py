"""Typing infrastructure failures: a full disk, an unreachable S3 server or database, an I/O error.

``storage_failure(exc)`` turns a foreign exception (``OSError`` of the local store or the upload spool, a DBAPI error
of the catalog as SQLAlchemy wraps it) into ``InsufficientStorage`` (no space: HTTP 507) or ``StoreUnavailable``
(cannot reach, read or write: HTTP 503), or returns ``None`` when ``exc`` is not such a failure (a bug stays a bug).
The API answers with it (``photosift.api.errors``) and the job runner releases the job instead of spending an attempt.
"""

from __future__ import annotations

import errno

from photosift.errors import InsufficientStorage, StorageError, StoreUnavailable

_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_SQLITE_FULL = 13
# SQLite primary result codes meaning the database file cannot be used right now: BUSY, LOCKED, READONLY, IOERR,
# CORRUPT, CANTOPEN, PROTOCOL.
_SQLITE_UNAVAILABLE = {5, 6, 8, 10, 11, 14, 15}
# PostgreSQL SQLSTATE: 53100 disk_full; classes 08 (connection), 53 (insufficient resources), 57P0x (shutdown),
# 58 (system error, e.g. 58030 io_error).
_PG_FULL = {"53100"}
_PG_UNAVAILABLE_PREFIXES = ("08", "53", "57P", "58")


def storage_failure(exc: BaseException | None) -> StorageError | None:
    """The typed error ``exc`` amounts to, or ``None`` when it is not a storage or catalog failure."""
    if exc is None:
        return None
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, OSError):
        return _os_failure(exc, "storage")
    return _database_failure(exc)


def os_failure(exc: OSError, what: str) -> StorageError:
    """``InsufficientStorage`` for a full disk or quota, else ``StoreUnavailable``; ``what`` names the object."""
    return _os_failure(exc, what) or StoreUnavailable(f"{what}: {exc.strerror or exc}")


def _os_failure(exc: OSError, what: str) -> StorageError | None:
    if exc.errno in _NO_SPACE:
        return InsufficientStorage(f"no space left to write {what} ({exc.strerror or exc})")
    if exc.errno in (errno.EIO, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENXIO, errno.ESTALE, errno.ENOMEDIUM):
        return StoreUnavailable(f"cannot read or write {what}: {exc.strerror or exc}")
    return None


def _database_failure(exc: BaseException) -> StorageError | None:
    from sqlalchemy import exc as sa

    if isinstance(exc, sa.TimeoutError):  # no pooled connection became free
        return StoreUnavailable("the catalog database has no free connection; try again shortly")
    if not isinstance(exc, sa.DBAPIError):
        return None
    orig = exc.orig
    first_line = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        if code & 0xFF == _SQLITE_FULL:
            return InsufficientStorage(f"no space left to write the catalog ({first_line})")
        if code & 0xFF in _SQLITE_UNAVAILABLE:
            return StoreUnavailable(f"the catalog database cannot be used right now ({first_line})")
        return None
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state in _PG_FULL:
        return InsufficientStorage(f"no space left to write the catalog ({first_line})")
    if state and state.startswith(_PG_UNAVAILABLE_PREFIXES):
        return StoreUnavailable(f"the catalog database cannot be used right now ({first_line})")
    if exc.connection_invalidated or (state is None and isinstance(exc, (sa.OperationalError, sa.InterfaceError))):
        return StoreUnavailable(f"the catalog database cannot be reached ({first_line})")
    return None
