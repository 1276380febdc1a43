"""A real PostgreSQL 16 for the tests that run on SQLite and PostgreSQL alike: the ``pgserver`` wheel's (started in a
throw-away folder; as root it runs as a 'pgserver' user it creates)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def pgserver_url() -> Iterator[str]:
    """A SQLAlchemy URL of an empty database on a PostgreSQL 16 server; skips when none can start."""
    try:
        import pgserver
    except ImportError:
        pytest.skip("pgserver is not installed (pip install -e '.[test]')")
    root = Path(tempfile.mkdtemp(prefix="photosift-pg16-"))  # outside pytest's root-only tmp tree
    try:
        server = pgserver.get_server(root, cleanup_mode="stop")
        server.psql("CREATE DATABASE photosift;")
    except Exception as exc:  # noqa: BLE001 - any failure to start is a reason to skip, given
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"pgserver could not start PostgreSQL: {exc}")
    yield f"postgresql+psycopg://postgres@/photosift?host={root}"
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """For a fixture parametrised ``["sqlite", "postgresql"]``: a SQLite file in ``tmp_path``, or the session's
    PostgreSQL 16 database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'c.sqlite3'}"
    return request.getfixturevalue("pgserver_url")


def fresh_database(url: str, name: str) -> str:
    """A new empty database ``name`` on the server of ``url`` (for a test that counts everything in its catalog)."""
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(url)
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return server.set(database=name).render_as_string(hide_password=False)
