"""Rooms, threads and (nested) posts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import Member
from forum.db import Base, utcnow


class Visibility(StrEnum):
    """Soft states of member text; nothing that carries history is deleted outright."""

    PUBLISHED = "published"  # everyone in the audience sees it
    HELD = "held"  # waiting for a moderator; only the author and moderators see it
    HIDDEN = "hidden"  # hidden by member flags pending review
    REMOVED = "removed"  # removed by a moderator
    DELETED = "deleted"  # deleted by its author; replies below it stay


class Room(Base):
    __tablename__ = "room"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(16), index=True)  # a MemberPath value
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Denormalised so the room index is one query however many threads exist.
    thread_count: Mapped[int] = mapped_column(default=0)
    last_activity_at: Mapped[datetime | None] = mapped_column(default=None)


class Thread(Base):
    __tablename__ = "thread"
    __table_args__ = (
        Index("ix_thread_room_order", "room_id", "pinned", "last_activity_at"),
        # Counts a room's threads in one state (and by author) without reading the others.
        Index("ix_thread_room_status", "room_id", "status", "author_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(150))
    status: Mapped[str] = mapped_column(String(16), default=Visibility.PUBLISHED)
    pinned: Mapped[bool] = mapped_column(default=False)
    locked: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Published posts; an opening post its author deleted still counts (the thread stands on it).
    post_count: Mapped[int] = mapped_column(default=0)
    # Bumped on every change to the thread's posts; keys the rendered-page cache. Always in SQL
    # (``thread.version = Thread.version + 1``): two writers at once must both count.
    version: Mapped[int] = mapped_column(default=0)

    room: Mapped[Room] = relationship(lazy="joined", innerjoin=True)
    author: Mapped[Member | None] = relationship(lazy="joined")

    @property
    def reply_count(self) -> int:
        return reply_count(self.status, self.post_count)


def reply_count(status: str, post_count: int) -> int:
    """Published replies. A published thread's ``post_count`` includes its opening post;
    a held, hidden or removed thread's does not."""
    if status == Visibility.PUBLISHED:
        return max(0, post_count - 1)
    return post_count


class Post(Base):
    """A post; ``parent_id`` None is the opening post of its thread.

    ``sort_key`` is a materialised path (zero-padded ids joined by "/"), so one
    indexed query returns a whole thread in reading order, replies under what they answer.
    """

    __tablename__ = "post"
    __table_args__ = (
        Index("ix_post_thread_sort", "thread_id", "sort_key"),
        UniqueConstraint("author_id", "submit_key", name="uq_post_author_submit_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="SET NULL"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"), index=True)
    depth: Mapped[int] = mapped_column(default=0)
    sort_key: Mapped[str] = mapped_column(Text, default="")
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=Visibility.PUBLISHED, index=True)
    content_warning: Mapped[str | None] = mapped_column(String(120), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(default=None)
    # Idempotency key from the form: a double submit stores the post once.
    submit_key: Mapped[str | None] = mapped_column(String(64), default=None)

    author: Mapped[Member | None] = relationship(lazy="joined")
