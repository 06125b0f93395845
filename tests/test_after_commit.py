"""Side effects queued by a write (socket events, presence counts, disconnects) leave only after the
commit, and only once the session has given its database connection back: a callback that reads
must never wait for a second connection while holding the first (under load, every connection of
the pool could be held by a writer waiting for another)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select, text

from forum.db import db
from forum.events import on_commit
from forum.rooms.models import Room


def test_callbacks_run_after_the_connection_is_back(app: Flask) -> None:
    with app.app_context():
        engine = db.require_engine()
        session = db.new_session()
        held_during: list[int] = []
        session.execute(select(Room.id).limit(1))  # the session now holds a connection
        assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
        on_commit(session, lambda: held_during.append(engine.pool.checkedout()))  # type: ignore[attr-defined]
        session.commit()
        session.close()
        assert held_during == [0]


def test_callbacks_are_dropped_on_rollback_and_run_once(app: Flask) -> None:
    with app.app_context():
        ran: list[str] = []
        session = db.new_session()
        session.execute(text("SELECT 1"))
        on_commit(session, lambda: ran.append("rolled back"))
        session.rollback()
        session.execute(text("SELECT 1"))
        on_commit(session, lambda: ran.append("committed"))
        session.commit()
        session.execute(text("SELECT 1"))
        session.commit()  # a later commit runs nothing again
        session.close()
        assert ran == ["committed"]
