"""Writes for rooms, threads and posts: access_* (load + permission), do_* (write).

Every write of member text goes validate -> screen -> store -> record -> notify.
Functions take the caller's session and never commit; events leave after commit.
Events: ``post`` ({type, op, thread_id, id}) to socket room ``thread:<id>`` when
published text changes, and ``queue`` to moderators when screening holds or flags.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from forum import permissions
from forum.accounts.models import Member
from forum.db import as_utc, utcnow
from forum.errors import ActionError, Forbidden, NotFound
from forum.events import notify
from forum.moderation.actions import record_screening
from forum.moderation.pipeline import Kind, screen_member_text
from forum.moderation.screening import Verdict
from forum.rooms import queries
from forum.rooms.models import Post, Room, Thread, Visibility
from forum.text.clean import clean_text
from forum.text.render import render_post

MAX_BODY = 20_000
MAX_TITLE = 150
MAX_WARNING = 120
MAX_STORED_DEPTH = 200  # replies nest without limit on screen; storage keeps paths indexable
MAX_ID = 2**31 - 1  # ids beyond the integer column are unknown, not an overflow
_SUBMIT_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def thread_channel(thread_id: int) -> str:
    return f"thread:{thread_id}"


# Access ---------------------------------------------------------------------------------

def _valid_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def access_room(session: Session, member: Member, slug: str) -> Room:
    """The room ``slug`` if ``member`` may see it; NotFound otherwise (unknown looks the same)."""
    room = session.scalar(select(Room).where(Room.slug == slug)) if _SLUG.match(slug or "") else None
    if room is None or not permissions.can_see_room(member, room):
        raise NotFound()
    return room


def access_room_by_id(session: Session, member: Member, room_id: int) -> Room:
    room = session.get(Room, room_id) if _valid_id(room_id) else None
    if room is None or not permissions.can_see_room(member, room):
        raise NotFound()
    return room


def access_thread(session: Session, member: Member, thread_id: int) -> Thread:
    """The thread if its room is ``member``'s and its state lets them see it; NotFound otherwise."""
    thread = session.get(Thread, thread_id) if _valid_id(thread_id) else None
    if thread is None or not permissions.can_see_thread(member, thread):
        raise NotFound()
    return thread


def read_thread(session: Session, member: Member, thread_id: int) -> queries.ThreadHead:
    """``access_thread`` for pages that only show the thread: the same check, on a lighter read."""
    thread = queries.thread_head(session, thread_id) if _valid_id(thread_id) else None
    if thread is None or not permissions.can_see_thread(member, thread):
        raise NotFound()
    return thread


def access_post(session: Session, member: Member, post_id: int) -> Post:
    """A post of a thread ``member`` can see. Posts held for review are NotFound to all
    but their author and moderators; removed, hidden and deleted ones are reachable
    (their page shows a placeholder, never the text)."""
    post = session.get(Post, post_id) if _valid_id(post_id) else None
    if post is None:
        raise NotFound()
    access_thread(session, member, post.thread_id)
    if post.status == Visibility.HELD and not permissions.can_see_post_text(member, post):
        raise NotFound()
    return post


def _thread_of(session: Session, thread_id: int) -> Thread:
    """The thread of a post already loaded (posts never outlive their thread)."""
    thread = session.get(Thread, thread_id)
    if thread is None:
        raise NotFound()
    return thread


# Checks ---------------------------------------------------------------------------------

def check_can_write(member: Member) -> None:
    if not member.is_active:
        raise Forbidden("This account has been closed.", code="banned")
    if member.is_muted(utcnow()):
        raise Forbidden("You're muted for now, so you can read but not post. "
                        "You'll be able to post again when the mute ends.", code="muted")


def check_body(raw: object) -> str:
    return clean_text(raw, field="body", label="Message", max_length=MAX_BODY)


def check_title(raw: object) -> str:
    return clean_text(raw, field="title", label="Title", max_length=MAX_TITLE, multiline=False)


def check_warning(raw: object) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return clean_text(raw, field="content_warning", label="Content warning", max_length=MAX_WARNING,
                      multiline=False)


def check_submit_key(raw: object) -> str | None:
    if isinstance(raw, str) and _SUBMIT_KEY.match(raw):
        return raw
    return None


def _existing_submission(session: Session, member: Member, submit_key: str | None) -> Post | None:
    if submit_key is None:
        return None
    return session.scalar(select(Post).where(Post.author_id == member.id, Post.submit_key == submit_key))


def find_submission(session: Session, member: Member, submit_key: object) -> Post | None:
    """After a ``duplicate`` error (two submits racing): the copy that won, if any."""
    key = check_submit_key(submit_key)
    if key is None:
        return None
    return session.scalar(select(Post).where(Post.author_id == member.id, Post.submit_key == key))


def _check_fields(**checks: tuple[Callable[[object], str | None], object]) -> dict[str, str | None]:
    """Run every field's check; raise one ActionError naming all the fields that failed."""
    values: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    for name, (check, raw) in checks.items():
        try:
            values[name] = check(raw)
        except ActionError as exc:
            errors.update(exc.fields or {name: exc.message})
    if errors:
        raise ActionError(next(iter(errors.values())), fields=errors)
    return values


def _screen(session: Session, member: Member, text: str, kind: Kind, confirmed: bool) -> Verdict:
    return screen_member_text(session, member, text, kind=kind, confirmed=confirmed)


def _screen_warning(session: Session, member: Member, warning: str | None, confirmed: bool,
                    verdict: Verdict) -> tuple[Verdict, str | None]:
    """Screen a member's content warning too; returns the combined verdict and the warning to store."""
    if warning is None:
        return verdict, None
    warning_verdict = _screen(session, member, warning, "warning", confirmed)
    return _combine(verdict, warning_verdict), warning_verdict.text[:MAX_WARNING]


def _status_for(verdict: Verdict) -> str:
    return Visibility.HELD if verdict.decision == "hold" else Visibility.PUBLISHED


def _combine(body: Verdict, other: Verdict) -> Verdict:
    """The stricter decision of a body's verdict and its title's, with every label of both.

    The text stays the body's: the title's own verdict supplies the stored title.
    """
    order = ["publish", "flag", "hold"]
    winner = body if order.index(body.decision) >= order.index(other.decision) else other
    return replace(winner, text=body.text, labels=tuple(dict.fromkeys(body.labels + other.labels)),
                   priority=max(body.priority, other.priority), crisis=body.crisis or other.crisis)


# Writes ---------------------------------------------------------------------------------

def renew_pages_of(session: Session, member_id: int) -> None:
    """Kept thread pages name their authors: a member's new pseudonym (or their leaving) must
    show at once on every thread holding a post of theirs, so those threads' versions move on."""
    session.execute(update(Thread).where(Thread.id.in_(select(Post.thread_id).where(Post.author_id == member_id)))
                    .values(version=Thread.version + 1))


def do_create_thread(session: Session, member: Member, room: Room, *, title: object, body: object,
                     content_warning: object = None, submit_key: object = None,
                     confirmed: bool = False) -> tuple[Post, Verdict | None]:
    """Start a thread in ``room`` (already access-checked); returns its opening post and the verdict.

    Every field is checked before anything is written, and all problems are reported
    together. A repeated ``submit_key`` returns the post stored the first time
    (verdict None). Raises ActionError (nothing written), NeedsConfirmation, Forbidden.
    """
    check_can_write(member)
    fields = _check_fields(title=(check_title, title), body=(check_body, body),
                           content_warning=(check_warning, content_warning))
    clean_title, clean_body, warning = str(fields["title"]), str(fields["body"]), fields["content_warning"]
    key = check_submit_key(submit_key)
    existing = _existing_submission(session, member, key)
    if existing is not None:
        return existing, None
    title_verdict = _screen(session, member, clean_title, "title", confirmed)
    verdict = _combine(_screen(session, member, clean_body, "post", confirmed), title_verdict)
    verdict, warning = _screen_warning(session, member, warning, confirmed, verdict)
    now = utcnow()
    status = _status_for(verdict)
    # Screening may rewrite words; the stored title still fits its column.
    thread = Thread(room_id=room.id, author_id=member.id, title=title_verdict.text[:MAX_TITLE], status=status,
                    created_at=now, last_activity_at=now, post_count=0)
    session.add(thread)
    session.flush()
    post = _store_post(session, member, thread, None, verdict, warning, key, now)
    if status == Visibility.PUBLISHED:
        room.thread_count = Room.thread_count + 1
        room.last_activity_at = now
    return post, verdict


def do_reply(session: Session, member: Member, parent: Post, *, body: object,
             content_warning: object = None, submit_key: object = None,
             confirmed: bool = False) -> tuple[Post, Verdict | None]:
    """Answer ``parent`` (already access-checked) in its own thread; the thread always comes
    from the parent, so a reply can't land in another thread. Same contract as
    ``do_create_thread``; sends ``post`` add to the thread's page when published."""
    check_can_write(member)
    thread = _thread_of(session, parent.thread_id)
    if thread.locked and not permissions.is_moderator(member):
        raise Forbidden("This thread is closed to new replies.", code="locked")
    if parent.status not in (Visibility.PUBLISHED, Visibility.DELETED) and not permissions.is_moderator(member):
        raise ActionError("That post can't be answered right now.", code="unavailable")
    if parent.depth + 1 > MAX_STORED_DEPTH:
        raise ActionError("This conversation is nested as deep as it can go. Please reply further up.")
    fields = _check_fields(body=(check_body, body), content_warning=(check_warning, content_warning))
    text, warning = str(fields["body"]), fields["content_warning"]
    key = check_submit_key(submit_key)
    existing = _existing_submission(session, member, key)
    if existing is not None:
        return existing, None
    verdict, warning = _screen_warning(session, member, warning, confirmed,
                                       _screen(session, member, text, "reply", confirmed))
    post = _store_post(session, member, thread, parent, verdict, warning, key, utcnow())
    return post, verdict


def _store_post(session: Session, member: Member, thread: Thread, parent: Post | None, verdict: Verdict,
                warning: str | None, key: str | None, now: datetime) -> Post:
    status = _status_for(verdict)
    post = Post(thread_id=thread.id, parent_id=parent.id if parent else None, author_id=member.id,
                depth=parent.depth + 1 if parent else 0, body_source=verdict.text,
                body_html=render_post(verdict.text), status=status, content_warning=warning,
                submit_key=key, created_at=now)
    session.add(post)
    try:
        session.flush()
    except IntegrityError:
        # Two submits with one key raced past the check above. No savepoint: the caller
        # rolls the whole request back and shows the copy that won (find_submission).
        raise ActionError("That was already posted.", code="duplicate", status=409) from None
    post.sort_key = (parent.sort_key + "/" if parent else "") + f"{post.id:010d}"
    thread.version = Thread.version + 1
    if status == Visibility.PUBLISHED:
        thread.post_count = Thread.post_count + 1
        thread.last_activity_at = post.created_at
        member.published_posts = Member.published_posts + 1
        room = thread.room
        room.last_activity_at = post.created_at
        notify(session, "post", {"type": "post", "op": "add", "thread_id": thread.id, "id": post.id},
               to=thread_channel(thread.id))
    record_screening(session, item_type="post", item_id=post.id, author_id=member.id, room_id=thread.room_id,
                     verdict=verdict)
    return post


def do_edit_post(session: Session, member: Member, post: Post, *, body: object,
                 content_warning: object = None, confirmed: bool = False) -> tuple[Post, Verdict]:
    """The author rewrites their post; it is screened again and shown as edited.

    Only the author, and only while the post is published or held (Forbidden
    otherwise). If screening now holds it, it leaves the thread until reviewed.
    Sends ``post`` update (or remove, when held) to the thread's page.
    """
    check_can_write(member)
    if not permissions.can_edit_post(member, post):
        raise Forbidden("Only the author can edit this post.")
    fields = _check_fields(body=(check_body, body), content_warning=(check_warning, content_warning))
    text, warning = str(fields["body"]), fields["content_warning"]
    verdict, warning = _screen_warning(session, member, warning, confirmed,
                                       _screen(session, member, text, "edit", confirmed))
    post.body_source = verdict.text
    post.body_html = render_post(verdict.text)
    post.content_warning = warning
    post.edited_at = utcnow()
    thread = _thread_of(session, post.thread_id)
    thread.version = Thread.version + 1
    if verdict.decision == "hold" and post.status == Visibility.PUBLISHED:
        set_post_visibility(session, post, Visibility.HELD)  # keeps counters; tells pages "remove"
    elif post.status == Visibility.PUBLISHED:
        notify(session, "post", {"type": "post", "op": "update", "thread_id": post.thread_id, "id": post.id},
               to=thread_channel(post.thread_id))
    record_screening(session, item_type="post", item_id=post.id, author_id=member.id, room_id=thread.room_id,
                     verdict=verdict)
    return post, verdict


def do_delete_post(session: Session, member: Member, post: Post) -> bool:
    """The author deletes their post: the text goes, a marker stays, replies below it stay.

    Only the author, and only a published or held post (Forbidden otherwise); a
    second delete of the same post changes nothing and returns False. Sends
    ``post`` remove to the thread's page.
    """
    if post.status == Visibility.DELETED and post.author_id == member.id:
        return False
    if not permissions.can_edit_post(member, post):
        raise Forbidden("Only the author can delete this post.")
    was_published = post.status == Visibility.PUBLISHED
    post.status = Visibility.DELETED
    post.body_source = ""
    post.body_html = ""
    post.content_warning = None
    thread = _thread_of(session, post.thread_id)
    thread.version = Thread.version + 1
    if was_published and post.parent_id is not None:
        # A deleted opening post stays the thread's head (see Thread.reply_count).
        thread.post_count = Thread.post_count - 1
    notify(session, "post", {"type": "post", "op": "remove", "thread_id": post.thread_id, "id": post.id},
           to=thread_channel(post.thread_id))
    return True


def do_ensure_default_rooms(session: Session) -> int:
    """Create the default rooms that are missing; returns how many were created (idempotent)."""
    created = 0
    for position, (audience, slug, name, description) in enumerate(DEFAULT_ROOMS):
        if session.scalar(select(Room.id).where(Room.slug == slug)) is None:
            session.add(Room(slug=slug, name=name, description=description, audience=audience,
                             position=position))
            created += 1
    session.flush()
    return created


DEFAULT_ROOMS = [
    ("partner", "just-found-out", "Just found out",
     "For the first days and weeks after discovery, when everything is raw."),
    ("partner", "living-with-it", "Living with it",
     "Boundaries, trust, triggers and the everyday work of staying or deciding."),
    ("partner", "rebuilding-or-leaving", "Rebuilding or leaving",
     "Whatever you choose, rebuilding your own life and your sense of self."),
    ("partner", "partners-step-work", "Your own recovery",
     "Self-care, your own step work and learning about betrayal trauma."),
    ("recovery", "early-days", "Early days",
     "New to recovery? Start here. No question is too basic."),
    ("recovery", "working-the-steps", "Working the steps",
     "Twelve-step work, sponsors, meetings and honest self-assessment."),
    ("recovery", "relapse-and-starting-again", "Relapse and starting again",
     "Slips happen. Talk about them here without shame, and begin again."),
    ("recovery", "making-amends", "Making amends",
     "Repairing trust with partners and family, at a pace that respects them."),
]


def current_limit(name: str) -> str:
    return str(current_app.config[name])


def set_post_visibility(session: Session, post: Post, status: str) -> str:
    """Move ``post`` to ``status`` (moderation: approve, hide, remove, restore); returns the old status.

    Keeps the thread's and room's counters and the opening post's thread status in
    step, bumps the thread version, and tells open thread pages (``post`` update).
    Does not log or notify the author: the moderation action calling it does.
    """
    old = post.status
    if old == status:
        return old
    thread = _thread_of(session, post.thread_id)
    now_public = status == Visibility.PUBLISHED
    was_public = old == Visibility.PUBLISHED
    post.status = status
    thread.version = Thread.version + 1
    if now_public and not was_public:
        thread.post_count = Thread.post_count + 1
        created, current = as_utc(post.created_at), as_utc(thread.last_activity_at)
        if created is not None and (current is None or created > current):
            thread.last_activity_at = created
        room_last = as_utc(thread.room.last_activity_at)
        if (post.parent_id is not None and thread.status == Visibility.PUBLISHED and created is not None
                and (room_last is None or created > room_last)):
            thread.room.last_activity_at = created  # the room index shows it as the thread list does
        if post.author is not None and old == Visibility.HELD:
            post.author.published_posts = Member.published_posts + 1
    elif was_public and not now_public:
        thread.post_count = Thread.post_count - 1
    if post.parent_id is None:
        room = thread.room
        if now_public and thread.status != Visibility.PUBLISHED:
            room.thread_count = Room.thread_count + 1
            room.last_activity_at = utcnow()
        elif not now_public and thread.status == Visibility.PUBLISHED:
            room.thread_count = Room.thread_count - 1
        thread.status = status
    op = "add" if now_public and not was_public else ("remove" if was_public else "update")
    notify(session, "post", {"type": "post", "op": op, "thread_id": thread.id, "id": post.id},
           to=thread_channel(thread.id))
    return old
