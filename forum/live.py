"""Reaching open sockets from a write: close every socket of a member, from any process, and
find the sockets of some members (to leave them out of a broadcast).

Flask-SocketIO keeps the session it saw at connect time, so an HTTP log-out alone
does not reach an open socket. Each open socket is recorded in ``live_socket``;
after the write commits, every one of the member's sockets is disconnected through
the Socket.IO server, which relays the request through the message queue to
whichever process holds it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from forum.chat.models import LiveSocket
from forum.db import db
from forum.events import on_commit

log = logging.getLogger(__name__)


def close_member_sockets(session: Session, member_id: int) -> None:
    """After ``session`` commits, disconnect every open socket of ``member_id``."""
    on_commit(session, lambda: _disconnect_all(member_id))


def member_sids(member_ids: Iterable[int]) -> list[str]:
    """The open sockets of ``member_ids``, in any process, read from committed rows.

    Call it after the write commits (in an ``on_commit`` callback): a socket's row is
    committed when it connects, before it can join any chat room, so every socket that
    could be in a room when the event leaves is found.
    """
    ids = sorted(set(member_ids))
    if not ids:
        return []
    with db.new_session() as s:
        return list(s.scalars(select(LiveSocket.sid).where(LiveSocket.member_id.in_(ids))))


def _disconnect_all(member_id: int) -> None:
    from forum.extensions import socketio

    with db.new_session() as s:
        sids = s.scalars(select(LiveSocket.sid).where(LiveSocket.member_id == member_id)).all()
        s.execute(delete(LiveSocket).where(LiveSocket.member_id == member_id))
        s.commit()
    for sid in sids:
        try:
            socketio.server.disconnect(sid, namespace="/")
        except Exception:  # noqa: BLE001 - a socket that is already gone is fine
            log.debug("socket already closed")
