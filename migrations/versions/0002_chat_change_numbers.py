"""chat change numbers: a gap-free counter per room, stamped on each visible change

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_cursor',
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_chat_cursor_room_id_room'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('room_id', name=op.f('pk_chat_cursor'))
    )
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_chat_message_room_id_seq', ['room_id', 'seq'], unique=False)
    # Existing lines keep their order: their ids serve as their first change numbers.
    op.execute("UPDATE chat_message SET seq = id WHERE status = 'published'")
    op.execute("INSERT INTO chat_cursor (room_id, seq) "
               "SELECT room_id, MAX(id) FROM chat_message GROUP BY room_id")


def downgrade() -> None:
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_message_room_id_seq')
        batch_op.drop_column('seq')
    op.drop_table('chat_cursor')
