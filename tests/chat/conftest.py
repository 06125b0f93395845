"""Chat fixtures: Socket.IO test clients that share an HTTP login, and rooms by audience."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from sqlalchemy import select

from forum.accounts.models import Member
from forum.chat.models import ChatMessage
from forum.db import db
from forum.extensions import socketio
from forum.rooms.models import Room

PARTNER_ROOM = "just-found-out"
RECOVERY_ROOM = "early-days"


def room_id(app: Flask, slug: str) -> int:
    with app.app_context():
        rid = db.session.scalar(select(Room.id).where(Room.slug == slug))
        assert rid is not None
        return rid


@pytest.fixture
def partner_room(app: Flask) -> int:
    return room_id(app, PARTNER_ROOM)


@pytest.fixture
def recovery_room(app: Flask) -> int:
    return room_id(app, RECOVERY_ROOM)


@pytest.fixture
def connect(app: Flask) -> Iterator[Callable[[FlaskClient], SocketIOTestClient]]:
    """Open a socket that carries ``http_client``'s session cookie; all are closed afterwards."""
    opened: list[SocketIOTestClient] = []

    def open_socket(http_client: FlaskClient) -> SocketIOTestClient:
        sock = socketio.test_client(app, flask_test_client=http_client)
        opened.append(sock)
        return sock

    yield open_socket
    for sock in opened:
        if sock.is_connected():
            sock.disconnect()


def send_line(app: Flask, author_id: int, room: int, body: str) -> int:
    """A chat line sent through the real write path (screened, numbered, stored, broadcast)."""
    from forum.chat.actions import do_send_message

    with app.test_request_context(method="POST"):
        sent = do_send_message(db.session, db.session.get_one(Member, author_id), db.session.get_one(Room, room), body)
        db.session.commit()
        return sent.message.id


def received(sock: SocketIOTestClient, name: str) -> list[dict[str, Any]]:
    """The payloads of every ``name`` event the socket received since the last call."""
    return [p["args"][0] for p in sock.get_received() if p["name"] == name]


def stored(app: Flask) -> list[tuple[int, int | None, str, str]]:
    with app.app_context():
        return [tuple(r) for r in db.session.execute(  # type: ignore[misc]
            select(ChatMessage.room_id, ChatMessage.author_id, ChatMessage.body, ChatMessage.status)
            .order_by(ChatMessage.id)).all()]


def update_member(app: Flask, member_id: int, **values: Any) -> None:
    with app.app_context():
        member = db.session.get(Member, member_id)
        assert member is not None
        for key, value in values.items():
            setattr(member, key, value)
        db.session.commit()
