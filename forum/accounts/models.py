"""Members, their server-side sessions, mutes and private notices."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from forum.db import Base, as_utc, utcnow


class MemberPath(StrEnum):
    """Which rooms a member sees; chosen at sign-up, changed only by staff."""

    PARTNER = "partner"
    RECOVERY = "recovery"


class Role(StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"
    ADMIN = "admin"


def new_auth_token() -> str:
    return secrets.token_urlsafe(32)


class Member(Base):
    """A member, known only by a pseudonym. No email, real name or phone exists here."""

    __tablename__ = "member"

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(24))
    # Case-folded pseudonym: uniqueness ignores case.
    pseudonym_key: Mapped[str] = mapped_column(String(24), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    recovery_code_hash: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER)
    # What Flask-Login keeps in the session instead of the row id; rotating it ends every session.
    auth_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_auth_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    pseudonym_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    published_posts: Mapped[int] = mapped_column(default=0)
    muted_until: Mapped[datetime | None] = mapped_column(default=None)
    banned_at: Mapped[datetime | None] = mapped_column(default=None)
    ban_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(default=None)

    # Flask-Login protocol -------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.banned_at is None

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """An opaque random token, never the row id (see Member.auth_token)."""
        return self.auth_token

    # Roles -------------------------------------------------------------------------
    @property
    def is_moderator(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def is_muted(self, now: datetime) -> bool:
        muted_until = as_utc(self.muted_until)
        return muted_until is not None and muted_until > now

    def __repr__(self) -> str:
        return f"<Member {self.id}>"


class WebSession(Base):
    """A server-side session. The cookie holds a random id; only its SHA-256 is stored."""

    __tablename__ = "web_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), index=True, default=None
    )
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class MemberMute(Base):
    """``muter`` no longer sees ``muted``'s posts and chat lines. ``muted`` is never told."""

    __tablename__ = "member_mute"
    # "Who muted this author", asked for every chat line (the primary key leads with muter_id).
    __table_args__ = (Index("ix_member_mute_muted", "muted_id", "muter_id"),)

    muter_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    muted_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notice(Base):
    """A private message from Haven to one member (held, removed, restored, warned...)."""

    __tablename__ = "notice"
    __table_args__ = (Index("ix_notice_member_unread", "member_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
