"""Moderation writes: the review queue, member flags and the actions moderators take.

Who may call what:

* ``record_screening`` / ``queue_for_review``: the write path (posts, chat), after screening.
* ``do_flag``: any member, on a post or chat message they can see and did not write.
* ``do_claim``, ``do_release``, ``do_approve``, ``do_remove``, ``do_redact`` (queue items) and
  ``do_warn``, ``do_mute``, ``do_unmute``, ``do_ban`` (members): moderators only; the
  ``access_*`` functions answer NotFound to anyone else, exactly like a missing item.

Functions take the caller's session and never commit. Every moderator action appends a
``ModerationLog`` entry with the state before it. Events, all sent after commit:

* ``queue`` {type: "queue", op: "update"|"remove", id} to ``moderators`` whenever the queue changes;
* ``post`` {type: "post", op, thread_id, id} to ``thread:<id>`` (through ``set_post_visibility``)
  when a post is hidden, removed, restored or redacted;
* ``chat`` {type: "chat", op: "remove"|"add", room_id, id[, message]} to ``room:<id>`` when a chat
  message leaves or enters view (through ``forum.chat.actions.set_message_visibility``), and
  {op: "update", room_id, id, message} when a moderator redacts a published one;
* a ban also ends the member's sessions and closes their open sockets.

Flags: the author of a flagged item never learns who flagged it, or that it was flagged
at all (a hidden item's notice says it is waiting for a moderator). Moderators see the
reasons, counts and notes and, in a collapsed list, which members flagged, so that a
pile-on by a few accounts can be recognised. Flagger names appear nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from forum import permissions
from forum.accounts.models import Member, new_auth_token
from forum.chat.models import ChatMessage
from forum.db import as_utc, utcnow
from forum.errors import ActionError, Forbidden, NotFound
from forum.events import notify
from forum.live import close_member_sockets
from forum.moderation import notices
from forum.moderation.log import record
from forum.moderation.models import Flag, ItemType, ReviewItem
from forum.moderation.screening import (
    PRIORITY_CRISIS,
    PRIORITY_IDENTIFYING,
    PRIORITY_JUDGMENT,
    PRIORITY_NEW_MEMBER,
    PRIORITY_WATCHED,
    Verdict,
)
from forum.rooms.models import Post, Room, Thread, Visibility
from forum.sessions import end_member_sessions
from forum.text.clean import clean_text
from forum.text.render import render_post

MODERATORS_ROOM = "moderators"
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class FlagReason:
    label: str
    priority: int


FLAG_REASONS: dict[str, FlagReason] = {
    "judgment": FlagReason("Judgmental or shaming", PRIORITY_JUDGMENT),
    "identity": FlagReason("Reveals someone's identity", PRIORITY_IDENTIFYING),
    "risk": FlagReason("Someone may be at risk", PRIORITY_CRISIS),
    "graphic": FlagReason("Graphic or triggering without a warning", PRIORITY_WATCHED),
    "spam": FlagReason("Spam or advertising", PRIORITY_NEW_MEMBER),
    "other": FlagReason("Something else", PRIORITY_WATCHED),
}

# What the author is told when a moderator removes their text. Kind, specific, no blame.
REMOVAL_REASONS: dict[str, tuple[str, str]] = {
    "judgment": ("Could read as judging another member",
                 "A moderator took down something you wrote because it could come across as judging another "
                 "member. Haven works because people can share the hardest things without fear of judgment. "
                 "You're very welcome to say it again in a way that speaks from your own experience."),
    "identity": ("Could identify someone",
                 "A moderator took down something you wrote because it included details that could identify "
                 "you or someone else. Staying anonymous keeps everyone here safe. You're welcome to share it "
                 "again without those details."),
    "graphic": ("Graphic detail without a content warning",
                "A moderator took down something you wrote because it included graphic detail that could "
                "be hard for others to read without warning. You're welcome to post it again with a content "
                "warning, so readers can choose when to open it."),
    "spam": ("Advertising or off-topic",
             "A moderator took down something you wrote because it looked like advertising or was off-topic "
             "for the room. If we got that wrong, please let the moderators know."),
    "guidelines": ("Outside the community guidelines",
                   "A moderator took down something you wrote because it fell outside the community "
                   "guidelines. It's not a judgment of you, and you're welcome to keep taking part."),
    "other": ("Something else (write a note)",
              "A moderator took down something you wrote."),
}

MUTE_PERIODS: dict[int, str] = {1: "1 hour", 24: "1 day", 72: "3 days", 168: "1 week", 720: "30 days"}


def _valid_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


# Targets: a post or a chat message, behind one small interface ---------------------------

@dataclass
class Target:
    """The member text a flag or queue item points at."""

    item_type: str
    obj: Post | ChatMessage
    room_id: int

    @property
    def item_id(self) -> int:
        return self.obj.id

    @property
    def author_id(self) -> int | None:
        return self.obj.author_id

    @property
    def status(self) -> str:
        return self.obj.status

    @property
    def text(self) -> str:
        return self.obj.body_source if isinstance(self.obj, Post) else self.obj.body

    def link(self, session: Session) -> str:
        """Where the author finds it (a plain path: notices are also written outside requests)."""
        if isinstance(self.obj, Post):
            return f"/posts/{self.obj.id}"
        room = session.get(Room, self.room_id)
        return f"/rooms/{room.slug}" if room is not None else "/rooms"


def load_target(session: Session, item_type: str, item_id: int) -> Target | None:
    """The post or chat message of a flag or queue item (None when it no longer exists)."""
    if not _valid_id(item_id):
        return None
    if item_type == ItemType.POST:
        post = session.get(Post, item_id)
        if post is None:
            return None
        thread = session.get(Thread, post.thread_id)
        return Target(ItemType.POST, post, thread.room_id) if thread is not None else None
    if item_type == ItemType.CHAT:
        message = session.get(ChatMessage, item_id)
        return Target(ItemType.CHAT, message, message.room_id) if message is not None else None
    return None


def chat_channel(room_id: int) -> str:
    return f"room:{room_id}"


def set_chat_visibility(session: Session, message: ChatMessage, status: str) -> str:
    """Move a chat message to ``status``; returns the old status. Open chats are told after commit
    through the chat package's own ``set_message_visibility`` (one definition of chat events)."""
    from forum.chat.actions import set_message_visibility

    return set_message_visibility(session, message, status)


def _set_status(session: Session, target: Target, status: str) -> str:
    from forum.rooms.actions import set_post_visibility

    if isinstance(target.obj, Post):
        return set_post_visibility(session, target.obj, status)
    return set_chat_visibility(session, target.obj, status)


# The queue ------------------------------------------------------------------------------

def notify_queue(session: Session, item: ReviewItem, op: str = "update") -> None:
    """Tell every moderator's open queue page that ``item`` changed (after commit)."""
    notify(session, "queue", {"type": "queue", "op": op, "id": item.id}, to=MODERATORS_ROOM)


def open_item_for(session: Session, item_type: str, item_id: int) -> ReviewItem | None:
    return session.scalar(select(ReviewItem).where(
        ReviewItem.item_type == item_type, ReviewItem.item_id == item_id, ReviewItem.state == "open"))


def queue_for_review(session: Session, *, item_type: str, item_id: int, author_id: int | None,
                     room_id: int, labels: list[str] | tuple[str, ...], priority: int) -> ReviewItem:
    """Open (or raise the priority of) the queue entry for one item; tells moderators live."""
    item = open_item_for(session, item_type, item_id)
    if item is None:
        item = ReviewItem(item_type=item_type, item_id=item_id, author_id=author_id, room_id=room_id,
                          priority=priority, labels=list(dict.fromkeys(labels)), flag_count=0,
                          created_at=utcnow())
        session.add(item)
    else:
        item.priority = max(item.priority, priority)
        item.labels = list(dict.fromkeys([*item.labels, *labels]))
    session.flush()
    notify_queue(session, item)
    return item


def record_screening(session: Session, *, item_type: str, item_id: int, author_id: int | None,
                     room_id: int, verdict: Verdict) -> ReviewItem | None:
    """Queue text that screening held or flagged; published-clean text needs nothing.

    Held text also earns its author a private notice (worded without blame).
    """
    if verdict.decision not in ("hold", "flag"):
        return None
    item = queue_for_review(session, item_type=item_type, item_id=item_id, author_id=author_id,
                            room_id=room_id, labels=verdict.labels, priority=verdict.priority)
    if verdict.decision == "hold":
        target = load_target(session, item_type, item_id)
        notices.send_notice(session, author_id, "held", notices.HELD, target.link(session) if target else None)
    return item


# Flags ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FlagResult:
    created: bool
    message: str
    hidden: bool = False


def can_flag(user: object, item: Post | ChatMessage) -> bool:
    """Whether ``user`` may flag ``item``: a logged-in member, published text, not their own.

    (Callers show it only where the member can already see the item.)
    """
    return (isinstance(user, Member) and user.is_active and item.status == Visibility.PUBLISHED
            and item.author_id != user.id)


def access_flag_target(session: Session, member: Member, item_type: object, item_id: object) -> Target:
    """The published post or chat message ``member`` can see; NotFound otherwise."""
    try:
        number = int(str(item_id))
    except ValueError:
        raise NotFound() from None
    if item_type == ItemType.POST:
        from forum.rooms.actions import access_post

        post = access_post(session, member, number)
        target = load_target(session, ItemType.POST, post.id)
    elif item_type == ItemType.CHAT:
        target = load_target(session, ItemType.CHAT, number)
        room = session.get(Room, target.room_id) if target else None
        if target is None or room is None or not permissions.can_see_room(member, room):
            raise NotFound()
    else:
        raise NotFound()
    if target is None:
        raise NotFound()
    if target.status == Visibility.HELD and not permissions.is_moderator(member):
        raise NotFound()
    return target


def check_flag_reason(reason: object, note: object) -> tuple[str, str | None]:
    if not isinstance(reason, str) or reason not in FLAG_REASONS:
        raise ActionError("Please choose a reason.", field="reason")
    if reason == "other" or (isinstance(note, str) and note.strip()):
        label = "A short explanation" if reason == "other" else "Your note"
        return reason, clean_text(note, field="note", label=label, max_length=500)
    return reason, None


def do_flag(session: Session, member: Member, target: Target, *, reason: object, note: object = None) -> FlagResult:
    """``member`` asks the moderators to look at ``target`` (already access-checked).

    One flag per member per item (a second one changes nothing and says so); nobody
    flags their own text. The flag opens or joins the item's queue entry (a "may be at
    risk" flag at the top priority); ``FLAGS_TO_HIDE`` flags from distinct members
    hide a published item until a moderator decides (logged as an automatic action,
    the author gets a blame-free notice).
    """
    code, clean_note = check_flag_reason(reason, note)
    if target.author_id == member.id:
        raise ActionError("This is your own message, so it can't be flagged. You can edit or delete it instead.",
                          code="own")
    existing = session.scalar(select(Flag.id).where(
        Flag.item_type == target.item_type, Flag.item_id == target.item_id, Flag.member_id == member.id))
    already = FlagResult(False, "You've already flagged this. Thank you; a moderator will take a look.")
    if existing is not None:
        return already
    if target.status not in (Visibility.PUBLISHED, Visibility.HIDDEN):
        return FlagResult(False, "Thank you. This is already with the moderators.")
    item = queue_for_review(session, item_type=target.item_type, item_id=target.item_id,
                            author_id=target.author_id, room_id=target.room_id, labels=[f"flag:{code}"],
                            priority=FLAG_REASONS[code].priority)
    try:
        with session.begin_nested():
            session.add(Flag(item_type=target.item_type, item_id=target.item_id, member_id=member.id,
                             reason=code, note=clean_note, created_at=utcnow()))
    except IntegrityError:  # the same member's second flag raced past the check above
        return already
    item.flag_count += 1
    hidden = False
    threshold = int(current_app.config["FLAGS_TO_HIDE"])
    if item.flag_count >= threshold and target.status == Visibility.PUBLISHED:
        old = _set_status(session, target, Visibility.HIDDEN)
        item.labels = list(dict.fromkeys([*item.labels, "auto-hidden"]))
        record(session, None, "auto_hide", member_id=target.author_id, item_type=target.item_type,
               item_id=target.item_id, reason=f"{item.flag_count} members flagged it",
               before={"status": old, "flag_count": item.flag_count - 1})
        notices.send_notice(session, target.author_id, "hidden", notices.HIDDEN, target.link(session))
        hidden = True
    notify_queue(session, item)
    return FlagResult(True, "Thank you for letting us know. A moderator will take a look; "
                            "the author won't be told who flagged it.", hidden)


# Access for moderators ------------------------------------------------------------------

def access_review_item(session: Session, moderator: Member, item_id: int) -> ReviewItem:
    """A queue item, for moderators only (NotFound for everyone else, as if it did not exist)."""
    if not permissions.is_moderator(moderator):
        raise NotFound()
    item = session.get(ReviewItem, item_id) if _valid_id(item_id) else None
    if item is None:
        raise NotFound()
    return item


def access_member(session: Session, moderator: Member, member_id: int) -> Member:
    if not permissions.is_moderator(moderator):
        raise NotFound()
    member = session.get(Member, member_id) if _valid_id(member_id) else None
    if member is None:
        raise NotFound()
    return member


def check_claim(item: ReviewItem, moderator: Member, take_over: bool = False) -> None:
    """Refuse to act on an item another moderator has claimed, unless taking it over explicitly."""
    if item.claimed_by_id not in (None, moderator.id) and not take_over:
        raise ActionError("Another moderator is working on this item. Choose \u201ctake over\u201d if you "
                          "need to act on it yourself.", code="claimed", status=409)


def check_open(item: ReviewItem) -> None:
    if item.state != "open":
        raise ActionError("This item has already been handled.", code="closed", status=409)


def _state(item: ReviewItem, target: Target | None) -> dict[str, Any]:
    return {"status": target.status if target else None, "labels": list(item.labels),
            "flag_count": item.flag_count, "priority": item.priority, "claimed_by_id": item.claimed_by_id}


def _begin(session: Session, moderator: Member, item: ReviewItem, take_over: bool) -> Target | None:
    check_open(item)
    check_claim(item, moderator, take_over)
    if take_over and item.claimed_by_id not in (None, moderator.id):
        record(session, moderator, "take_over", member_id=item.author_id, item_type=item.item_type,
               item_id=item.item_id, before={"claimed_by_id": item.claimed_by_id})
        item.claimed_by_id = moderator.id
        item.claimed_at = utcnow()
    return load_target(session, item.item_type, item.item_id)


def _close(session: Session, item: ReviewItem) -> None:
    item.state = "closed"
    item.closed_at = utcnow()
    notify_queue(session, item, "remove")


def do_claim(session: Session, moderator: Member, item: ReviewItem, *, take_over: bool = False) -> None:
    """Mark ``item`` as being worked on by ``moderator`` so others leave it. Logged."""
    check_open(item)
    if item.claimed_by_id == moderator.id:
        return
    check_claim(item, moderator, take_over)
    before = {"claimed_by_id": item.claimed_by_id}
    action = "take_over" if item.claimed_by_id is not None else "claim"
    item.claimed_by_id = moderator.id
    item.claimed_at = utcnow()
    record(session, moderator, action, member_id=item.author_id, item_type=item.item_type,
           item_id=item.item_id, before=before)
    notify_queue(session, item)


def do_release(session: Session, moderator: Member, item: ReviewItem) -> None:
    """Give a claimed item back to the queue (only its claimant). Logged."""
    check_open(item)
    if item.claimed_by_id != moderator.id:
        raise ActionError("Only the moderator working on this item can release it.", code="claimed", status=409)
    record(session, moderator, "release", member_id=item.author_id, item_type=item.item_type,
           item_id=item.item_id, before={"claimed_by_id": item.claimed_by_id})
    item.claimed_by_id = None
    item.claimed_at = None
    notify_queue(session, item)


def do_approve(session: Session, moderator: Member, item: ReviewItem, *, take_over: bool = False,
               note: object = None) -> None:
    """Approve: dismiss the flags, publish held or hidden text, close the item.

    The author is told (``restored``) when their text becomes visible again.
    """
    target = _begin(session, moderator, item, take_over)
    before = _state(item, target)
    if target is not None and target.status in (Visibility.HELD, Visibility.HIDDEN):
        _set_status(session, target, Visibility.PUBLISHED)
        notices.send_notice(session, target.author_id, "restored", notices.RESTORED, target.link(session))
    record(session, moderator, "approve", member_id=item.author_id, item_type=item.item_type,
           item_id=item.item_id, reason=_optional_note(note), before=before)
    _close(session, item)


def _optional_note(note: object) -> str | None:
    if note is None or (isinstance(note, str) and not note.strip()):
        return None
    return clean_text(note, field="note", label="Note", max_length=1000)


def check_removal_reason(reason: object, note: object) -> tuple[str, str]:
    """The removal template and the text the author will read (a note is required for "other")."""
    if not isinstance(reason, str) or reason not in REMOVAL_REASONS:
        raise ActionError("Please choose a reason for removing it.", field="reason")
    text = REMOVAL_REASONS[reason][1]
    extra = _optional_note(note)
    if reason == "other" and extra is None:
        raise ActionError("Please write a short note the author will read.", field="note")
    if extra:
        text = f"{text} A note from the moderator: {extra}"
    return reason, text


def do_remove(session: Session, moderator: Member, item: ReviewItem, *, reason: object, note: object = None,
              take_over: bool = False) -> None:
    """Remove the text (it disappears from every open page and chat), tell the author why, close the item."""
    code, text = check_removal_reason(reason, note)
    target = _begin(session, moderator, item, take_over)
    before = _state(item, target)
    if target is not None and target.status in (Visibility.PUBLISHED, Visibility.HELD, Visibility.HIDDEN):
        _set_status(session, target, Visibility.REMOVED)
        notices.send_notice(session, target.author_id, "removed", text, target.link(session))
    record(session, moderator, "remove", member_id=item.author_id, item_type=item.item_type,
           item_id=item.item_id, reason=f"{code}: {text}", before=before)
    _close(session, item)


def do_redact(session: Session, moderator: Member, item: ReviewItem, *, text: object, note: object = None,
              take_over: bool = False) -> None:
    """The moderator rewrites the text without its identifying details; it is re-rendered,
    published, logged with the text before, and the author is told. Closes the item.

    The moderator's version passes the same screening as any text (as the moderator).
    """
    from forum.moderation.pipeline import screen_member_text

    target = _begin(session, moderator, item, take_over)
    if target is None or target.status in (Visibility.DELETED, Visibility.REMOVED):
        raise ActionError("This text is no longer available to edit.", code="unavailable", status=409)
    max_length = 20_000 if target.item_type == ItemType.POST else 1_000
    clean = clean_text(text, field="text", label="Text", max_length=max_length)
    verdict = screen_member_text(session, moderator, clean, kind="edit", confirmed=True)
    before = {**_state(item, target), "text": target.text}
    obj = target.obj
    if isinstance(obj, Post):
        obj.body_source = verdict.text
        obj.body_html = render_post(verdict.text)
        thread = session.get(Thread, obj.thread_id)
        if thread is not None:
            thread.version = Thread.version + 1
        if obj.status == Visibility.PUBLISHED:
            notify(session, "post", {"type": "post", "op": "update", "thread_id": obj.thread_id, "id": obj.id},
                   to=f"thread:{obj.thread_id}")
    else:
        from forum.chat.actions import do_change_message_text

        do_change_message_text(session, obj, verdict.text)
    if target.status != Visibility.PUBLISHED:
        _set_status(session, target, Visibility.PUBLISHED)
    notices.send_notice(session, target.author_id, "redacted", notices.REDACTED, target.link(session))
    record(session, moderator, "redact", member_id=item.author_id, item_type=item.item_type,
           item_id=item.item_id, reason=_optional_note(note), before=before)
    _close(session, item)


# Actions on members ---------------------------------------------------------------------

def _check_member_target(moderator: Member, member: Member) -> None:
    if member.id == moderator.id:
        raise ActionError("You can't do this to your own account.", code="self")
    if member.is_moderator:
        raise Forbidden("Moderators can't warn, mute or ban other moderators. An admin can change their role "
                        "first.", code="staff")


def _item_ref(item: ReviewItem | None) -> dict[str, Any]:
    return {"item_type": item.item_type, "item_id": item.item_id} if item else {}


def check_required_note(note: object, label: str) -> str:
    return clean_text(note, field="note", label=label, max_length=1000)


def do_warn(session: Session, moderator: Member, member: Member, *, message: object,
            item: ReviewItem | None = None) -> None:
    """Send ``member`` a private warning from the moderators. Logged."""
    _check_member_target(moderator, member)
    text = check_required_note(message, "The message")
    notices.send_notice(session, member.id, "warning", notices.WARNED.format(message=text))
    record(session, moderator, "warn", member_id=member.id, reason=text, before={}, **_item_ref(item))
    if item is not None:
        notify_queue(session, item)


def check_mute_hours(hours: object) -> int:
    try:
        value = int(str(hours))
    except ValueError:
        value = 0
    if value not in MUTE_PERIODS:
        raise ActionError("Please choose how long the mute lasts.", field="hours")
    return value


def do_mute(session: Session, moderator: Member, member: Member, *, hours: object, message: object = None,
            item: ReviewItem | None = None) -> None:
    """``member`` can read but not post or chat for a period; told privately. Logged with the mute before."""
    _check_member_target(moderator, member)
    period = check_mute_hours(hours)
    note = _optional_note(message)
    before = {"muted_until": _iso(member.muted_until)}
    until = utcnow() + timedelta(hours=period)
    member.muted_until = until
    when = until.strftime("%d %B %Y, %H:%M UTC")
    body = (notices.MUTED.format(until=when, message=note) if note
            else notices.MUTED_NO_NOTE.format(until=when))
    notices.send_notice(session, member.id, "muted", body)
    record(session, moderator, "mute", member_id=member.id, reason=f"{MUTE_PERIODS[period]}" + (f": {note}" if note else ""),
           before=before, **_item_ref(item))
    if item is not None:
        notify_queue(session, item)


def do_unmute(session: Session, moderator: Member, member: Member) -> None:
    if not permissions.is_moderator(moderator):
        raise NotFound()
    if not member.is_muted(utcnow()):
        raise ActionError("This member isn't muted.", code="not_muted")
    before = {"muted_until": _iso(member.muted_until)}
    member.muted_until = None
    notices.send_notice(session, member.id, "unmuted", notices.UNMUTED)
    record(session, moderator, "unmute", member_id=member.id, before=before)


def do_ban(session: Session, moderator: Member, member: Member, *, reason: object,
           item: ReviewItem | None = None) -> None:
    """Close ``member``'s account: no log-in, every session ended, every open socket closed. Logged."""
    _check_member_target(moderator, member)
    text = check_required_note(reason, "The reason")
    if member.banned_at is not None:
        raise ActionError("This member is already banned.", code="banned")
    before = {"banned_at": None, "muted_until": _iso(member.muted_until), "role": member.role}
    member.banned_at = utcnow()
    member.ban_reason = text
    member.auth_token = new_auth_token()  # any "remember me" cookie stops working too
    end_member_sessions(session, member.id)
    close_member_sockets(session, member.id)
    record(session, moderator, "ban", member_id=member.id, reason=text, before=before, **_item_ref(item))
    if item is not None:
        notify_queue(session, item)


def _iso(value: Any) -> str | None:
    value = as_utc(value)
    return value.isoformat() if value is not None else None
