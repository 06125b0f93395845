"""chat_message: drop the index on author_id alone

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 01:00:00
"""

from __future__ import annotations

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The unique (author_id, client_id) index leads with author_id and serves every lookup by
    # author; the second index only cost every chat line one more B-tree write.
    op.drop_index('ix_chat_message_author_id', table_name='chat_message')


def downgrade() -> None:
    op.create_index('ix_chat_message_author_id', 'chat_message', ['author_id'], unique=False)
