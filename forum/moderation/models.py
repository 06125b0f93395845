"""Watched words, member flags, the review queue and the moderation log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.db import Base, utcnow


class ItemType(StrEnum):
    POST = "post"
    CHAT = "chat"


class WatchedWord(Base):
    __tablename__ = "watched_word"

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase: Mapped[str] = mapped_column(String(200))
    normalized: Mapped[str] = mapped_column(String(200), unique=True)
    action: Mapped[str] = mapped_column(String(16))  # refuse | hold | flag | replace
    replacement: Mapped[str | None] = mapped_column(String(200), default=None)
    label: Mapped[str] = mapped_column(String(32), default="watched")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Flag(Base):
    """One member's flag on one post or chat message. The author never learns who flagged."""

    __tablename__ = "flag"
    __table_args__ = (UniqueConstraint("item_type", "item_id", "member_id", name="uq_flag_item_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type: Mapped[str] = mapped_column(String(8))
    item_id: Mapped[int] = mapped_column()
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewItem(Base):
    """An entry in the moderators' queue: held by screening, flagged, or hidden by flags."""

    __tablename__ = "review_item"
    __table_args__ = (
        Index("ix_review_item_queue", "state", "priority", "created_at"),
        Index("ix_review_item_item", "item_type", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type: Mapped[str] = mapped_column(String(8))
    item_id: Mapped[int] = mapped_column()
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    priority: Mapped[int] = mapped_column(default=0)
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    flag_count: Mapped[int] = mapped_column(default=0)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class ModerationLog(Base):
    """Append-only record of every moderation action: who, when, why, and the state before it."""

    __tablename__ = "moderation_log"
    # A member's history, newest first, without walking the whole log (the moderation queue).
    __table_args__ = (Index("ix_moderation_log_member_created", "member_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    item_type: Mapped[str | None] = mapped_column(String(8), default=None)
    item_id: Mapped[int | None] = mapped_column(default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
