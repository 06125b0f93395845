"""Two server processes sharing chat through Redis: 50 members in one room, senders on both.

Every acknowledged line must reach every member exactly once, and everyone must be
able to put the lines in the same order: each change carries the room's change
number, taken under a lock at commit, so the numbers run 1, 2, 3... with the same
line at the same number for everyone, whichever process a member is connected to.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from flask import Flask

from tests import services
from tests.chat.conftest import PARTNER_ROOM, room_id
from tests.conftest import register
from tests.live.conftest import ChatClient, cookie_header, http_login, serve, server_env

pytestmark = pytest.mark.live

MEMBERS = 50
SENDERS = 10
LINES_EACH = 4  # within the limit of 5 lines in 10 seconds per member


def test_fifty_members_on_two_processes_see_every_line_once_in_one_order(
        app: Flask, database_url: str, tmp_path: Path, clients: list[ChatClient]) -> None:
    services.need("Redis", services.redis_available())
    accounts = [register(app, f"Calm Member {i:02d}") for i in range(MEMBERS)]
    room = room_id(app, PARTNER_ROOM)
    env = server_env(database_url, tmp_path, SOCKETIO_MESSAGE_QUEUE=services.REDIS_URL,
                     RATELIMIT_STORAGE_URI=services.REDIS_URL, ARGON2_TIME_COST="1", ARGON2_MEMORY_KIB="8192",
                     LOGIN_RATE_LIMIT="1000 per minute")  # 50 log-ins from one address
    with serve("gevent", env) as first, serve("gevent", env) as second:
        bases = [first, second]
        for i, account in enumerate(accounts):
            base = bases[i % 2]
            clients.append(ChatClient(base, cookie_header(http_login(base, account))))
        start = None
        for c in clients:
            ack = c.call("join", {"room_id": room})
            assert ack["ok"] is True
            start = ack["seq"] if start is None else min(start, ack["seq"])
        assert clients[-1].call("join", {"room_id": room})["present"] == MEMBERS

        acks: list[dict] = []
        lock = threading.Lock()

        def send(sender: ChatClient, n: int) -> None:
            for k in range(LINES_EACH):
                ack = sender.call("send", {"room_id": room, "body": f"line {n} {k}", "client_id": f"order-{n:03d}-{k}"})
                with lock:
                    acks.append(ack)

        threads = [threading.Thread(target=send, args=(clients[n], n)) for n in range(SENDERS)]  # both processes
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(acks) == SENDERS * LINES_EACH and all(a["ok"] for a in acks), acks
        sent = {a["id"] for a in acks}

        def arrived(c: ChatClient) -> bool:
            return sent <= {e["id"] for e in c.chat if e["op"] == "add"}

        for c in clients:
            assert c.wait_for(lambda c=c: arrived(c), timeout=30), "a line never arrived"
        orders = set()
        for c in clients:
            adds = [e for e in c.chat if e["op"] == "add"]
            assert len(adds) == len({e["id"] for e in adds}) == len(sent)  # exactly once each
            by_seq = sorted(adds, key=lambda e: e["seq"])
            assert [e["seq"] for e in by_seq] == list(range(start + 1, start + 1 + len(sent)))  # no gap
            orders.add(tuple(e["id"] for e in by_seq))
        assert len(orders) == 1  # the same line at the same number for everyone
