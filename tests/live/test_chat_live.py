"""End-to-end chat against real servers: Werkzeug threading, gunicorn's gevent worker, and two
gevent processes sharing chat through Redis."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import socketio
from flask import Flask

from tests import services
from tests.chat.conftest import PARTNER_ROOM, room_id
from tests.conftest import Account
from tests.live.conftest import ROOT, ChatClient, cookie_header, csrf_token, http_login, serve, server_env

pytestmark = pytest.mark.live


def _round_trip(base: str, app: Flask, partner: Account, other_partner: Account, recovering: Account,
                clients: list[ChatClient]) -> None:
    room = room_id(app, PARTNER_ROOM)
    alice = ChatClient(base, cookie_header(http_login(base, partner)))
    bob = ChatClient(base, cookie_header(http_login(base, other_partner)))
    outsider = ChatClient(base, cookie_header(http_login(base, recovering)))
    clients += [alice, bob, outsider]
    assert alice.call("join", {"room_id": room})["ok"] is True
    joined = bob.call("join", {"room_id": room})
    assert joined["ok"] is True and joined["present"] == 2
    assert outsider.call("join", {"room_id": room}) == outsider.call("join", {"room_id": 424242})
    ack = alice.call("send", {"room_id": room, "body": "hello from a real server", "client_id": "live-0000001"})
    assert ack["ok"] is True
    assert bob.wait_for(lambda: any(e["id"] == ack["id"] for e in bob.chat))
    [event] = bob.chat
    assert event["op"] == "add" and event["message"]["html"] == "hello from a real server"
    assert outsider.chat == []
    again = alice.call("send", {"room_id": room, "body": "hello from a real server", "client_id": "live-0000001"})
    assert again["id"] == ack["id"]


def test_threading_server_round_trip(app: Flask, partner: Account, other_partner: Account, recovering: Account,
                                     database_url: str, tmp_path: Path, clients: list[ChatClient]) -> None:
    with serve("threading", server_env(database_url, tmp_path)) as base:
        _round_trip(base, app, partner, other_partner, recovering, clients)


def test_gevent_gunicorn_round_trip_over_websocket_and_polling(app: Flask, partner: Account,
                                                               other_partner: Account, recovering: Account,
                                                               database_url: str, tmp_path: Path,
                                                               clients: list[ChatClient]) -> None:
    with serve("gevent", server_env(database_url, tmp_path)) as base:
        _round_trip(base, app, partner, other_partner, recovering, clients)
        # Long-polling with the upgrade to WebSocket, as browsers connect.
        polling = ChatClient(base, cookie_header(http_login(base, partner)), transports=["polling", "websocket"])
        clients.append(polling)
        assert polling.call("join", {"room_id": room_id(app, PARTNER_ROOM)})["ok"] is True


def test_visitors_and_other_origins_are_refused(app: Flask, partner: Account, database_url: str,
                                                tmp_path: Path) -> None:
    with serve("threading", server_env(database_url, tmp_path)) as base:
        with pytest.raises(socketio.exceptions.ConnectionError):
            ChatClient(base, None)
        cookie = cookie_header(http_login(base, partner))
        # Long-polling, where the Origin header is exactly the one given (websocket-client adds its own).
        with pytest.raises(socketio.exceptions.ConnectionError):
            ChatClient(base, cookie, transports=["polling"], headers={"Origin": "https://evil.example"})
        same_site = ChatClient(base, cookie, transports=["polling"], headers={"Origin": base})
        assert same_site.call("join", {"room_id": room_id(app, PARTNER_ROOM)})["ok"] is True
        same_site.close()


def test_two_processes_share_chat_log_outs_and_limits_through_redis(
        app: Flask, partner: Account, other_partner: Account, database_url: str, tmp_path: Path,
        clients: list[ChatClient]) -> None:
    services.need("Redis", services.redis_available())
    env = server_env(database_url, tmp_path, SOCKETIO_MESSAGE_QUEUE=services.REDIS_URL,
                     RATELIMIT_STORAGE_URI=services.REDIS_URL)
    room = room_id(app, PARTNER_ROOM)
    with serve("gevent", env) as first, serve("gevent", env) as second:
        alice_http = http_login(first, partner)
        alice = ChatClient(first, cookie_header(alice_http))
        bob = ChatClient(second, cookie_header(http_login(second, other_partner)))
        clients += [alice, bob]
        assert alice.call("join", {"room_id": room})["ok"]
        assert bob.call("join", {"room_id": room})["present"] == 2  # presence counts both processes
        ack = bob.call("send", {"room_id": room, "body": "sent on process B"})
        assert ack["ok"] is True
        assert alice.wait_for(lambda: any(e.get("id") == ack["id"] for e in alice.chat))
        # The rate limit is shared: 5 in 10 seconds across both processes.
        alice_on_b = ChatClient(second, cookie_header(alice_http))
        clients.append(alice_on_b)
        results = [alice.call("send", {"room_id": room, "body": f"a{i}"})["ok"] for i in range(3)]
        results += [alice_on_b.call("send", {"room_id": room, "body": f"b{i}"})["ok"] for i in range(3)]
        assert results == [True] * 5 + [False]
        # Logging out over HTTP on process B closes the socket held by process A.
        token = csrf_token(alice_http, second, "/rooms")
        alice_http.post(second + "/logout", data={"csrf_token": token}, timeout=10, allow_redirects=False)
        assert alice.disconnected.wait(10) and alice_on_b.disconnected.wait(10)
        assert bob.wait_for(lambda: bool(bob.presence) and bob.presence[-1]["count"] == 1)


def test_psycopg_waits_cooperatively_under_gevent() -> None:
    """Under gevent's monkey-patching psycopg 3 picks a cooperative wait: a slow query leaves the loop free."""
    services.need("PostgreSQL", services.postgres_available())
    script = textwrap.dedent(f"""
        from gevent import monkey
        monkey.patch_all()
        import gevent, psycopg
        from psycopg import waiting
        assert waiting.wait is not getattr(waiting, "wait_c", None), waiting.wait
        ticks = []
        def ticker():
            while True:
                ticks.append(1)
                gevent.sleep(0.01)
        t = gevent.spawn(ticker)
        with psycopg.connect({services.POSTGRES_ADMIN_URL!r}) as conn:
            conn.execute("SELECT pg_sleep(0.5)")
        t.kill()
        print(len(ticks))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) > 10  # the ticker kept running during the 0.5 s query


def test_gevent_worker_selects_gevent_mode() -> None:
    script = textwrap.dedent("""
        from gevent import monkey
        monkey.patch_all()
        import os
        os.environ.pop("SOCKETIO_ASYNC_MODE", None)
        os.environ["HAVEN_ENV"] = "test"
        from forum import create_app
        from forum.extensions import socketio
        create_app("test")
        print(socketio.async_mode)
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "gevent"


