"""Chat messages and the live sockets that are listening."""

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
        UniqueConstraint("author_id", "client_id", name="uq_chat_message_author_client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)  # escaped, links made clickable
    status: Mapped[str] = mapped_column(String(16), default=Visibility.PUBLISHED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Chosen by the sending client; a resend after a dropped ack is stored once.
    client_id: Mapped[str | None] = mapped_column(String(64), default=None)

    author: Mapped[Member | None] = relationship(lazy="joined")


class LiveSocket(Base):
    """One open Socket.IO connection: presence counts, and closing a member's sockets from any process."""

    __tablename__ = "live_socket"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"), index=True)
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
