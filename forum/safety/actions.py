"""Safety writes: mute and unmute, change pseudonym, delete an account, moderators'
content warnings, second-factor enrolment.

Each takes the caller's session and never commits; the request commits. Socket
events and socket disconnects leave only after the commit (forum.events).
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from forum import permissions
from forum.accounts.actions import check_pseudonym
from forum.accounts.models import Member, MemberMute, Notice, WebSession
from forum.accounts.passwords import verify_secret
from forum.accounts.pseudonyms import pseudonym_key
from forum.chat.actions import set_message_visibility
from forum.chat.models import ChatMessage, LiveSocket
from forum.db import utcnow
from forum.errors import ActionError, Forbidden, NotFound
from forum.events import notify, on_commit
from forum.moderation.log import forget_member_text, record
from forum.moderation.models import Flag, ModerationLog, ReviewItem, WatchedWord
from forum.rooms.actions import MAX_ID, check_warning, renew_pages_of, thread_channel
from forum.rooms.models import Post, Room, Thread, Visibility
from forum.safety import twofactor
from forum.safety.queries import forget_read_mutes

log = logging.getLogger(__name__)


def check_password(member: Member, password: object, field: str = "password") -> None:
    """Raise ActionError on ``field`` unless ``password`` is ``member``'s password."""
    if not isinstance(password, str) or not password or not verify_secret(member.password_hash, password):
        raise ActionError("That password isn't right.", field=field, code="wrong_password")


# Muting ------------------------------------------------------------------------------------

def check_can_mute(muter: Member, muted: Member | None) -> Member:
    """``muted``, if ``muter`` may mute them: NotFound for a former member, ActionError for oneself."""
    if muted is None:
        raise NotFound()
    if muted.id == muter.id:
        raise ActionError("You can't mute yourself.", code="self")
    return muted


def do_mute(session: Session, muter: Member, muted: Member | None) -> bool:
    """``muter`` stops seeing ``muted``'s posts and chat lines; returns False if already muted.

    Nothing is sent to anyone: the muted member is never told, and nothing they
    can see changes.
    """
    muted = check_can_mute(muter, muted)
    if session.get(MemberMute, (muter.id, muted.id)) is not None:
        return False
    session.add(MemberMute(muter_id=muter.id, muted_id=muted.id))
    session.flush()
    forget_read_mutes()
    return True


def do_unmute(session: Session, muter: Member, muted_id: int) -> bool:
    """Show ``muted_id``'s posts to ``muter`` again; returns False if there was no mute."""
    if not 0 < muted_id <= MAX_ID:
        return False  # beyond the id column: no such member (PostgreSQL would refuse the query)
    result = session.execute(delete(MemberMute).where(MemberMute.muter_id == muter.id,
                                                      MemberMute.muted_id == muted_id))
    forget_read_mutes()
    return bool(getattr(result, "rowcount", 0))


# Pseudonym -------------------------------------------------------------------------------------

def do_change_pseudonym(session: Session, member: Member, new: object) -> str:
    """Give ``member`` a new pseudonym (the same rules as sign-up); the old one is not kept anywhere.

    Raises ActionError on field ``pseudonym``. The caller rate-limits successful changes.
    """
    name = check_pseudonym(session, new, exclude_member_id=member.id)
    if name == member.pseudonym:
        raise ActionError("That is already your pseudonym.", field="pseudonym", code="unchanged")
    member.pseudonym = name
    member.pseudonym_key = pseudonym_key(name)
    member.pseudonym_changed_at = utcnow()
    session.flush()
    renew_pages_of(session, member.id)
    return name


# Deleting an account ------------------------------------------------------------------------

def _close_sockets_after_commit(session: Session, member_id: int) -> None:
    """Disconnect every open socket of ``member_id`` once the deletion is committed.

    The ids are read now: the ``live_socket`` rows go with the member, so a lookup
    after the commit would find nothing to close.
    """
    sids = list(session.scalars(select(LiveSocket.sid).where(LiveSocket.member_id == member_id)))

    def _disconnect() -> None:
        from forum.extensions import socketio

        for sid in sids:
            try:
                socketio.server.disconnect(sid, namespace="/")
            except Exception:  # noqa: BLE001 - a socket that is already gone is fine
                log.debug("socket already closed")

    on_commit(session, _disconnect)


def _remove_posts(session: Session, member_id: int) -> None:
    """Scrub the text of every post by ``member_id``; replies by others stay in place.

    A thread they started that nobody else answered goes entirely; one with
    others' replies stays, titled as before, its opening post marked deleted.
    """
    posts = session.scalars(select(Post).where(Post.author_id == member_id)).all()
    touched: dict[int, Thread] = {}
    unpublished: dict[int, int] = {}
    for post in posts:
        thread = touched.get(post.thread_id) or session.get_one(Thread, post.thread_id)
        touched[thread.id] = thread
        if post.status == Visibility.PUBLISHED:
            # A deleted opening post stays the thread's head and keeps counting (Thread.post_count).
            unpublished[thread.id] = unpublished.get(thread.id, 0) + (post.parent_id is not None)
            notify(session, "post", {"type": "post", "op": "remove", "thread_id": thread.id, "id": post.id},
                   to=thread_channel(thread.id))
        post.status = Visibility.DELETED
        post.body_source = ""
        post.body_html = ""
        post.content_warning = None
        post.submit_key = None
        post.author_id = None
        thread.version = Thread.version + 1
    for thread_id, count in unpublished.items():
        # One SQL decrement per thread: assigning "post_count - 1" once per post would count once.
        touched[thread_id].post_count = Thread.post_count - count
    session.flush()
    for thread in session.scalars(select(Thread).where(Thread.author_id == member_id)).all():
        others = session.scalar(select(func.count()).select_from(Post).where(
            Post.thread_id == thread.id, Post.status != Visibility.DELETED))
        if others:
            continue
        if thread.status == Visibility.PUBLISHED:
            thread.room.thread_count = Room.thread_count - 1
        post_ids = list(session.scalars(select(Post.id).where(Post.thread_id == thread.id)))
        _forget_items(session, "post", post_ids)
        session.execute(update(Post).where(Post.thread_id == thread.id).values(parent_id=None))
        session.execute(delete(Post).where(Post.thread_id == thread.id))
        session.delete(thread)
    session.flush()
    # What is left of their posts has no text to review any more.
    session.execute(update(ReviewItem).where(ReviewItem.item_type == "post", ReviewItem.state == "open",
                                             ReviewItem.item_id.in_([p.id for p in posts]))
                    .values(state="closed", closed_at=utcnow()))


def _forget_items(session: Session, item_type: str, ids: list[int]) -> None:
    """Flags and queue entries about items that are being deleted outright."""
    if not ids:
        return
    session.execute(delete(Flag).where(Flag.item_type == item_type, Flag.item_id.in_(ids)))
    session.execute(delete(ReviewItem).where(ReviewItem.item_type == item_type, ReviewItem.item_id.in_(ids)))


def do_delete_account(session: Session, member: Member, *, password: object, keep_posts: bool) -> None:
    """Delete ``member`` for good, after checking their password.

    Gone from the database: the member row (pseudonym, hashes, second factor), every
    session, their chat lines (taken out of open chats too: ``chat`` remove to each
    line's room), the flags they made, mutes in both directions,
    their notices, their open sockets (disconnected after commit). Their posts are
    kept under "A former member" (``keep_posts``) or have their text removed.
    References elsewhere (moderation log, review queue, watched words they added)
    lose the link to them, and moderation log entries about them lose the text a
    redaction kept (their words before the moderator's edit).
    """
    check_password(member, password)
    member_id = member.id
    _close_sockets_after_commit(session, member_id)
    if keep_posts:
        renew_pages_of(session, member_id)  # their posts' author changes
        session.execute(update(Post).where(Post.author_id == member_id).values(author_id=None, submit_key=None))
    else:
        _remove_posts(session, member_id)
    session.execute(update(Thread).where(Thread.author_id == member_id).values(author_id=None))
    # Their lines leave every open chat now (a "remove" each, after commit), then the database.
    for line in session.scalars(select(ChatMessage).where(ChatMessage.author_id == member_id,
                                                          ChatMessage.status == Visibility.PUBLISHED)).all():
        set_message_visibility(session, line, Visibility.REMOVED)
    chat_ids = list(session.scalars(select(ChatMessage.id).where(ChatMessage.author_id == member_id)))
    _forget_items(session, "chat", chat_ids)
    session.execute(delete(ChatMessage).where(ChatMessage.author_id == member_id))
    session.execute(delete(Flag).where(Flag.member_id == member_id))
    session.execute(delete(MemberMute).where((MemberMute.muter_id == member_id) | (MemberMute.muted_id == member_id)))
    session.execute(delete(Notice).where(Notice.member_id == member_id))
    session.execute(delete(WebSession).where(WebSession.member_id == member_id))
    session.execute(delete(LiveSocket).where(LiveSocket.member_id == member_id))
    forget_member_text(session, member_id)  # before the entries lose their link to the member
    session.execute(update(ReviewItem).where(ReviewItem.author_id == member_id).values(author_id=None))
    session.execute(update(ReviewItem).where(ReviewItem.claimed_by_id == member_id).values(claimed_by_id=None))
    session.execute(update(ModerationLog).where(ModerationLog.member_id == member_id).values(member_id=None))
    session.execute(update(ModerationLog).where(ModerationLog.moderator_id == member_id).values(moderator_id=None))
    session.execute(update(WatchedWord).where(WatchedWord.created_by_id == member_id).values(created_by_id=None))
    session.delete(member)
    session.flush()
    # Objects still in this session that pointed at the member must not be written back.
    session.expire_all()


# Content warnings set by moderators ------------------------------------------------------

def do_set_content_warning(session: Session, moderator: Member, post: Post, warning: object) -> str | None:
    """A moderator adds, changes or (with an empty warning) removes the warning on ``post``.

    Logged in the moderation log with the warning before. The author gets a notice
    when a warning is added or changed. Sends ``post`` update to the thread's page.
    Returns the new warning.
    """
    if not twofactor.moderator_verified(moderator):
        raise Forbidden("Only moderators can change another member's content warning.")
    if post.status == Visibility.DELETED:
        raise ActionError("That post was deleted by its author.", code="deleted")
    new = check_warning(warning)
    old = post.content_warning
    if new == old:
        return new
    post.content_warning = new
    thread = session.get_one(Thread, post.thread_id)
    thread.version = Thread.version + 1
    record(session, moderator, "set_warning", member_id=post.author_id, item_type="post", item_id=post.id,
           reason=new, before={"content_warning": old})
    if post.author_id is not None and post.author_id != moderator.id and new:
        session.add(Notice(member_id=post.author_id, kind="content_warning",
                           body=f"A moderator put a content warning on one of your posts: “{new}”. "
                                "Readers now open it with one click.",
                           link=f"/posts/{post.id}"))
    if post.status == Visibility.PUBLISHED:
        notify(session, "post", {"type": "post", "op": "update", "thread_id": post.thread_id, "id": post.id},
               to=thread_channel(post.thread_id))
    return new


def can_warn(user: object) -> bool:
    return permissions.is_moderator(user)


# Second factor ----------------------------------------------------------------------------

def do_start_two_factor(session: Session, member: Member) -> str:
    """Give ``member`` a new, unconfirmed TOTP secret unless one is pending; returns it."""
    if not member.is_moderator:
        raise NotFound()
    if member.totp_secret is None or member.totp_confirmed_at is not None:
        if member.totp_confirmed_at is not None:
            raise ActionError("Your second factor is already set up.", code="enrolled")
        member.totp_secret = twofactor.new_secret()
    return member.totp_secret


def do_confirm_two_factor(session: Session, member: Member, code: object) -> None:
    """Confirm the pending secret with a current code from the app."""
    if not member.is_moderator or member.totp_secret is None:
        raise NotFound()
    if not twofactor.check_code(member.totp_secret, code):
        raise ActionError("That code didn't match. Check the time on your phone and try the newest code.",
                          field="code", code="bad_code")
    _check_first_use(member, code)
    member.totp_confirmed_at = utcnow()


def _check_first_use(member: Member, code: object) -> None:
    if not twofactor.first_use(member.id, str(code)):
        raise ActionError("That code was just used. Please wait for the app to show the next one.",
                          field="code", code="code_used")


def check_two_factor_code(member: Member, code: object) -> None:
    if not twofactor.has_second_factor(member) or not twofactor.check_code(member.totp_secret, code):
        raise ActionError("That code didn't match. Please try the newest code from your app.",
                          field="code", code="bad_code")
    _check_first_use(member, code)
