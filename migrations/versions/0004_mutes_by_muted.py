"""member_mute by the muted member: every chat line asks who muted its author

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 08:00:00
"""

from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The primary key leads with muter_id, so "who muted this author" read the whole table.
    op.create_index('ix_member_mute_muted', 'member_mute', ['muted_id', 'muter_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_member_mute_muted', table_name='member_mute')
