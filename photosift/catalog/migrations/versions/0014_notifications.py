"""Several servers on one catalog. Jobs: a partial index of the unfinished ones (what workers claim from, however
many are done). PostgreSQL: the catalog announces its changes with ``NOTIFY`` (delivered at commit, to every
server), so servers wake on them instead of polling (``photosift.catalog.notifications``):
- ``photosift_events``, payload the album id: an event was added to the album's log, or the album was deleted;
- ``photosift_jobs``: a job was queued (added, retried or released).

Revision ID: 0014_notifications
Revises: 0013_face_index_offsets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_notifications"
down_revision = "0013_face_index_offsets"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE OR REPLACE FUNCTION photosift_notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('photosift_events', NEW.album_id);
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION photosift_notify_album_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('photosift_events', OLD.id);
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION photosift_notify_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('photosift_jobs', '');
    RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION photosift_notify_event();
CREATE TRIGGER albums_notify AFTER DELETE ON albums FOR EACH ROW
    EXECUTE FUNCTION photosift_notify_album_deleted();
CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE OF status ON jobs FOR EACH ROW WHEN (NEW.status = 'queued')
    EXECUTE FUNCTION photosift_notify_job();
"""

DOWNGRADE = """
DROP TRIGGER IF EXISTS events_notify ON events;
DROP TRIGGER IF EXISTS albums_notify ON albums;
DROP TRIGGER IF EXISTS jobs_notify ON jobs;
DROP FUNCTION IF EXISTS photosift_notify_event();
DROP FUNCTION IF EXISTS photosift_notify_album_deleted();
DROP FUNCTION IF EXISTS photosift_notify_job();
"""


UNFINISHED_JOBS = "status IN ('queued', 'running')"


def upgrade() -> None:
    op.create_index("ix_jobs_unfinished", "jobs", ["id"], postgresql_where=sa.text(UNFINISHED_JOBS),
                    sqlite_where=sa.text(UNFINISHED_JOBS))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(UPGRADE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DOWNGRADE)
    op.drop_index("ix_jobs_unfinished", table_name="jobs")
