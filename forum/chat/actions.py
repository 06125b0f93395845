"""Chat writes: the one path every chat message takes, from a socket or from a form.

``do_send_message`` validates, checks the author may write, dedupes a resend,
applies the rate limit, screens, stores, queues the message for moderators when
screening says so, and queues the broadcast (sent after the caller commits).
``set_message_visibility`` is what moderation calls to remove, hide or restore.
Functions take the caller's session and never commit.

Events, always to ``room:<id>`` (the socket room of the chat's room), each carrying
the room's change number ``seq`` (see forum.chat.models): ``chat`` {type: "chat",
op: "add", room_id, id, seq, message} when a published message appears (sent,
approved or restored), {op: "update", ..., message} when its text changes (a
moderator's redaction), and {op: "remove", room_id, id, seq} when one leaves
(removed, hidden, held). A client that sees a number skip asks ``since`` for the rest. Sockets of members who muted the author are
skipped by the add; each such member gets it on ``member:<id>`` with the line hidden.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Table, bindparam, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from forum.accounts.models import Member
from forum.chat.models import ChatCursor, ChatMessage
from forum.chat.queries import message_payload
from forum.chat.ratelimit import check_rate
from forum.db import DriverStatement, unattached, utcnow
from forum.errors import ActionError, NotFound
from forum.events import notify
from forum.moderation.actions import record_screening
from forum.moderation.pipeline import screen_member_text
from forum.moderation.screening import Verdict
from forum.rooms.actions import check_can_write
from forum.rooms.models import Room, Visibility
from forum.text.clean import clean_text
from forum.text.render import render_chat

MAX_MESSAGE = 1_000
# Anything this long is refused before any normalisation work (frames are capped at 64 KB anyway).
MAX_RAW = 4 * MAX_MESSAGE
MAX_ID = 2**31 - 1
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

def room_channel(room_id: int) -> str:
    """The socket room of a chat room; built only from ids the server has checked."""
    return f"room:{room_id}"


@dataclass(frozen=True)
class Sent:
    """What a send produced: the stored message, and the verdict (None for a deduplicated resend)."""

    message: ChatMessage
    verdict: Verdict | None


# Access ------------------------------------------------------------------------------------

def valid_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def access_message(session: Session, member: Member, message_id: object) -> ChatMessage:
    """A chat message of a room ``member`` can see; held ones only for their author and moderators."""
    from forum import permissions

    message = session.get(ChatMessage, message_id) if valid_id(message_id) else None
    if message is None:
        raise NotFound()
    room = session.get(Room, message.room_id)
    if room is None or not permissions.can_see_room(member, room):
        raise NotFound()
    if message.status == Visibility.HELD and not (permissions.is_moderator(member) or message.author_id == member.id):
        raise NotFound()
    return message


# Checks ------------------------------------------------------------------------------------

def check_message_body(raw: object) -> str:
    """The message as it will be screened; ActionError with code empty, too_long or invalid."""
    if not isinstance(raw, str):
        raise ActionError("Your message must be text.", field="body", code="invalid")
    if len(raw) > MAX_RAW:
        raise ActionError(f"Messages can be at most {MAX_MESSAGE:,} characters.", field="body", code="too_long")
    try:
        text = clean_text(raw, field="body", label="Your message", max_length=MAX_RAW)
    except ActionError as exc:
        code = "empty" if "empty" in exc.message else "invalid"
        raise ActionError(exc.message, field="body", code=code) from None
    if len(text) > MAX_MESSAGE:
        raise ActionError(f"Messages can be at most {MAX_MESSAGE:,} characters (this one is {len(text):,}).",
                          field="body", code="too_long")
    return text


def check_client_id(raw: object) -> str | None:
    """A client's id for one message (8-64 URL-safe characters), or None when absent."""
    if raw is None:
        return None
    if isinstance(raw, str) and _CLIENT_ID.match(raw):
        return raw
    raise ActionError("That message couldn't be sent. Please reload the page.", code="invalid")


_CURSOR: Table = ChatCursor.__table__  # type: ignore[assignment]
_MESSAGE: Table = ChatMessage.__table__  # type: ignore[assignment]
# Built once: a statement object keeps its compiled form's cache key, so each use skips both.
_BUMP = DriverStatement(update(_CURSOR).where(_CURSOR.c.room_id == bindparam("room"))
                        .values(seq=_CURSOR.c.seq + 1).returning(_CURSOR.c.seq))
# A line whose author already used its client id (a resend) is not inserted and returns no id.
# Written as text (the same SQL on SQLite and PostgreSQL), with the columns' types on the
# parameters, which store the values as Core would. Both run on the driver's cursor
# (forum.db.DriverStatement): SQLAlchemy's execution layer cost more than SQLite's work.
_INSERT = DriverStatement(text(
    "INSERT INTO chat_message (room_id, author_id, body, body_html, status, client_id, seq, created_at) "
    "VALUES (:room_id, :author_id, :body, :body_html, :status, :client_id, :seq, :created_at) "
    "ON CONFLICT (author_id, client_id) DO NOTHING RETURNING id"
).bindparams(*(bindparam(c, type_=_MESSAGE.c[c].type)
               for c in ("room_id", "author_id", "body", "body_html", "status", "client_id", "seq", "created_at"))))
_FIND_SENT = select(_MESSAGE.c.id).where(_MESSAGE.c.author_id == bindparam("author"),
                                         _MESSAGE.c.client_id == bindparam("client"))


def find_sent_message(session: Session, member: Member, client_id: str | None) -> ChatMessage | None:
    """The message ``member`` already sent under ``client_id``, if any."""
    if client_id is None:
        return None
    # The id alone first (a prepared Core statement): a resend is rare, loading the row costs more.
    found = session.connection().execute(_FIND_SENT, {"author": member.id, "client": client_id}).scalar()
    return session.get(ChatMessage, found) if found is not None else None


# Writes ------------------------------------------------------------------------------------

def take_seq(session: Session, room_id: int) -> int:
    """The next change number of ``room_id``'s chat.

    Taken by an UPDATE of the room's counter row, whose lock is held until the
    caller's transaction ends: numbers are gap-free and follow commit order, so a
    number a client has seen means every smaller one is already readable. (Run on the
    session's own connection, in its transaction: there is no ORM bookkeeping to do.)
    """
    connection = session.connection()
    rows = _BUMP.rows(connection, {"room": room_id})
    if not rows:  # the room's first change: make its counter (another writer may race us to it)
        insert_for = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
        connection.execute(insert_for(_CURSOR).values(room_id=room_id, seq=0).on_conflict_do_nothing())
        rows = _BUMP.rows(connection, {"room": room_id})
    return int(rows[0][0])


def _insert_message(session: Session, author: Member, **values: object) -> ChatMessage:
    """Insert one chat line with a single statement and return it.

    The hottest write in Haven: the ORM's unit of work costs more than the rest of a
    send together, and a chat line needs none of it (no cascades, no defaults to fetch
    but the id), nor SQLAlchemy's execution layer for its one statement. ActionError
    "duplicate" when the author already sent a line under this client id (a resend):
    the caller rolls back and answers with ``find_sent_message``.
    """
    rows = _INSERT.rows(session.connection(), values)
    if not rows:
        raise ActionError("That message was already sent.", code="duplicate", status=409)
    new_id = int(rows[0][0])
    # What was stored, as an object outside the session: read by the answer and the
    # broadcast only (later changes load the row afresh through the session).
    return unattached(ChatMessage, id=new_id, author=author, **values)


def do_send_message(session: Session, member: Member, room: Room, body: object, client_id: object = None,
                    *, confirmed: bool = False) -> Sent:
    """Store ``member``'s chat line in ``room`` (already access-checked) and queue its broadcast.

    Raises ActionError with a code the client can act on: banned, muted (Forbidden),
    empty, too_long, invalid, rate_limited, refused (screening), confirm
    (NeedsConfirmation: resend with ``confirmed=True``), duplicate (a resend of a line
    already stored under this ``client_id``, found by the insert itself: the caller
    rolls back, which also returns the change number, and answers with the stored
    line from ``find_sent_message``; a resend answered "rate_limited" or "refused" is
    looked up the same way). Held messages are stored but not broadcast; flagged ones
    are broadcast and queued for review.
    """
    check_can_write(member)
    text = check_message_body(body)
    key = check_client_id(client_id)
    verdict = screen_member_text(session, member, text, kind="chat", confirmed=confirmed)
    # Before any write: the limiter may wait on Redis, and nothing may wait while this
    # transaction holds the room's counter (under gevent on SQLite, another greenlet of
    # the process would then block the whole process on the database lock).
    check_rate(member.id)
    status = Visibility.HELD if verdict.decision == "hold" else Visibility.PUBLISHED
    # Numbered last, just before the insert: the counter's lock is held from here to the commit.
    seq = take_seq(session, room.id) if status == Visibility.PUBLISHED else 0
    message = _insert_message(session, member, room_id=room.id, author_id=member.id, body=verdict.text,
                              body_html=render_chat(verdict.text), status=status, client_id=key, seq=seq,
                              created_at=utcnow())
    if status == Visibility.PUBLISHED:
        notify_message_added(session, message)
    record_screening(session, item_type="chat", item_id=message.id, author_id=member.id, room_id=room.id,
                     verdict=verdict)
    return Sent(message, verdict)


def set_message_visibility(session: Session, message: ChatMessage, status: str) -> str:
    """Move ``message`` to ``status`` (moderation: approve, hide, remove, restore); returns the old status.

    A message leaving the published state disappears from every open chat of its
    room (``chat`` remove); one entering it appears (``chat`` add). Does not log or
    tell the author: the moderation action calling it does.
    """
    if status not in {v.value for v in Visibility}:
        raise ValueError(f"unknown visibility {status!r}")
    old = message.status
    if old == status:
        return old
    message.status = status
    if old == Visibility.PUBLISHED:
        message.seq = take_seq(session, message.room_id)
        notify(session, "chat", {"type": "chat", "op": "remove", "room_id": message.room_id, "id": message.id,
                                 "seq": message.seq}, to=room_channel(message.room_id))
    elif status == Visibility.PUBLISHED:
        message.seq = take_seq(session, message.room_id)
        notify_message_added(session, message)
    return old


def do_change_message_text(session: Session, message: ChatMessage, text: str) -> None:
    """Replace ``message``'s text (a moderator's redaction, already screened); open chats show the new text."""
    message.body = text
    message.body_html = render_chat(text)
    if message.status == Visibility.PUBLISHED:
        message.seq = take_seq(session, message.room_id)
        notify_message_added(session, message, op="update")


def notify_message_added(session: Session, message: ChatMessage, op: str = "add") -> None:
    """Members who muted the author get the line as a placeholder instead (forum.safety.muting)."""
    from forum.safety.muting import notify_chat_line

    notify_chat_line(session, message, {"type": "chat", "op": op, "room_id": message.room_id, "id": message.id,
                                        "seq": message.seq, "message": message_payload(message)},
                     to=room_channel(message.room_id))
