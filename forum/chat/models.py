"""Chat messages, each room's change counter, and the live sockets that are listening.

Every change readers can see in a room's chat (a line appears, is redacted, is
removed or restored) takes the next number of that room's ``ChatCursor`` and stamps
it on the message as ``seq``. Numbers are taken under the counter row's lock, so
they are gap-free and in commit order: a client that has applied every change up to
``n`` asks for ``seq > n`` and gets exactly what it missed, in order.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import Member
from forum.db import Base, utcnow
from forum.rooms.models import Visibility


class ChatMessage(Base):
    __tablename__ = "chat_message"
    __table_args__ = (
        Index("ix_chat_message_room_id_id", "room_id", "id"),
        Index("ix_chat_message_room_id_seq", "room_id", "seq"),
        # Also the index for lookups by author (a member's lines, their deletion): no second
        # index on author_id alone for every chat line to write.
        UniqueConstraint("author_id", "client_id", name="uq_chat_message_author_client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)  # escaped, links made clickable
    status: Mapped[str] = mapped_column(String(16), default=Visibility.PUBLISHED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Chosen by the sending client; a resend after a dropped ack is stored once.
    client_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # The room's change number of this message's latest visible change (0: never shown to others).
    seq: Mapped[int] = mapped_column(default=0, server_default="0")

    author: Mapped[Member | None] = relationship(lazy="joined")


class ChatCursor(Base):
    """A room's chat change counter: the number of the latest visible change in its chat."""

    __tablename__ = "chat_cursor"

    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)


class LiveSocket(Base):
    """One open Socket.IO connection: presence counts, and closing a member's sockets from any process."""

    __tablename__ = "live_socket"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"), index=True)
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
