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
from forum.chat.models import ChatCursor, ChatMessage
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
        "seq": message.seq,
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


def current_seq(session: Session, room: Room) -> int:
    """The number of the room's latest visible chat change: every change up to it is readable now.

    Read before the messages it goes with, so that a client starting from it misses
    nothing: whatever commits later comes live, or through ``changes_after``.
    """
    return int(session.scalar(select(ChatCursor.seq).where(ChatCursor.room_id == room.id)) or 0)


@dataclass
class ChangePage:
    messages: list[ChatMessage]  # each changed message once, in change order
    has_more: bool


def changes_after(session: Session, viewer: Member, room: Room, after_seq: int,
                  limit: int = CATCH_UP_PAGE) -> ChangePage:
    """Every message of the room whose latest visible change is numbered after ``after_seq``, in order.

    What a client that applied every change up to ``after_seq`` is missing: lines
    still shown come as they are now, lines since removed come to be taken away
    (``change_event`` builds the event of each). has_more if more remain.
    """
    stmt = (select(ChatMessage)
            .where(ChatMessage.room_id == room.id, ChatMessage.seq > after_seq)
            .order_by(ChatMessage.seq).limit(limit + 1))
    rows = list(session.scalars(stmt))
    return ChangePage(rows[:limit], len(rows) > limit)


def change_event(viewer: Member, message: ChatMessage, payload: dict[str, Any]) -> dict[str, Any]:
    """The ``chat`` event that brings a client up to date on ``message`` (``payload``: as ``viewer`` sees it)."""
    base = {"type": "chat", "room_id": message.room_id, "id": message.id, "seq": message.seq}
    if message.status == Visibility.PUBLISHED or (message.status == Visibility.HELD and message.author_id == viewer.id):
        return {**base, "op": "add", "message": payload}
    return {**base, "op": "remove"}
