"""On PostgreSQL a page (a GET request) reads without holding a transaction, and its session
refuses to write (forum.db.Database.session); writes go on working as before everywhere else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from forum import create_app
from forum.db import ReadOnlyRequest, db
from forum.rooms.models import Room
from tests import services


@pytest.fixture
def pg_app(postgres_url: str) -> Iterator[Flask]:
    app = create_app({"HAVEN_ENV": "test", "DATABASE_URL": postgres_url})
    with app.app_context():
        from forum.cli import seed

        seed(db.session)
        db.session.commit()
    yield app
    assert db.engine is not None
    db.engine.dispose()


def _state_of_backend(pid: int) -> str:
    """What pg_stat_activity says the server process behind a connection is doing."""
    admin = create_engine(make_url(services.POSTGRES_ADMIN_URL).set(drivername="postgresql+psycopg"))
    with admin.connect() as conn:
        state = conn.execute(text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).scalar_one()
    admin.dispose()
    return str(state)


def test_a_page_holds_no_transaction_and_a_form_post_does(pg_app: Flask) -> None:
    with pg_app.test_request_context("/rooms"):
        assert db.session.scalar(select(func.count()).select_from(Room)) == 8
        pid = int(db.session.scalar(text("SELECT pg_backend_pid()")) or 0)
        assert _state_of_backend(pid) == "idle"  # not "idle in transaction" between statements
    with pg_app.test_request_context("/rooms/just-found-out/threads", method="POST"):
        db.session.scalar(select(func.count()).select_from(Room))
        pid = int(db.session.scalar(text("SELECT pg_backend_pid()")) or 0)
        assert _state_of_backend(pid) == "idle in transaction"


def test_a_page_cannot_write_through_its_session(pg_app: Flask) -> None:
    with pg_app.test_request_context("/rooms"):
        with pytest.raises(ReadOnlyRequest):
            db.session.execute(update(Room).values(name="Renamed by a page"))
    with pg_app.app_context():
        names = set(db.session.scalars(select(Room.name)))
        assert "Renamed by a page" not in names and len(names) == 8


def test_socket_events_write_although_their_request_was_a_get(pg_app: Flask) -> None:
    """A socket event's context is made from the socket's own GET to /socket.io/."""
    with pg_app.test_request_context("/socket.io/"):
        db.session.execute(update(Room).where(Room.slug == "just-found-out").values(name="Just found out"))
        db.session.commit()
