"""Private notices from Haven to one member: held, hidden, removed, restored, edited, warned, muted.

Every text here is worded without blame: it says what happened and what the member
can do, never who flagged or why another member objected. A notice is a ``Notice``
row, listed on /notices and counted in the navigation on the member's next page. (No
socket event: a notice waits for the next page the member opens, so nothing private
travels to a socket that a shared screen might be showing.)
"""

from __future__ import annotations

from flask import g
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from forum.accounts.models import Notice
from forum.db import utcnow

HELD = ("Thank you for sharing. What you wrote is waiting for a quick look from a moderator before "
        "others can see it. This is routine and not a judgment of you; we'll let you know here when it's up.")
HIDDEN = ("Something you wrote is out of view for a little while until a moderator has had a look. "
          "This happens automatically and is not a judgment of you; we'll let you know here what happens next.")
RESTORED = "Good news: what you wrote is now visible to everyone in the room. Thank you for your patience."
REDACTED = ("A moderator took a few details out of something you wrote, because they could identify you or "
            "someone else. Keeping everyone anonymous is what keeps Haven safe; the rest of your words are "
            "visible as you wrote them.")
WARNED = "A note from the moderators: {message}"
MUTED = ("For now you can read but not post or chat, until {until}. The moderators' note: {message} "
         "We hope to see you back in the conversation then.")
MUTED_NO_NOTE = ("For now you can read but not post or chat, until {until}. "
                 "We hope to see you back in the conversation then.")
UNMUTED = "You can post and chat again. Welcome back."


def unread_count(session: Session, member_id: int) -> int:
    return int(session.scalar(select(func.count(Notice.id)).where(
        Notice.member_id == member_id, Notice.read_at.is_(None))) or 0)


def menu_count(session: Session, member_id: int) -> int:
    """The count in the menu of this request's page: read with the session when it was
    (forum.sessions), counted now otherwise."""
    counted = g.get("unread_notices")
    return int(counted) if counted is not None else unread_count(session, member_id)


def send_notice(session: Session, member_id: int | None, kind: str, body: str, link: str | None = None) -> Notice | None:
    """Write a notice for ``member_id`` (None: a former member, nothing to send)."""
    if member_id is None:
        return None
    notice = Notice(member_id=member_id, kind=kind, body=body, link=link, created_at=utcnow())
    session.add(notice)
    session.flush()
    return notice


def member_notices(session: Session, member_id: int, limit: int = 100) -> list[Notice]:
    return list(session.scalars(select(Notice).where(Notice.member_id == member_id)
                                .order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit)))


def do_mark_read(session: Session, member_id: int) -> int:
    """Mark every unread notice of ``member_id`` read; returns how many were unread."""
    result = session.execute(update(Notice).where(Notice.member_id == member_id, Notice.read_at.is_(None))
                             .values(read_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
