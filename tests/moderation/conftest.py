"""Moderation fixtures: threads and chat lines built through the real actions, extra members,
and small readers for the rows moderation writes (queue items, flags, notices, log)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from sqlalchemy import select

from forum.accounts.models import Member, Notice
from forum.chat.models import ChatMessage
from forum.db import db
from forum.extensions import socketio
from forum.moderation.models import Flag, ModerationLog, ReviewItem
from forum.rooms.models import Post, Room
from tests.conftest import Account, login, register
from tests.rooms.conftest import PARTNER_ROOM, Made, start_thread


@pytest.fixture
def partner_thread(app: Flask, partner: Account) -> Made:
    return start_thread(app, partner, PARTNER_ROOM, "The night I found out", "It was the worst night of my life.")


@pytest.fixture
def admin(app: Flask) -> Account:
    return register(app, "Wise Willow 41", "partner", role="admin")


@pytest.fixture
def admin_client(app: Flask, admin: Account) -> FlaskClient:
    return login(app.test_client(), admin)


@pytest.fixture
def second_moderator(app: Flask) -> Account:
    return register(app, "Kind Meadow 51", "partner", role="moderator")


@pytest.fixture
def second_moderator_client(app: Flask, second_moderator: Account) -> FlaskClient:
    return login(app.test_client(), second_moderator)


@pytest.fixture
def partners(app: Flask) -> list[Account]:
    """Three more members of the partner path (enough to reach the flag threshold)."""
    return [register(app, f"Soft Rain {n}", "partner") for n in (61, 62, 63)]


def client_for(app: Flask, account: Account) -> FlaskClient:
    return login(app.test_client(), account)


def flag(client: FlaskClient, item_id: int, reason: str = "judgment", *, item_type: str = "post",
         note: str | None = None, json: bool = False, next: str | None = None) -> Any:
    data = {"item_type": item_type, "item_id": str(item_id), "reason": reason}
    if note is not None:
        data["note"] = note
    if next is not None:
        data["next"] = next
    headers = {"Accept": "application/json"} if json else {}
    return client.post("/flags", data=data, headers=headers)


def room_id(app: Flask, slug: str = PARTNER_ROOM) -> int:
    with app.app_context():
        rid = db.session.scalar(select(Room.id).where(Room.slug == slug))
        assert rid is not None
        return rid


def send_chat(app: Flask, account: Account, body: str, slug: str = PARTNER_ROOM) -> int:
    """A chat line stored through the chat write path (screened, as a member would send it)."""
    from forum.chat.actions import do_send_message

    with app.app_context():
        member = db.session.get(Member, account.id)
        room = db.session.scalar(select(Room).where(Room.slug == slug))
        assert member is not None and room is not None
        sent = do_send_message(db.session, member, room, body)
        db.session.commit()
        return sent.message.id


def open_items(app: Flask) -> list[ReviewItem]:
    with app.app_context():
        return list(db.session.scalars(select(ReviewItem).where(ReviewItem.state == "open")
                                       .order_by(ReviewItem.id)))


def item_for(app: Flask, item_id: int, item_type: str = "post") -> ReviewItem:
    with app.app_context():
        item = db.session.scalar(select(ReviewItem).where(ReviewItem.item_type == item_type,
                                                          ReviewItem.item_id == item_id)
                                 .order_by(ReviewItem.id.desc()))
        assert item is not None
        return item


def post_status(app: Flask, post_id: int) -> str:
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post is not None
        return post.status


def chat_status(app: Flask, message_id: int) -> str:
    with app.app_context():
        message = db.session.get(ChatMessage, message_id)
        assert message is not None
        return message.status


def notices_of(app: Flask, member_id: int) -> list[Notice]:
    with app.app_context():
        return list(db.session.scalars(select(Notice).where(Notice.member_id == member_id).order_by(Notice.id)))


def log_entries(app: Flask, action: str | None = None) -> list[ModerationLog]:
    with app.app_context():
        stmt = select(ModerationLog).order_by(ModerationLog.id)
        if action:
            stmt = stmt.where(ModerationLog.action == action)
        return list(db.session.scalars(stmt))


def flags_on(app: Flask, item_id: int, item_type: str = "post") -> list[Flag]:
    with app.app_context():
        return list(db.session.scalars(select(Flag).where(Flag.item_type == item_type, Flag.item_id == item_id)))


def member_row(app: Flask, member_id: int) -> Member:
    with app.app_context():
        member = db.session.get(Member, member_id)
        assert member is not None
        db.session.expunge(member)
        return member


def make_new(app: Flask, account: Account) -> None:
    """Put a member back under the new-member rule (the fixtures start them past it)."""
    with app.app_context():
        member = db.session.get(Member, account.id)
        assert member is not None
        member.published_posts = 0
        db.session.commit()


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


def received(sock: SocketIOTestClient, name: str) -> list[dict[str, Any]]:
    return [p["args"][0] for p in sock.get_received() if p["name"] == name]
