"""Reads for the moderators' pages: the queue with each item's context, and the log.

Only moderation routes call these, after the moderator check.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.accounts.actions import access_member_by_pseudonym
from forum.accounts.models import Member
from forum.chat.models import ChatMessage
from forum.moderation.actions import FLAG_REASONS, Target, load_target
from forum.moderation.models import Flag, ModerationLog, ReviewItem
from forum.rooms.models import Post, Room, Thread

QUEUE_LIMIT = 100
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


def item_flags(session: Session, item: ReviewItem) -> list[Flag]:
    """The flags behind an open item: those made since it opened (approval dismissed earlier ones)."""
    return list(session.scalars(select(Flag).where(
        Flag.item_type == item.item_type, Flag.item_id == item.item_id, Flag.created_at >= item.created_at)
        .order_by(Flag.created_at)))


def author_history(session: Session, member_id: int | None, limit: int = 5) -> tuple[list[ModerationLog], dict[str, int]]:
    """The author's recent moderation (newest first) and how often each action happened."""
    if member_id is None:
        return [], {}
    base = select(ModerationLog).where(ModerationLog.member_id == member_id,
                                       ModerationLog.action.in_(HISTORY_ACTIONS))
    recent = list(session.scalars(base.order_by(ModerationLog.created_at.desc(), ModerationLog.id.desc())
                                  .limit(limit)))
    counts = dict(session.execute(
        select(ModerationLog.action, func.count(ModerationLog.id)).where(
            ModerationLog.member_id == member_id, ModerationLog.action.in_(HISTORY_ACTIONS))
        .group_by(ModerationLog.action)).tuples().all())
    return recent, counts


def queue_entry(session: Session, item: ReviewItem) -> QueueEntry:
    target = load_target(session, item.item_type, item.item_id)
    entry = QueueEntry(
        item=item, target=target, room=session.get(Room, item.room_id),
        author=session.get(Member, item.author_id) if item.author_id else None,
        claimed_by=session.get(Member, item.claimed_by_id) if item.claimed_by_id else None,
        labels=[label_text(label) for label in item.labels if not label.startswith("flag:")])
    if target is not None and isinstance(target.obj, Post):
        entry.thread = session.get(Thread, target.obj.thread_id)
        if target.obj.parent_id is not None:
            entry.parent = session.get(Post, target.obj.parent_id)
    elif target is not None:
        entry.chat_before = list(reversed(session.scalars(
            select(ChatMessage).where(ChatMessage.room_id == target.room_id, ChatMessage.id < target.item_id)
            .order_by(ChatMessage.id.desc()).limit(3)).all()))
    flags = item_flags(session, item)
    counts = Counter(flag.reason for flag in flags)
    entry.flags = [FlagSummary(reason, FLAG_REASONS[reason].label if reason in FLAG_REASONS else reason, n)
                   for reason, n in sorted(counts.items(), key=lambda pair: (pair[0] != "risk", -pair[1]))]
    entry.notes = [flag.note for flag in flags if flag.note]
    if flags:
        names = session.scalars(select(Member.pseudonym).where(Member.id.in_([f.member_id for f in flags]))
                                .order_by(Member.pseudonym_key))
        entry.flaggers = list(names)
    entry.history, entry.history_counts = author_history(session, item.author_id)
    return entry


def queue(session: Session, limit: int = QUEUE_LIMIT) -> list[QueueEntry]:
    return [queue_entry(session, item) for item in open_items(session, limit)]


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
