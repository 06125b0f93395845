"""When the shared rate-limit store (Redis) is unreachable, limits are counted in each process:
members can still log in and chat, and the chat limit still holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from forum.db import db
from forum.extensions import socketio
from tests.chat.conftest import PARTNER_ROOM, room_id
from tests.conftest import PASSWORD, make_app, register

NOWHERE = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there


@pytest.fixture
def storeless_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    # A minute-long window: however slow the machine, the six lines fall within it.
    app = make_app(database_url, RATELIMIT_STORAGE_URI=NOWHERE, CHAT_RATE_LIMIT="5 per minute")
    yield app
    with app.app_context():
        db.require_engine().dispose()


def test_log_in_and_chat_with_the_limit_store_down(storeless_app: Flask) -> None:
    app = storeless_app
    account = register(app, "Quiet Harbor 11")
    client = app.test_client()
    response = client.post("/login", data={"pseudonym": account.pseudonym, "password": PASSWORD})
    assert response.status_code == 302  # the log-in limit fell back to counting in this process
    sock = socketio.test_client(app, flask_test_client=client)
    room = room_id(app, PARTNER_ROOM)
    assert sock.emit("join", {"room_id": room}, callback=True)["ok"] is True
    answers = [sock.emit("send", {"room_id": room, "body": f"still here {i}"}, callback=True) for i in range(6)]
    assert [a["ok"] for a in answers] == [True] * 5 + [False]
    assert answers[-1]["code"] == "rate_limited"
    sock.disconnect()
