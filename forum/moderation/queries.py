"""Reads for the moderators' pages: the queue with each item's context, and the log.

Only moderation routes call these, after the moderator check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, union_all
from sqlalchemy.orm import Session

from forum.accounts.actions import access_member_by_pseudonym
from forum.accounts.models import Member
from forum.chat.models import ChatMessage
from forum.db import as_utc
from forum.moderation.actions import FLAG_REASONS, Target
from forum.moderation.models import Flag, ItemType, ModerationLog, ReviewItem
from forum.rooms.models import Post, Room, Thread

QUEUE_LIMIT = 100
MAX_ID = 2**31 - 1
HISTORY_ACTIONS = ("remove", "redact", "warn", "mute", "ban", "auto_hide", "approve")

LABEL_TEXT: dict[str, str] = {
    "crisis": "Crisis language: someone may be at risk",
    "judgment": "May read as judging another member",
    "new-member": "A new member's post",
    "link-by-new-member": "A link from a new member",
    "auto-hidden": "Hidden automatically by member flags",
    "pii:phone": "Phone number",
    "pii:email": "Email address",
    "pii:address": "Street address",
    "pii:handle": "Social-media handle",
    "pii:profile-link": "Social-media profile link",
    "pii:name-place": "Full name with a place",
}

ACTION_TEXT: dict[str, str] = {
    "approve": "Approved", "remove": "Removed", "redact": "Redacted", "warn": "Warned", "mute": "Muted",
    "unmute": "Unmuted", "ban": "Banned", "claim": "Claimed", "take_over": "Took over", "release": "Released",
    "auto_hide": "Hidden by flags", "set_role": "Role changed", "word_add": "Watched word added",
    "word_remove": "Watched word removed",
}


def label_text(label: str) -> str:
    if label in LABEL_TEXT:
        return LABEL_TEXT[label]
    if label.startswith("watched:"):
        return f"Watched word ({label.removeprefix('watched:')})"
    if label.startswith("flag:"):
        reason = FLAG_REASONS.get(label.removeprefix("flag:"))
        return f"Flagged: {reason.label}" if reason else label
    return label


@dataclass
class FlagSummary:
    reason: str
    label: str
    count: int


@dataclass
class QueueEntry:
    item: ReviewItem
    target: Target | None
    room: Room | None
    author: Member | None
    claimed_by: Member | None
    thread: Thread | None = None
    parent: Post | None = None
    chat_before: list[ChatMessage] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    flags: list[FlagSummary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    flaggers: list[str] = field(default_factory=list)
    history: list[ModerationLog] = field(default_factory=list)
    history_counts: dict[str, int] = field(default_factory=dict)

    @property
    def is_risk(self) -> bool:
        return "crisis" in self.item.labels or "flag:risk" in self.item.labels


def open_items(session: Session, limit: int = QUEUE_LIMIT) -> list[ReviewItem]:
    """Open items, highest priority first (someone at risk on top), then oldest first."""
    return list(session.scalars(select(ReviewItem).where(ReviewItem.state == "open")
                                .order_by(ReviewItem.priority.desc(), ReviewItem.created_at, ReviewItem.id)
                                .limit(limit)))


def open_count(session: Session) -> int:
    return int(session.scalar(select(func.count(ReviewItem.id)).where(ReviewItem.state == "open")) or 0)


def queue_entry(session: Session, item: ReviewItem) -> QueueEntry:
    return queue_entries(session, [item])[0]


def queue(session: Session, limit: int = QUEUE_LIMIT) -> list[QueueEntry]:
    return queue_entries(session, open_items(session, limit))


def _by_id(session: Session, model: Any, ids: Iterable[int | None]) -> dict[int, Any]:
    """Rows of ``model`` by id, in one query (ids outside the integer column are simply absent)."""
    wanted = sorted({i for i in ids if i is not None and 0 < i <= MAX_ID})
    if not wanted:
        return {}
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(wanted))).unique()}


def _newest_ids(session: Session, arms: list[Select[Any]]) -> list[int]:
    """The ids of several "newest N of ..." selects, in one statement (UNION ALL of each, limited)."""
    if not arms:
        return []
    subqueries = [arm.subquery() for arm in arms]
    return list(session.scalars(union_all(*(select(sub.c.id) for sub in subqueries))))


def queue_entries(session: Session, items: list[ReviewItem]) -> list[QueueEntry]:
    """``items`` with their context, read in a fixed number of queries (one per kind of row)
    however many items, posts, flags or log entries there are."""
    if not items:
        return []
    posts = _by_id(session, Post, (i.item_id for i in items if i.item_type == ItemType.POST))
    chats = _by_id(session, ChatMessage, (i.item_id for i in items if i.item_type == ItemType.CHAT))
    threads = _by_id(session, Thread, (p.thread_id for p in posts.values()))
    parents = _by_id(session, Post, (p.parent_id for p in posts.values()))
    rooms = _by_id(session, Room, (i.room_id for i in items))
    flags = _flags_since_opened(session, items)
    authors = {i.author_id for i in items if i.author_id}
    members = _by_id(session, Member, [*authors, *(i.claimed_by_id for i in items),
                                       *(f.member_id for fs in flags.values() for f in fs)])
    history, history_counts = _histories(session, authors)
    chat_before = _chat_before(session, list(chats.values()))

    entries = []
    for item in items:
        target: Target | None = None
        if item.item_type == ItemType.POST and item.item_id in posts:
            post = posts[item.item_id]
            thread = threads.get(post.thread_id)
            target = Target(ItemType.POST, post, thread.room_id) if thread is not None else None
        elif item.item_type == ItemType.CHAT and item.item_id in chats:
            message = chats[item.item_id]
            target = Target(ItemType.CHAT, message, message.room_id)
        entry = QueueEntry(
            item=item, target=target, room=rooms.get(item.room_id),
            author=members.get(item.author_id) if item.author_id else None,
            claimed_by=members.get(item.claimed_by_id) if item.claimed_by_id else None,
            labels=[label_text(label) for label in item.labels if not label.startswith("flag:")])
        if target is not None and isinstance(target.obj, Post):
            entry.thread = threads.get(target.obj.thread_id)
            if target.obj.parent_id is not None:
                entry.parent = parents.get(target.obj.parent_id)
        elif target is not None:
            entry.chat_before = chat_before.get(target.item_id, [])
        item_flags_ = flags.get((item.item_type, item.item_id), [])
        counts = Counter(flag.reason for flag in item_flags_)
        entry.flags = [FlagSummary(reason, FLAG_REASONS[reason].label if reason in FLAG_REASONS else reason, n)
                       for reason, n in sorted(counts.items(), key=lambda pair: (pair[0] != "risk", -pair[1]))]
        entry.notes = [flag.note for flag in item_flags_ if flag.note]
        flaggers = {flag.member_id: members[flag.member_id] for flag in item_flags_ if flag.member_id in members}
        entry.flaggers = [m.pseudonym for m in sorted(flaggers.values(), key=lambda m: m.pseudonym_key)]
        if item.author_id is not None:
            entry.history = history.get(item.author_id, [])
            entry.history_counts = history_counts.get(item.author_id, {})
        entries.append(entry)
    return entries


def _flags_since_opened(session: Session, items: list[ReviewItem]) -> dict[tuple[str, int], list[Flag]]:
    """Per item, the flags behind it: those made since it opened (approval dismissed earlier
    ones), oldest first."""
    opened = {(i.item_type, i.item_id): as_utc(i.created_at) for i in items}
    by_type: dict[str, list[int]] = {}
    for item_type, item_id in sorted(opened):
        by_type.setdefault(item_type, []).append(item_id)
    found: dict[tuple[str, int], list[Flag]] = {}
    # One "type = ? AND id IN (...)" per type: both databases answer it from the flag index
    # (a row-value IN over (type, id) pairs makes SQLite read every flag).
    rows = session.scalars(select(Flag).where(or_(*(and_(Flag.item_type == item_type, Flag.item_id.in_(ids))
                                                    for item_type, ids in by_type.items())))
                           .order_by(Flag.created_at, Flag.id))
    for flag in rows:
        key = (flag.item_type, flag.item_id)
        since = opened[key]
        created = as_utc(flag.created_at)
        if since is None or (created is not None and created >= since):
            found.setdefault(key, []).append(flag)
    return found


def _histories(session: Session, member_ids: set[int], limit: int = 5) -> tuple[
        dict[int, list[ModerationLog]], dict[int, dict[str, int]]]:
    """Each member's recent moderation (newest first, ``limit`` of it) and how often each
    action happened, for several members at once (three queries, whatever their number)."""
    if not member_ids:
        return {}, {}
    members = sorted(member_ids)
    newest = [select(ModerationLog.id).where(ModerationLog.member_id == member_id,
                                             ModerationLog.action.in_(HISTORY_ACTIONS))
              .order_by(ModerationLog.created_at.desc(), ModerationLog.id.desc()).limit(limit)
              for member_id in members]
    recent: dict[int, list[ModerationLog]] = {}
    ids = _newest_ids(session, newest)
    if ids:
        for entry in session.scalars(select(ModerationLog).where(ModerationLog.id.in_(ids))
                                     .order_by(ModerationLog.created_at.desc(), ModerationLog.id.desc())):
            if entry.member_id is not None:
                recent.setdefault(entry.member_id, []).append(entry)
    counts: dict[int, dict[str, int]] = {}
    for member_id, action, n in session.execute(
            select(ModerationLog.member_id, ModerationLog.action, func.count(ModerationLog.id))
            .where(ModerationLog.member_id.in_(members), ModerationLog.action.in_(HISTORY_ACTIONS))
            .group_by(ModerationLog.member_id, ModerationLog.action)).tuples():
        if member_id is not None:
            counts.setdefault(member_id, {})[action] = n
    return recent, counts


def _chat_before(session: Session, messages: list[ChatMessage], count: int = 3) -> dict[int, list[ChatMessage]]:
    """Per chat message, the ``count`` lines before it in its room, oldest first (two queries)."""
    ids = _newest_ids(session, [select(ChatMessage.id).where(ChatMessage.room_id == m.room_id, ChatMessage.id < m.id)
                                .order_by(ChatMessage.id.desc()).limit(count) for m in messages])
    earlier = _by_id(session, ChatMessage, ids)
    before: dict[int, list[ChatMessage]] = {}
    for message in messages:
        lines = sorted((e for e in earlier.values() if e.room_id == message.room_id and e.id < message.id),
                       key=lambda e: e.id)
        before[message.id] = lines[-count:]
    return before


# The log --------------------------------------------------------------------------------

@dataclass
class LogPage:
    entries: list[ModerationLog]
    number: int
    size: int
    total: int
    names: dict[int, str]

    @property
    def count(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count


def _member_id(session: Session, pseudonym: str | None) -> int | None:
    if not pseudonym:
        return None
    member = access_member_by_pseudonym(session, pseudonym)
    return member.id if member is not None else None


def log_page(session: Session, *, member: str | None = None, moderator: str | None = None,
             number: int = 1, size: int = 50) -> LogPage:
    """One page of the log, newest first, optionally for one member and/or one moderator.

    An unknown pseudonym in a filter matches nothing (an empty page), never everything.
    """
    stmt = select(ModerationLog)
    count = select(func.count(ModerationLog.id))
    for name, column in ((member, ModerationLog.member_id), (moderator, ModerationLog.moderator_id)):
        if name:
            wanted = _member_id(session, name)
            condition = column == wanted if wanted is not None else column.is_(None) & column.is_not(None)
            stmt, count = stmt.where(condition), count.where(condition)
    total = int(session.scalar(count) or 0)
    entries = list(session.scalars(stmt.order_by(ModerationLog.created_at.desc(), ModerationLog.id.desc())
                                   .offset((number - 1) * size).limit(size)))
    ids = {i for e in entries for i in (e.member_id, e.moderator_id) if i is not None}
    names = dict(session.execute(select(Member.id, Member.pseudonym).where(Member.id.in_(ids))).tuples().all()) if ids else {}
    return LogPage(entries, number, size, total, names)
