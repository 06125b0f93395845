"""Chat reads: what a member sees of a room's chat, page by page, and the public shape of a message.

Every read goes through ``visible_to(viewer)``: published messages for everyone,
plus the viewer's own messages held for review (shown to them as waiting). Lines by
members the viewer muted are still read here: they reach the viewer as a placeholder
that can be opened (forum.safety.muting for sockets, chat/_message.html for pages).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from forum.accounts.models import Member
from forum.chat.models import ChatMessage
from forum.db import as_utc
from forum.rooms.models import Room, Visibility

# Catch-up after a reconnect returns at most this many per call; the client asks again while has_more.
CATCH_UP_PAGE = 200


@dataclass
class MessagePage:
    messages: list[ChatMessage]
    has_more: bool  # older messages exist (history) / newer ones remain (catch-up)


def message_payload(message: ChatMessage) -> dict[str, Any]:
    """The public fields of a message, as clients receive it (no author id, no client id)."""
    created = as_utc(message.created_at)
    return {
        "id": message.id,
        "room_id": message.room_id,
        "author": message.author.pseudonym if message.author is not None else None,
        "html": message.body_html,
        "created_at": created.isoformat() if created else None,
        "status": message.status,
    }


def visible_to(viewer: Member) -> ColumnElement[bool]:
    """Which messages ``viewer`` may read (the room is already access-checked)."""
    return or_(ChatMessage.status == Visibility.PUBLISHED,
               and_(ChatMessage.status == Visibility.HELD, ChatMessage.author_id == viewer.id))


def recent_messages(session: Session, viewer: Member, room: Room, limit: int,
                    before_id: int | None = None) -> MessagePage:
    """The newest ``limit`` messages (older than ``before_id`` if given), oldest first."""
    stmt = select(ChatMessage).where(ChatMessage.room_id == room.id, visible_to(viewer))
    if before_id is not None:
        stmt = stmt.where(ChatMessage.id < before_id)
    rows = list(session.scalars(stmt.order_by(ChatMessage.id.desc()).limit(limit + 1)))
    has_more = len(rows) > limit
    return MessagePage(list(reversed(rows[:limit])), has_more)


def messages_after(session: Session, viewer: Member, room: Room, after_id: int,
                   limit: int = CATCH_UP_PAGE) -> MessagePage:
    """Messages newer than ``after_id``, oldest first (reconnect catch-up); has_more if more remain."""
    stmt = (select(ChatMessage)
            .where(ChatMessage.room_id == room.id, ChatMessage.id > after_id, visible_to(viewer))
            .order_by(ChatMessage.id).limit(limit + 1))
    rows = list(session.scalars(stmt))
    return MessagePage(rows[:limit], len(rows) > limit)
