"""Muting in chat: the muted member's lines reach the one who muted them as a placeholder that
can be opened (page history, socket history and live lines alike); everyone else, the muted
member included, sees the chat exactly as before, and nobody is told."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from sqlalchemy import func, select

from forum.accounts.models import MemberMute, Notice
from forum.db import db
from forum.extensions import socketio
from forum.rooms.models import Room
from tests.chat.conftest import send_line
from tests.conftest import Account, login, register

MUTED_LINE = "a line from the muted member about the copper kettle"


@pytest.fixture
def room_id(app: Flask) -> int:
    with app.app_context():
        return db.session.scalars(select(Room.id).where(Room.slug == "just-found-out")).one()


@pytest.fixture
def sockets(app: Flask) -> Iterator[list[SocketIOTestClient]]:
    opened: list[SocketIOTestClient] = []
    yield opened
    for sock in opened:
        if sock.is_connected():
            sock.disconnect()


def _socket(app: Flask, http: FlaskClient, opened: list[SocketIOTestClient], room_id: int | None) -> SocketIOTestClient:
    sock = socketio.test_client(app, flask_test_client=http)
    assert sock.is_connected()
    opened.append(sock)
    if room_id is not None:
        assert sock.emit("join", {"room_id": room_id}, callback=True)["ok"]
    sock.get_received()
    return sock


def _chat_adds(sock: SocketIOTestClient) -> list[dict[str, Any]]:
    return [p["args"][0]["message"] for p in sock.get_received() if p["name"] == "chat"
            and p["args"][0]["op"] == "add"]


def _mute(app: Flask, muter: Account, muted: Account) -> None:
    with app.app_context():
        db.session.add(MemberMute(muter_id=muter.id, muted_id=muted.id))
        db.session.commit()


def _line(app: Flask, author: Account, room_id: int, body: str) -> int:
    return send_line(app, author.id, room_id, body)


def test_live_line_of_a_muted_member_arrives_as_a_placeholder_for_the_muter_only(
        app: Flask, partner: Account, other_partner: Account, partner_client: FlaskClient,
        other_partner_client: FlaskClient, room_id: int, sockets: list[SocketIOTestClient]) -> None:
    bystander = register(app, "Still Meadow 13")
    _mute(app, partner, other_partner)
    muter = _socket(app, partner_client, sockets, room_id)
    muter_elsewhere = _socket(app, partner_client, sockets, None)  # a second tab, on a thread page
    watcher = _socket(app, login(app.test_client(), bystander), sockets, room_id)
    author = _socket(app, other_partner_client, sockets, room_id)

    ack = author.emit("send", {"room_id": room_id, "body": MUTED_LINE, "client_id": "muted-line-1"}, callback=True)
    assert ack["ok"], ack

    got = _chat_adds(muter)
    assert len(got) == 1, got  # the placeholder only, never the plain line as well
    assert got[0]["muted"] is True and got[0]["author"] is None
    assert MUTED_LINE in got[0]["html"]  # kept, so the reader can choose to show it
    # The other tab gets the placeholder too (chat.js ignores lines of a room it is not in).
    assert [m.get("muted") for m in _chat_adds(muter_elsewhere)] == [True]
    plain = _chat_adds(watcher)
    assert len(plain) == 1 and plain[0]["author"] == "Gentle Cedar 12" and "muted" not in plain[0]
    # The muted member sees their line as usual and is told nothing.
    own = _chat_adds(author)
    assert own and all(m["author"] == "Gentle Cedar 12" and "muted" not in m for m in own)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notice)) == 0


def test_socket_history_and_catch_up_hide_muted_lines_for_the_muter(
        app: Flask, partner: Account, other_partner: Account, partner_client: FlaskClient,
        other_partner_client: FlaskClient, room_id: int, sockets: list[SocketIOTestClient]) -> None:
    _line(app, partner, room_id, "my own line")
    theirs = _line(app, other_partner, room_id, "an older line")
    _line(app, partner, room_id, "my newer line")
    _mute(app, partner, other_partner)
    muter = _socket(app, partner_client, sockets, None)
    joined = muter.emit("join", {"room_id": room_id}, callback=True)
    by_body = {m["html"]: m for m in joined["messages"]}
    mine_seq = by_body["my own line"]["seq"]
    assert by_body["an older line"]["muted"] is True and by_body["an older line"]["author"] is None
    assert by_body["my own line"]["author"] == "Quiet Harbor 11" and "muted" not in by_body["my own line"]
    since = muter.emit("since", {"room_id": room_id, "after_seq": mine_seq}, callback=True)
    assert [c["message"].get("muted", False) for c in since["changes"]] == [True, False]
    older = muter.emit("history", {"room_id": room_id, "before_id": theirs + 1}, callback=True)
    assert [m.get("muted", False) for m in older["messages"]] == [False, True]

    theirs = _socket(app, other_partner_client, sockets, None).emit("join", {"room_id": room_id}, callback=True)
    assert all("muted" not in m for m in theirs["messages"])


def test_muter_who_cannot_see_the_room_gets_nothing_of_it(
        app: Flask, recovering: Account, other_partner: Account, other_partner_client: FlaskClient,
        recovery_client: FlaskClient, room_id: int, sockets: list[SocketIOTestClient]) -> None:
    _mute(app, recovering, other_partner)  # e.g. muted before a path change: no longer their rooms
    outsider = _socket(app, recovery_client, sockets, None)
    author = _socket(app, other_partner_client, sockets, room_id)
    assert author.emit("send", {"room_id": room_id, "body": MUTED_LINE, "client_id": "muted-line-2"},
                       callback=True)["ok"]
    assert _chat_adds(outsider) == []


def test_chat_page_shows_a_placeholder_that_opens_and_a_mute_control(
        app: Flask, partner: Account, other_partner: Account, partner_client: FlaskClient,
        other_partner_client: FlaskClient, room_id: int) -> None:
    theirs = _line(app, other_partner, room_id, MUTED_LINE)
    mine = _line(app, partner, room_id, "my own line")
    html = partner_client.get("/rooms/just-found-out/chat").get_data(as_text=True)
    line = html[html.index(f'id="chat-msg-{theirs}"'):html.index(f'id="chat-msg-{mine}"')]
    assert f'action="/chat/messages/{theirs}/mute-author"' in line  # a plain form, no JavaScript needed
    assert f'/chat/messages/{mine}/mute-author' not in html  # never on one's own line

    response = partner_client.post(f"/chat/messages/{theirs}/mute-author",
                                   data={"next": "/rooms/just-found-out/chat"})
    assert response.status_code == 302 and response.headers["Location"] == "/rooms/just-found-out/chat"
    html = partner_client.get("/rooms/just-found-out/chat").get_data(as_text=True)
    line = html[html.index(f'id="chat-msg-{theirs}"'):]
    line = line[:line.index("</li>")]
    assert "chat-muted" in html and "A member you muted" in line and "Gentle Cedar 12" not in line
    details = line[line.index("<details"):]
    assert details.startswith('<details class="muted-post">')  # closed: one click opens it
    assert "Hidden because you muted this member" in details and MUTED_LINE in details
    assert "mute-author" not in line  # already muted: no second control

    # The muted member's page is unchanged.
    theirs_page = other_partner_client.get("/rooms/just-found-out/chat").get_data(as_text=True)
    assert "chat-muted" not in theirs_page and MUTED_LINE in theirs_page



def test_a_mute_or_unmute_made_while_the_author_is_connected_applies_to_their_next_line(
        app: Flask, partner: Account, other_partner: Account, partner_client: FlaskClient,
        other_partner_client: FlaskClient, room_id: int, sockets: list[SocketIOTestClient]) -> None:
    """Who muted the author is read with the author's session on every event (forum.sessions),
    not once at connect: the muter's click on the page reaches the author's very next line."""
    muter = _socket(app, partner_client, sockets, room_id)
    author = _socket(app, other_partner_client, sockets, room_id)
    first = author.emit("send", {"room_id": room_id, "body": "before the mute", "client_id": "mute-live-1"},
                        callback=True)
    assert first["ok"] and [m.get("muted") for m in _chat_adds(muter)] == [None]

    response = partner_client.post(f"/chat/messages/{first['id']}/mute-author", headers={"Accept": "application/json"})
    assert response.get_json() == {"ok": True}
    assert author.emit("send", {"room_id": room_id, "body": MUTED_LINE, "client_id": "mute-live-2"},
                       callback=True)["ok"]
    got = _chat_adds(muter)
    assert len(got) == 1 and got[0]["muted"] is True and got[0]["author"] is None

    assert partner_client.post(f"/account/muted/{other_partner.id}/unmute").status_code == 302
    assert author.emit("send", {"room_id": room_id, "body": "after the unmute", "client_id": "mute-live-3"},
                       callback=True)["ok"]
    got = _chat_adds(muter)
    assert len(got) == 1 and "muted" not in got[0] and got[0]["author"] == "Gentle Cedar 12"
