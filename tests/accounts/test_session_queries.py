"""A logged-in request or socket event reads its session and its member in one query.

Every socket event re-reads the server-side session (so a log-out, password change or
ban takes effect on the next event); the join keeps that check to a single round trip.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from forum.db import db
from forum.extensions import socketio
from tests.conftest import Account


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()).lower())

    with app.app_context():
        engine = db.require_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _session_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if s.startswith("select") and ("web_session" in s or "from member" in s)]


def test_a_page_reads_session_and_member_in_one_query(app: Flask, partner_client: FlaskClient) -> None:
    partner_client.get("/rooms")  # settle the once-a-minute touch
    with statements(app) as seen:
        assert partner_client.get("/rooms").status_code == 200
    reads = _session_reads(seen)
    assert len(reads) == 1 and "join member" in reads[0], reads


def test_a_socket_event_reads_session_and_member_in_one_query(app: Flask, partner: Account,
                                                               partner_client: FlaskClient) -> None:
    socket = socketio.test_client(app, flask_test_client=partner_client)
    assert socket.is_connected()
    with statements(app) as seen:
        ack = socket.emit("join", {"room_id": 10**6}, callback=True)  # no such room: same answer as forbidden
    assert ack["ok"] is False
    reads = _session_reads(seen)
    assert len(reads) == 1 and "join member" in reads[0], reads


def test_a_session_naming_an_old_token_is_not_logged_in(app: Flask, partner: Account,
                                                        partner_client: FlaskClient) -> None:
    """The joined row counts only while the session holds the member's current token."""
    from sqlalchemy import update

    from forum.accounts.models import Member

    with app.app_context():
        db.session.execute(update(Member).where(Member.id == partner.id).values(auth_token="rotated-elsewhere"))
        db.session.commit()
    response = partner_client.get("/rooms")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
