"""forum.db.DriverStatement: a statement run on the driver's cursor stores what Core would store,
and fails the way Core fails."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Integer, bindparam, event, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from forum import create_app
from forum.accounts.models import Member, WebSession
from forum.chat.models import ChatCursor, ChatMessage
from forum.db import DriverStatement, db
from forum.rooms.models import Room
from tests.conftest import Account

_CURSOR = ChatCursor.__table__
_INSERT = DriverStatement(text(
    "INSERT INTO chat_message (room_id, author_id, body, body_html, status, client_id, seq, created_at) "
    "VALUES (:room_id, :author_id, :body, :body_html, :status, :client_id, :seq, :created_at) RETURNING id"
).bindparams(*(bindparam(c, type_=ChatMessage.__table__.c[c].type)
               for c in ("room_id", "author_id", "body", "body_html", "status", "client_id", "seq", "created_at"))))


def _room(app: Flask) -> int:
    with app.app_context():
        room_id = db.session.scalar(select(Room.id).limit(1))
        assert room_id is not None
        return room_id


def _line(room_id: int, author_id: int, **values: object) -> dict[str, object]:
    return {"room_id": room_id, "author_id": author_id, "body": "ümlaut & <b>", "body_html": "ümlaut &amp; &lt;b&gt;",
            "status": "published", "client_id": None, "seq": 3,
            "created_at": datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=UTC), **values}


def test_a_row_written_through_the_driver_reads_back_as_core_would_have_stored_it(app: Flask,
                                                                                  partner: Account) -> None:
    room_id = _room(app)
    with app.app_context():
        [(new_id,)] = _INSERT.rows(db.session.connection(), _line(room_id, partner.id))
        db.session.commit()
    with app.app_context():
        message = db.session.get_one(ChatMessage, new_id)
        assert (message.room_id, message.author_id, message.body, message.body_html, message.seq) == (
            room_id, partner.id, "ümlaut & <b>", "ümlaut &amp; &lt;b&gt;", 3)
        stored = message.created_at.replace(tzinfo=message.created_at.tzinfo or UTC)
        assert stored == datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=UTC)


def test_a_statement_with_a_literal_runs_in_the_callers_transaction(app: Flask) -> None:
    room_id = _room(app)
    bump = DriverStatement(update(_CURSOR).where(_CURSOR.c.room_id == bindparam("room"))
                           .values(seq=_CURSOR.c.seq + 1).returning(_CURSOR.c.seq))
    with app.app_context():
        db.session.add(ChatCursor(room_id=room_id, seq=7))
        db.session.commit()
        assert bump.rows(db.session.connection(), {"room": room_id}) == [(8,)]
        assert bump.rows(db.session.connection(), {"room": room_id + 1000}) == []
        db.session.rollback()  # the change goes with the transaction it ran in
        assert db.session.scalar(select(ChatCursor.seq).where(ChatCursor.room_id == room_id)) == 7
        with pytest.raises(KeyError):
            bump.rows(db.session.connection(), {})  # a missing parameter is an error, never NULL


def test_rows_read_through_the_driver_are_the_rows_core_reads(app: Flask, partner: Account,
                                                              partner_client: FlaskClient) -> None:
    """Dates, JSON and every member column come back as Core gives them (what a session read needs)."""
    statement = (select(WebSession.created_at, WebSession.data, *Member.__table__.c)
                 .join(Member.__table__, Member.id == WebSession.member_id).where(Member.id == bindparam("member")))
    with app.app_context():
        core = [tuple(row) for row in db.session.connection().execute(statement, {"member": partner.id})]
        driver = DriverStatement(statement).rows(db.session.connection(), {"member": partner.id})
    assert core and driver == core
    assert isinstance(driver[0][0], datetime) and isinstance(driver[0][1], dict)


def test_while_statements_are_counted_they_run_through_core(app: Flask, partner: Account) -> None:
    """A listener on the engine's cursor events (statement counts in tests, SQL logs) sees them all."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    one = DriverStatement(text("SELECT :n").bindparams(bindparam("n", type_=Integer)))
    with app.app_context():
        engine = db.require_engine()
        event.listen(engine, "before_cursor_execute", record)
        try:
            assert one.rows(db.session.connection(), {"n": 4}) == [(4,)]
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert one.rows(db.session.connection(), {"n": 5}) == [(5,)]
    assert len(seen) == 1


def test_a_driver_error_is_sqlalchemys_error(app: Flask, partner: Account) -> None:
    room_id = _room(app)
    with app.app_context():
        _INSERT.rows(db.session.connection(), _line(room_id, partner.id, client_id="same-id-123"))
        with pytest.raises(IntegrityError):  # the (author, client id) pair is unique
            _INSERT.rows(db.session.connection(), _line(room_id, partner.id, client_id="same-id-123"))
        db.session.rollback()


def test_a_lost_connection_is_invalidated_as_core_does(postgres_url: str) -> None:
    """The server drops the connection mid-transaction: the error says so, and the next use gets a new one."""
    app = create_app({"HAVEN_ENV": "test", "DATABASE_URL": postgres_url})
    one = DriverStatement(text("SELECT :n").bindparams(bindparam("n", type_=Integer)))
    try:
        with app.app_context():
            connection = db.session.connection()
            assert one.rows(connection, {"n": 1}) == [(1,)]
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with db.require_engine().connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(DBAPIError) as failed:
                one.rows(connection, {"n": 2})
            assert failed.value.connection_invalidated
            db.session.rollback()
            assert one.rows(db.session.connection(), {"n": 3}) == [(3,)]
    finally:
        with app.app_context():
            db.require_engine().dispose()
