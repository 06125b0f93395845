"""Named permission predicates, shared by routes, socket handlers and templates.

Each takes the member (or an anonymous user) first. Audience walls answer 404 at
the boundary, so a refusal never reveals that a room or thread exists.
"""

from __future__ import annotations

from typing import Any

from forum.accounts.models import Member
from forum.db import utcnow
from forum.rooms.models import Post, Room, Thread, Visibility


def _member(user: Any) -> Member | None:
    return user if isinstance(user, Member) and user.is_active else None


def is_moderator(user: Any) -> bool:
    member = _member(user)
    return member is not None and member.is_moderator


def can_see_room(user: Any, room: Room) -> bool:
    """Members see the rooms of their own path; moderators see every room."""
    member = _member(user)
    if member is None:
        return False
    return member.is_moderator or member.path == room.audience


def can_see_thread(user: Any, thread: Thread) -> bool:
    if not can_see_room(user, thread.room):
        return False
    if thread.status in (Visibility.PUBLISHED, Visibility.DELETED):
        return True
    return is_moderator(user) or (thread.status == Visibility.HELD and thread.author_id == user.id)


def can_see_post_text(user: Any, post: Post) -> bool:
    """Whether ``user`` may read the text of ``post`` (its thread already visible)."""
    if post.status == Visibility.PUBLISHED:
        return True
    if post.status == Visibility.DELETED:
        return False
    if is_moderator(user):
        return True
    return post.status == Visibility.HELD and post.author_id == getattr(user, "id", None)


def can_post(user: Any) -> bool:
    member = _member(user)
    return member is not None and not member.is_muted(utcnow())


def can_reply_in(user: Any, thread: Thread) -> bool:
    """Whether ``user`` is offered reply forms in ``thread`` (already visible to them): members
    who may post, in a published thread that is open; moderators in any thread."""
    if not can_post(user):
        return False
    return is_moderator(user) or (thread.status == Visibility.PUBLISHED and not thread.locked)


def can_edit_post(user: Any, post: Post) -> bool:
    member = _member(user)
    return (member is not None and post.author_id == member.id
            and post.status in (Visibility.PUBLISHED, Visibility.HELD))


def can_moderate(user: Any) -> bool:
    """A moderator who may use moderation pages and events right now: second factor entered
    this session (when REQUIRE_MODERATOR_TOTP) and a log-in within MODERATOR_REAUTH_HOURS."""
    from forum.safety.twofactor import moderator_verified

    return moderator_verified(user)
