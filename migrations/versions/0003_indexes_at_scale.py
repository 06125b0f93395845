"""indexes for pages at scale: a room's threads by state, a member's moderation history by time

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 06:40:00
"""

from __future__ import annotations

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The room page counts its unpublished threads (deleted, held) without reading the rest.
    op.create_index('ix_thread_room_status', 'thread', ['room_id', 'status', 'author_id'], unique=False)
    # The queue shows each author's recent history; this leads with member_id, so it also
    # serves every lookup the single-column index did.
    op.create_index('ix_moderation_log_member_created', 'moderation_log', ['member_id', 'created_at'], unique=False)
    op.drop_index('ix_moderation_log_member_id', table_name='moderation_log')


def downgrade() -> None:
    op.create_index('ix_moderation_log_member_id', 'moderation_log', ['member_id'], unique=False)
    op.drop_index('ix_moderation_log_member_created', table_name='moderation_log')
    op.drop_index('ix_thread_room_status', table_name='thread')
