"""Crisis language in one's own chat line shows the configured help lines in the chat panel:
after a plain-form send, and (chat.js, on the socket's answer) live; tests/safety/
test_safety_browser.py watches the box appear in Chromium."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

CRISIS_TEXT = "I want to kill myself, I can't do this any more."


def test_crisis_language_in_chat_shows_the_help_lines(app: Flask, partner_client: FlaskClient) -> None:
    from flask_socketio import SocketIOTestClient
    from sqlalchemy import select

    from forum.db import db
    from forum.extensions import socketio
    from forum.rooms.models import Room

    page = partner_client.get("/rooms/just-found-out/chat").get_data(as_text=True)
    assert '<div id="chat-crisis" hidden>' in page  # ready for chat.js, not shown yet
    assert page.count('id="crisis-box-heading"') + page.count('id="chat-crisis-box-heading"') == 1

    # A plain-form send (no JavaScript): the page comes back with the help lines shown.
    response = partner_client.post("/rooms/just-found-out/chat", data={"body": CRISIS_TEXT, "confirmed": "yes"})
    assert response.status_code == 302 and "support=1" in response.headers["Location"]
    html = partner_client.get(response.headers["Location"]).get_data(as_text=True)
    box = html[html.index('<div id="chat-crisis">'):]
    assert "Samaritans: call 116 123" in box[:box.index("</section>")]

    # Over the socket the answer says so; chat.js shows the same box.
    with app.app_context():
        room_id = db.session.scalars(select(Room.id).where(Room.slug == "just-found-out")).one()
    sock: SocketIOTestClient = socketio.test_client(app, flask_test_client=partner_client)
    assert sock.emit("join", {"room_id": room_id}, callback=True)["ok"]
    ack = sock.emit("send", {"room_id": room_id, "body": "I don't want to be alive any more.", "confirmed": True},
                    callback=True)
    sock.disconnect()
    assert ack["ok"] and ack["crisis"] is True  # tests/safety/test_safety_browser.py: the box appears

