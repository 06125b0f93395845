"""Who is in a room's chat right now, from the ``live_socket`` table.

Each open socket has one row (sid, member, the chat room it joined). The row is
what lets ``forum.live.close_member_sockets`` reach a member's sockets from any
process, and what the presence count ("members present now": distinct members
with a socket in the room) is computed from, so the count is right across
processes.

Stale rows: when a process dies, its sockets never run their disconnect handler
and their rows stay. Each process therefore refreshes ``connected_at`` of its own
sockets every ``CHAT_PRESENCE_HEARTBEAT`` seconds (so the column means "connected,
last confirmed at"); rows not refreshed for three heartbeats are ignored by the
count and deleted by the next sweep of any live process. With the heartbeat off
(0, the test configuration) every row counts until its socket disconnects.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from forum.accounts.models import Member
from forum.chat.actions import room_channel
from forum.chat.models import LiveSocket
from forum.db import db, utcnow
from forum.events import Event, deliver, on_commit
from forum.rooms.models import Room

log = logging.getLogger(__name__)

STALE_AFTER_HEARTBEATS = 3


def heartbeat_seconds() -> int:
    return int(current_app.config.get("CHAT_PRESENCE_HEARTBEAT", 30) or 0)


def stale_before(now: datetime) -> datetime | None:
    """Rows last confirmed before this moment belong to a dead process (None: nothing is stale)."""
    beat = heartbeat_seconds()
    return now - timedelta(seconds=beat * STALE_AFTER_HEARTBEATS) if beat else None


def do_open_socket(session: Session, sid: str, member: Member) -> None:
    """Record a freshly connected socket of ``member`` (in no chat room yet)."""
    session.merge(LiveSocket(sid=sid, member_id=member.id, room_id=None, connected_at=utcnow()))


def do_enter_room(session: Session, sid: str, member: Member, room: Room) -> int | None:
    """Move the socket's row to ``room``; returns the room it was in before (if another).

    Queues a presence update for the room entered and the room left.
    """
    row = session.get(LiveSocket, sid)
    previous = row.room_id if row is not None else None
    if row is None:
        row = LiveSocket(sid=sid, member_id=member.id, room_id=room.id, connected_at=utcnow())
        session.add(row)
    row.room_id = room.id
    row.connected_at = utcnow()
    session.flush()
    notify_presence(session, room.id)
    if previous is not None and previous != room.id:
        notify_presence(session, previous)
        return previous
    return None


def do_leave_room(session: Session, sid: str) -> int | None:
    """The socket leaves its chat room (it stays connected); returns the room it left."""
    row = session.get(LiveSocket, sid)
    if row is None or row.room_id is None:
        return None
    left = row.room_id
    row.room_id = None
    session.flush()
    notify_presence(session, left)
    return left


def do_close_socket(session: Session, sid: str, room_ids: Iterable[int] = ()) -> None:
    """Forget a disconnected socket; tells the rooms it was in (its row's, and ``room_ids``)."""
    row = session.get(LiveSocket, sid)
    rooms = set(room_ids)
    if row is not None:
        if row.room_id is not None:
            rooms.add(row.room_id)
        session.delete(row)
        session.flush()
    for room_id in sorted(rooms):
        notify_presence(session, room_id)


def present_count(session: Session, room_id: int, now: datetime | None = None) -> int:
    """Distinct members with a live socket in the room's chat."""
    stmt = select(func.count(func.distinct(LiveSocket.member_id))).where(LiveSocket.room_id == room_id)
    cutoff = stale_before(now or utcnow())
    if cutoff is not None:
        stmt = stmt.where(LiveSocket.connected_at >= cutoff)
    return int(session.scalar(stmt) or 0)


def presence_payload(room_id: int, count: int) -> dict[str, object]:
    return {"type": "presence", "op": "update", "room_id": room_id, "count": count}


def notify_presence(session: Session, room_id: int) -> None:
    """After ``session`` commits, send the room's fresh count to ``room:<id>``.

    Counted after the commit (not when queued), so two joins committing in either
    order both end with the right number on every screen.
    """
    def send() -> None:
        with db.new_session() as s:
            count = present_count(s, room_id)
        deliver(Event("presence", presence_payload(room_id, count), to=room_channel(room_id)))

    on_commit(session, send)


def refresh_sockets(session: Session, sids: Iterable[str], now: datetime) -> int:
    """Confirm the rows of sockets this process holds; returns how many were refreshed."""
    sids = list(sids)
    if not sids:
        return 0
    result = session.execute(update(LiveSocket).where(LiveSocket.sid.in_(sids)).values(connected_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


def sweep_stale(session: Session, now: datetime) -> int:
    """Delete rows no process has confirmed for three heartbeats; returns how many."""
    cutoff = stale_before(now)
    if cutoff is None:
        return 0
    result = session.execute(delete(LiveSocket).where(LiveSocket.connected_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
