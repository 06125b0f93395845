"""Muting in live chat: a muted member's lines reach the one who muted them as a placeholder.

Thread pages do this in their template (``author_muted``). Chat lines travel as
payloads (``forum.chat.queries.message_payload``), so the same rule is applied to
them here: in history pages read by a socket, and in the live broadcast of a new
line. A hidden payload keeps the text (the reader can choose to show it) but not the
author's pseudonym, and says ``"muted": true``. Nothing is sent to the muted
member, and nothing they receive changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum import live, permissions
from forum.accounts.models import Member
from forum.chat.models import ChatMessage
from forum.events import Event, deliver, on_commit
from forum.rooms.models import Room
from forum.safety.queries import members_muting, muted_member_ids


def hidden(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` of a chat line as the one who muted its author receives it."""
    return {**payload, "author": None, "muted": True}


def chat_payloads(session: Session, viewer: Member, messages: Iterable[ChatMessage]) -> list[dict[str, Any]]:
    """The payloads of ``messages`` for ``viewer``: lines by members they muted are hidden."""
    from forum.chat.queries import message_payload

    muted = muted_member_ids(session, viewer.id)
    return [hidden(message_payload(m)) if m.author_id in muted else message_payload(m) for m in messages]


def notify_chat_line(session: Session, message: ChatMessage, event: dict[str, Any], to: str) -> None:
    """Queue ``event`` (a ``chat`` add or update carrying ``message``'s payload) for socket room ``to``.

    Members who muted the author are left out of the broadcast (every socket of
    theirs is skipped) and get the line hidden on their own channel
    (``member:<id>``) instead, if they may see the room. Sent after commit, like
    every event.
    """
    from forum.chat.events import member_channel

    muters = members_muting(session, message.author_id) if message.author_id is not None else frozenset()
    if not muters:
        on_commit(session, lambda: deliver(Event("chat", event, to)))
        return
    room = session.get_one(Room, message.room_id)
    readers = sorted(m.id for m in session.scalars(select(Member).where(Member.id.in_(muters)))
                     if permissions.can_see_room(m, room))
    placeholder = {**event, "message": hidden(event["message"])}

    def send() -> None:
        deliver(Event("chat", event, to, skip=tuple(live.member_sids(muters))))
        for member_id in readers:
            deliver(Event("chat", placeholder, member_channel(member_id)))

    on_commit(session, send)
