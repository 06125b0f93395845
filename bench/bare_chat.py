"""The baseline for bench/chat_fanout.py: a bare Flask-SocketIO broadcast server.

No database, no session, no checks: ``join`` puts the socket in a room, ``send``
broadcasts the text to it and acknowledges. Served exactly like Haven (gunicorn,
gevent worker, optionally the same Redis message queue), so the ratio between the
two is the cost of Haven's checks, screening, storage and after-commit delivery.
"""

from __future__ import annotations

import itertools
import os

from flask import Flask
from flask_socketio import SocketIO, join_room

app = Flask(__name__)
socketio = SocketIO(app, async_mode=os.environ.get("SOCKETIO_ASYNC_MODE") or None,
                    message_queue=os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None,
                    channel=os.environ.get("SOCKETIO_CHANNEL", "bare-chat"), logger=False, engineio_logger=False)
_ids = itertools.count(1)


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@socketio.on("join")
def join(data: dict) -> dict:
    join_room(f"room:{data['room_id']}")
    return {"ok": True}


@socketio.on("send")
def send(data: dict) -> dict:
    message_id = next(_ids)
    room_id = data["room_id"]
    socketio.emit("chat", {"type": "chat", "op": "add", "room_id": room_id, "id": message_id,
                           "message": {"id": message_id, "html": data["body"]}}, to=f"room:{room_id}")
    return {"ok": True, "id": message_id}
