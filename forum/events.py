"""The one exit for side effects of a write: socket events and socket disconnects.

Actions queue what should happen on the session (``notify``, ``on_commit``);
nothing leaves before the transaction commits, and a rollback drops it all.
Every event names its recipients (a socket room) explicitly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from forum.db import HavenSession

log = logging.getLogger(__name__)

_KEY = "haven_after_commit"
_COMMITTED = "haven_committed"  # committed, waiting for the session to give its connection back


@dataclass(frozen=True)
class Event:
    name: str
    payload: dict[str, Any]
    to: str
    namespace: str = "/"
    # Sockets (sids) in ``to`` that must not get this event (members who muted its author).
    skip: tuple[str, ...] = ()


def _unbound(ev: Event) -> None:  # pragma: no cover - rebound by create_app
    raise RuntimeError("events are not bound to a Socket.IO server")


# Replaced in tests to record what would be sent; the app binds it to socketio.emit.
_deliver: Callable[[Event], None] = _unbound


def bind(deliver: Callable[[Event], None]) -> None:
    """Set how events leave (the app factory binds Flask-SocketIO's emit)."""
    global _deliver
    _deliver = deliver


def deliver(ev: Event) -> None:
    _deliver(ev)


def notify(session: Session, name: str, payload: dict[str, Any], to: str, namespace: str = "/") -> None:
    """Queue ``name`` with ``payload`` for socket room ``to``, sent after ``session`` commits."""
    ev = Event(name, payload, to, namespace)
    on_commit(session, lambda: deliver(ev))


def on_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once ``session`` has committed; dropped if it rolls back."""
    session.info.setdefault(_KEY, []).append(callback)


@event.listens_for(HavenSession, "after_commit")
def _after_commit(session: Session) -> None:
    # Not run here: SQLAlchemy calls after_commit while the session still holds its
    # connection, and a callback that reads (a presence count, a member's sockets)
    # would take a second one from the pool. Under load, every pool connection could
    # be held by a request waiting for another: they run once the connection is back.
    session.info.setdefault(_COMMITTED, []).extend(session.info.pop(_KEY, []))


@event.listens_for(HavenSession, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    for callback in session.info.pop(_COMMITTED, []):
        try:
            callback()
        except Exception:  # the data is stored; clients catch up on reconnect
            log.exception("after-commit side effect failed")


@event.listens_for(HavenSession, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)
