"""Initial schema: albums, members, reference photos, photos, faces, jobs, events.

Revision ID: 0001_initial
Revises: (none)
Create Date: 2026-11-25 06:07:42.943836
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('albums',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_albums'))
    )
    op.create_table('events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('album_id', sa.String(length=20), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['album_id'], ['albums.id'], name=op.f('fk_events_album_id_albums'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_album_id', ['album_id', 'id'], unique=False)

    op.create_table('members',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('album_id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('template', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['album_id'], ['albums.id'], name=op.f('fk_members_album_id_albums'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('album_id', 'name', name=op.f('uq_members_album_id'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_members_album_id'), ['album_id'], unique=False)

    op.create_table('photos',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('album_id', sa.String(length=20), nullable=False),
    sa.Column('blob_key', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=500), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('sharpness', sa.Float(), nullable=True),
    sa.Column('blurry', sa.Boolean(), nullable=True),
    sa.Column('blur_region', sa.String(length=40), nullable=True),
    sa.Column('face_count', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('analysed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['album_id'], ['albums.id'], name=op.f('fk_photos_album_id_albums'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos')),
    sa.UniqueConstraint('album_id', 'sha256', name=op.f('uq_photos_album_id'))
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photos_album_id'), ['album_id'], unique=False)
        batch_op.create_index('ix_photos_album_status', ['album_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_blob_key'), ['blob_key'], unique=False)

    op.create_table('faces',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('photo_id', sa.String(length=20), nullable=False),
    sa.Column('album_id', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('left', sa.Integer(), nullable=False),
    sa.Column('top', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('landmarks', sa.JSON(), nullable=False),
    sa.Column('pose', sa.JSON(), nullable=False),
    sa.Column('sharpness', sa.Float(), nullable=False),
    sa.Column('brightness', sa.Float(), nullable=False),
    sa.Column('too_small', sa.Boolean(), nullable=False),
    sa.Column('embedding', sa.LargeBinary(), nullable=False),
    sa.Column('member_id', sa.String(length=20), nullable=True),
    sa.Column('similarity', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['album_id'], ['albums.id'], name=op.f('fk_faces_album_id_albums'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_faces_member_id_members'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_faces_photo_id_photos'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faces')),
    sa.UniqueConstraint('photo_id', 'position', name=op.f('uq_faces_photo_id'))
    )
    with op.batch_alter_table('faces', schema=None) as batch_op:
        batch_op.create_index('ix_faces_album_member', ['album_id', 'member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_faces_member_id'), ['member_id'], unique=False)

    op.create_table('jobs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('album_id', sa.String(length=20), nullable=False),
    sa.Column('photo_id', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('worker', sa.String(length=100), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['album_id'], ['albums.id'], name=op.f('fk_jobs_album_id_albums'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_jobs_photo_id_photos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_album_id'), ['album_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_photo_id'), ['photo_id'], unique=False)
        batch_op.create_index('ix_jobs_status_id', ['status', 'id'], unique=False)

    op.create_table('member_references',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('member_id', sa.String(length=20), nullable=False),
    sa.Column('album_id', sa.String(length=20), nullable=False),
    sa.Column('blob_key', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=500), nullable=True),
    sa.Column('box', sa.JSON(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('embedding', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['album_id'], ['albums.id'], name=op.f('fk_member_references_album_id_albums'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_references_member_id_members'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_references'))
    )
    with op.batch_alter_table('member_references', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_references_album_id'), ['album_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_references_blob_key'), ['blob_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_references_member_id'), ['member_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('member_references', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_references_member_id'))
        batch_op.drop_index(batch_op.f('ix_member_references_blob_key'))
        batch_op.drop_index(batch_op.f('ix_member_references_album_id'))

    op.drop_table('member_references')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_status_id')
        batch_op.drop_index(batch_op.f('ix_jobs_photo_id'))
        batch_op.drop_index(batch_op.f('ix_jobs_album_id'))

    op.drop_table('jobs')
    with op.batch_alter_table('faces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faces_member_id'))
        batch_op.drop_index('ix_faces_album_member')

    op.drop_table('faces')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_blob_key'))
        batch_op.drop_index('ix_photos_album_status')
        batch_op.drop_index(batch_op.f('ix_photos_album_id'))

    op.drop_table('photos')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_album_id'))

    op.drop_table('members')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_album_id')

    op.drop_table('events')
    op.drop_table('albums')
