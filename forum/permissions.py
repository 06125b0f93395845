"""Named permission predicates, shared by routes, socket handlers and templates.

Each takes the member (or an anonymous user) first. Audience walls answer 404 at
the boundary, so a refusal never reveals that a room or thread exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from forum.accounts.models import Member
from forum.db import utcnow
from forum.rooms.models import Post, Room, Thread, Visibility
from forum.sessions import acting_session

if TYPE_CHECKING:
    from forum.rooms.queries import RoomHead, ThreadHead


def _member(user: Any) -> Member | None:
    return user if isinstance(user, Member) and user.is_active else None


def is_moderator(user: Any) -> bool:
    """A moderator whose powers are on: both audiences, held and removed text, locked threads.

    For a page or a socket event (``forum.sessions.acting_session``) that takes what
    ``can_moderate`` takes: the second factor entered in that session and a recent log-in,
    so a moderator's password alone never opens the other audience's rooms. Outside both
    (the CLI, a background task) there is no session to steal and the role is enough. Who merely
    holds the role, verified or not, is ``Member.is_moderator`` (the menu's link to the
    moderation pages, which ask for the code).
    """
    member = _member(user)
    if member is None or not member.is_moderator:
        return False
    if acting_session() is None:
        return True
    from forum.safety.twofactor import moderator_verified

    return moderator_verified(member)


def can_see_room(user: Any, room: Room | RoomHead) -> bool:
    """Members see the rooms of their own path; moderators (verified: ``is_moderator``) every room."""
    member = _member(user)
    if member is None:
        return False
    return member.path == room.audience or is_moderator(member)


def can_see_thread(user: Any, thread: Thread | ThreadHead) -> bool:
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


def can_reply_in(user: Any, thread: Thread | ThreadHead) -> bool:
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
