"""Reads for safety features: who a member muted, and everything Haven holds about a member.

``muted_member_ids`` is the one place that answers "whose text does this viewer
not want to see"; thread pages and chat both use it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g, has_app_context
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from forum.accounts.models import Member, MemberMute, Notice, WebSession
from forum.chat.models import ChatMessage
from forum.db import as_utc
from forum.moderation.models import Flag, ModerationLog, WatchedWord
from forum.rooms.models import Post, Room, Thread, Visibility

EXPORT_FORMAT = "haven-export/1"


def muted_member_ids(session: Session, viewer_id: int | None) -> frozenset[int]:
    """Ids of the members ``viewer_id`` has muted (empty for visitors).

    Read once per request (or socket event): the request's own member's mutes come with their
    session (forum.sessions sets ``g.reader_mutes``); muting or unmuting drops that copy
    (``forget_read_mutes``).
    """
    if viewer_id is None:
        return frozenset()
    context = has_app_context()
    read = g.get("reader_mutes") if context else None
    if read is not None and read[0] == viewer_id:
        ids: frozenset[int] = read[1]
        return ids
    ids = frozenset(session.scalars(select(MemberMute.muted_id).where(MemberMute.muter_id == viewer_id)))
    if context:
        g.reader_mutes = (viewer_id, ids)
    return ids


def forget_read_mutes() -> None:
    """The mutes read with the session are out of date (the member just muted or unmuted someone)."""
    if has_app_context():
        g.pop("reader_mutes", None)


_MUTES: Table = MemberMute.__table__  # type: ignore[assignment]
# Asked for every chat line sent: a prepared Core statement (its cache key is kept).
_MUTING = select(_MUTES.c.muter_id).where(_MUTES.c.muted_id == bindparam("author"))


def members_muting(session: Session, author_id: int) -> frozenset[int]:
    """Ids of the members who muted ``author_id``: live chat skips their sockets.

    In a socket event of ``author_id``'s own, they came with the session (forum.sessions sets
    ``g.author_muters``): a mute made meanwhile reaches their next line.
    """
    read = g.get("author_muters") if has_app_context() else None
    if read is not None and read[0] == author_id:
        muters: frozenset[int] = read[1]
        return muters
    return frozenset(session.connection().execute(_MUTING, {"author": author_id}).scalars())


def muted_members(session: Session, viewer_id: int) -> list[tuple[Member, datetime]]:
    """The members ``viewer_id`` muted, with when, newest first (for the account page)."""
    rows = session.execute(
        select(Member, MemberMute.created_at).join(MemberMute, MemberMute.muted_id == Member.id)
        .where(MemberMute.muter_id == viewer_id).order_by(MemberMute.created_at.desc())).all()
    return [(member, created) for member, created in rows]


def _time(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.isoformat() if value else None


def export_member_data(session: Session, member: Member, current_session: str | None = None) -> dict[str, Any]:
    """Everything Haven holds about ``member``, as plain JSON-ready data.

    What it includes: the profile; every post the member wrote (its text, unless
    they deleted it) with the title of its thread and its room; the threads they
    started; their chat lines; the flags they made (reason and note, never the
    flagged text, which is someone else's); their mutes (dates only); the notices
    Haven sent them; their open sessions (when each started and was last used, and
    which is ``current_session``, a session id hash); moderation actions they took
    and watched words they added.

    What it leaves out on purpose: other members' pseudonyms and text (including
    who a mute is for: the names are on the account page, but they belong to those
    members), anything about who muted or flagged this member, and secrets (the
    password and recovery-code hashes, the second-factor secret, the session token).
    Thread titles are kept because a post makes no sense without them and every
    member of that path can read them.
    """
    posts = session.execute(
        select(Post, Thread.title, Room.name).join(Thread, Post.thread_id == Thread.id)
        .join(Room, Thread.room_id == Room.id).where(Post.author_id == member.id).order_by(Post.id)).all()
    threads = session.execute(
        select(Thread, Room.name).join(Room, Thread.room_id == Room.id)
        .where(Thread.author_id == member.id).order_by(Thread.id)).all()
    chat = session.execute(
        select(ChatMessage, Room.name).join(Room, ChatMessage.room_id == Room.id)
        .where(ChatMessage.author_id == member.id).order_by(ChatMessage.id)).all()
    flags = session.scalars(select(Flag).where(Flag.member_id == member.id).order_by(Flag.id)).all()
    mutes = session.scalars(select(MemberMute.created_at).where(MemberMute.muter_id == member.id)
                            .order_by(MemberMute.created_at)).all()
    notices = session.scalars(select(Notice).where(Notice.member_id == member.id).order_by(Notice.id)).all()
    sessions = session.scalars(select(WebSession).where(WebSession.member_id == member.id)
                               .order_by(WebSession.created_at)).all()
    words = session.scalars(select(WatchedWord).where(WatchedWord.created_by_id == member.id)
                            .order_by(WatchedWord.id)).all()
    actions = session.scalars(select(ModerationLog).where(ModerationLog.moderator_id == member.id)
                              .order_by(ModerationLog.id)).all()
    return {
        "format": EXPORT_FORMAT,
        "profile": {
            "pseudonym": member.pseudonym,
            "path": member.path,
            "role": member.role,
            "created_at": _time(member.created_at),
            "pseudonym_changed_at": _time(member.pseudonym_changed_at),
            "published_posts": member.published_posts,
            "muted_until": _time(member.muted_until),
            "second_factor": member.totp_confirmed_at is not None,
        },
        "posts": [{
            "id": post.id,
            "thread_id": post.thread_id,
            "thread_title": title,
            "room": room,
            "reply": post.parent_id is not None,
            "status": post.status,
            "content_warning": post.content_warning,
            "text": post.body_source if post.status != Visibility.DELETED else None,
            "created_at": _time(post.created_at),
            "edited_at": _time(post.edited_at),
        } for post, title, room in posts],
        "threads_started": [{
            "id": thread.id, "title": thread.title, "room": room, "status": thread.status,
            "created_at": _time(thread.created_at),
        } for thread, room in threads],
        "chat_messages": [{
            "id": message.id, "room": room, "status": message.status, "text": message.body,
            "created_at": _time(message.created_at),
        } for message, room in chat],
        "flags_made": [{
            "item_type": flag.item_type, "item_id": flag.item_id, "reason": flag.reason, "note": flag.note,
            "created_at": _time(flag.created_at),
        } for flag in flags],
        "mutes": [{"since": _time(created)} for created in mutes],
        "notices": [{
            "kind": notice.kind, "text": notice.body, "link": notice.link,
            "created_at": _time(notice.created_at), "read_at": _time(notice.read_at),
        } for notice in notices],
        "open_sessions": len(sessions),
        "sessions": [{
            "started_at": _time(row.created_at), "last_used_at": _time(row.last_seen_at),
            "this_session": row.id_hash == current_session,
        } for row in sessions],
        "moderation_actions": [{
            "action": entry.action, "item_type": entry.item_type, "item_id": entry.item_id,
            "created_at": _time(entry.created_at),
        } for entry in actions],
        "watched_words_added": [{
            "phrase": word.phrase, "action": word.action, "created_at": _time(word.created_at),
        } for word in words],
    }
