"""The catalog database: one engine per process, sessions, and schema migrations (Alembic).

SQLite (the default) runs in WAL mode with ``synchronous=FULL`` so a committed write survives a crash or power loss
before it is acknowledged. Write sessions start with ``BEGIN IMMEDIATE`` on SQLite: they take the write lock at the
start, so whatever a write transaction reads is current until it commits (no lost updates between threads or
processes). Read-only sessions (``read()``) see a consistent snapshot and never block writers. PostgreSQL works by
URL alone (``postgresql+psycopg://...``); there ``session()`` is an ordinary READ COMMITTED transaction and code that
needs to serialize takes row locks (``with_for_update``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["IN_CHUNK", "MIGRATIONS", "MIGRATION_LOCK", "Catalog", "IntegrityError", "Session", "in_chunks"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x70686F74  # PostgreSQL advisory lock key held while migrating ("phot")
IN_CHUNK = 500
"""Ids bound per ``IN (...)`` list: no list reaches a database's limit on bound parameters (65,535 in
PostgreSQL, 32,766 in SQLite)."""


class Catalog:
    """A SQLAlchemy engine + session factory for ``url`` (SQLite in WAL mode, or PostgreSQL by URL alone)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, pool_pre_ping=True)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        if self.is_sqlite:
            if url.startswith("sqlite:///") and ":memory:" not in url:
                Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read-write session that commits on success and rolls back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (SQLite: a deferred transaction that does not take the write lock)."""
        with self._sessions() as session:
            session.connection(execution_options={"photosift_readonly": True})
            yield session  # closing the session ends the transaction; loaded objects stay usable (detached)

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema up to ``revision`` (Alembic ``upgrade``); safe to call at every start, also by several
        servers at once (on PostgreSQL they take turns under an advisory lock)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.engine.connect() as connection:
            if not self.is_sqlite:  # servers starting together migrate one after the other
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
                connection.commit()
            config.attributes["connection"] = connection
            try:
                command.upgrade(config, revision)
                connection.commit()
            finally:
                if not self.is_sqlite:
                    connection.rollback()  # after a failed upgrade, the transaction must end before the unlock
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                    connection.commit()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _sqlite_pragmas(connection: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's implicit BEGIN would defer it until the first
    # write, after reads that may then be stale).
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    if connection.get_execution_options().get("photosift_readonly"):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def in_chunks(ids: Iterable[str]) -> list[list[str]]:
    """The distinct ``ids`` (first occurrence first) in lists of at most ``IN_CHUNK``."""
    unique = list(dict.fromkeys(ids))
    return [unique[i : i + IN_CHUNK] for i in range(0, len(unique), IN_CHUNK)]
