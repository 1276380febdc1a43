"""Alembic environment: migrates the catalog given by ``Catalog.migrate`` (or ``sqlalchemy.url``)."""

from __future__ import annotations

import importlib

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

import photosift.catalog.models  # noqa: F401 - registers the native tables on Base.metadata
from photosift.catalog.base import Base

try:  # the Rekognition collections' tables (migration 0002_rekognition), when that module is installed
    importlib.import_module("photosift.catalog.rekognition")
except ModuleNotFoundError as exc:
    if exc.name != "photosift.catalog.rekognition":
        raise

target_metadata = Base.metadata
config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
