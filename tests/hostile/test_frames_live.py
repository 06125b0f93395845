"""Oversized and malformed frames against real servers (Werkzeug threading and gunicorn's
gevent worker) on loopback.

A 1 MB Socket.IO frame (the cap is SOCKETIO_MAX_FRAME_BYTES, 64 KB) closes the sender's
connection; a 1 MB long-polling body gets a 413 that closes its connection; junk Engine.IO
and Socket.IO packets are dropped. Through all of it the server stays up: another member's socket keeps chatting,
a new one connects, pages answer, and nothing of the refused frames is stored.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests
import websocket
from flask import Flask
from sqlalchemy import select

from forum.chat.models import ChatMessage
from forum.db import db
from tests.chat.conftest import PARTNER_ROOM, room_id
from tests.conftest import Account
from tests.live.conftest import ChatClient, cookie_header, http_login, serve, server_env

pytestmark = pytest.mark.live

MEGABYTE = 1024 * 1024


def stored_bodies(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(ChatMessage.body).order_by(ChatMessage.id)))


def raw_socket(base: str, cookie: str) -> websocket.WebSocket:
    """A bare WebSocket to the Engine.IO endpoint, connected to the chat namespace."""
    ws = websocket.create_connection(base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
                                     cookie=cookie, timeout=10)
    assert ws.recv().startswith("0")  # Engine.IO open
    ws.send("40")
    assert ws.recv().startswith("40")  # Socket.IO connect accepted
    return ws


def closed_by_server(ws: websocket.WebSocket, timeout: float = 10) -> bool:
    """Whether the server closes ``ws`` (reading past pings until it does, or giving up)."""
    ws.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if ws.recv() in ("", None):
                return True
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
        return True
    except websocket.WebSocketTimeoutException:
        return False
    return False


@pytest.mark.parametrize("kind", ["threading", "gevent"])
def test_oversized_and_junk_frames_close_only_their_own_connection(
        kind: str, app: Flask, partner: Account, other_partner: Account, database_url: str,
        tmp_path: Path) -> None:
    room = room_id(app, PARTNER_ROOM)
    with serve(kind, server_env(database_url, tmp_path)) as base:
        attacker_cookie = cookie_header(http_login(base, partner))
        bystander = ChatClient(base, cookie_header(http_login(base, other_partner)))
        attacker = ChatClient(base, attacker_cookie)
        try:
            assert bystander.call("join", {"room_id": room})["ok"] is True
            assert attacker.call("join", {"room_id": room})["ok"] is True

            # 1. A 1 MB event through the Socket.IO client: the connection is closed.
            attacker.sio.emit("send", {"room_id": room, "body": "x" * MEGABYTE, "client_id": "huge-frame-1"})
            assert attacker.disconnected.wait(10), "a 1 MB frame did not close the connection"

            # 2. Raw frames: 1 MB of text, 1 MB of binary, each closes its own connection.
            for frame, opcode in ((f'42["send",{{"room_id":{room},"body":"{"y" * MEGABYTE}"}}]',
                                   websocket.ABNF.OPCODE_TEXT),
                                  (b"\x00\xff" * (MEGABYTE // 2), websocket.ABNF.OPCODE_BINARY)):
                ws = raw_socket(base, attacker_cookie)
                ws.send(frame, opcode=opcode)
                assert closed_by_server(ws), "an oversized raw frame did not close the connection"
                ws.close()

            # 3. Junk packets of every kind: dropped or closed, never a crash.
            for junk in ("4", "42", "42[", "42{}", '42["send"', "42[1,2,3]", '42["send",null]', "43", "49",
                         "4\x00", "9", "0", "1", "6", "40/nope,", "41", '42["__init__"]', "42" + "[" * 5000,
                         '42["send",' + "{" * 2000 + "}" * 2000 + "]", "\ud83c".encode("utf-8", "surrogatepass")):
                ws = raw_socket(base, attacker_cookie)
                try:
                    ws.send(junk, opcode=websocket.ABNF.OPCODE_BINARY if isinstance(junk, bytes)
                            else websocket.ABNF.OPCODE_TEXT)
                except (websocket.WebSocketConnectionClosedException, OSError):
                    pass
                ws.close()

            # 4. A 1 MB long-polling body: 413 at once, the connection closed (not left to stall);
            # a POST racing its session's close is a 400, not a 500 from inside engineio.
            http = requests.Session()
            handshake = http.get(base + "/socket.io/?EIO=4&transport=polling", headers={"Cookie": attacker_cookie},
                                 timeout=10)
            polling = f"{base}/socket.io/?EIO=4&transport=polling&sid={json.loads(handshake.text[1:])['sid']}"
            headers = {"Cookie": attacker_cookie, "Content-Type": "text/plain"}
            assert http.post(polling, data=b"4" * MEGABYTE, headers=headers, timeout=10).status_code == 413
            assert http.post(polling, data=b"1", headers=headers, timeout=10).status_code == 200  # close
            for _ in range(2):
                assert http.post(polling, data=b"40", headers=headers, timeout=10).status_code == 400

            # 5. A 1 MB form to a page: 413 with the error page.
            form = requests.post(f"{base}/rooms/{PARTNER_ROOM}/threads", data={"title": "t", "body": "z" * MEGABYTE},
                                 headers={"Cookie": attacker_cookie}, timeout=10)
            assert form.status_code in (400, 413), form.status_code

            # The server is still serving everyone else.
            assert requests.get(base + "/healthz", timeout=5).status_code == 200
            assert bystander.sio.connected, "the bystander's socket was closed"
            newcomer = ChatClient(base, attacker_cookie)
            try:
                assert newcomer.call("join", {"room_id": room})["ok"] is True
                ack = bystander.call("send", {"room_id": room, "body": "still here", "client_id": "after-frames"})
                assert ack["ok"] is True
                assert newcomer.wait_for(lambda: any(e.get("id") == ack["id"] for e in newcomer.chat))
            finally:
                newcomer.close()
        finally:
            attacker.close()
            bystander.close()
    assert stored_bodies(app) == ["still here"], "a refused frame was stored"
