"""What the real servers print: the development server (``python wsgi.py``, Werkzeug) and the
production command from docs/deploy.md (gunicorn's gevent worker, here with its access log
turned on as well) never write a client address, a pseudonym or member text, whatever the
request: pages, a log-in, a new thread, Socket.IO over polling with a chat line, a missing
page and a malformed request.

The server listens on 127.0.0.2 and every request comes from 127.0.0.3 (another loopback
address), so the client's address cannot be confused with the address the server announces.
Behind the "proxy" the client also claims 203.0.113.9 in X-Forwarded-For.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from flask import Flask
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from forum.db import db
from forum.rooms.models import Room
from tests.conftest import Account, register
from tests.live.conftest import wait_until_serving

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
SERVER, CLIENT, FORWARDED = "127.0.0.2", "127.0.0.3", "203.0.113.9"
PSEUDONYM = "Amber Willow 44"
POST_TEXT = "words nobody else writes about the tin lighthouse"
CHAT_TEXT = "a chat line about the tin lighthouse"


class _FromClient(HTTPAdapter):
    """Connections that leave from the client's loopback address."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (CLIENT, 0)
        super().init_poolmanager(*args, **kwargs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((SERVER, 0))
        return int(s.getsockname()[1])


def _http() -> requests.Session:
    http = requests.Session()
    http.mount("http://", _FromClient())
    http.headers["X-Forwarded-For"] = FORWARDED
    return http


COMMANDS = {
    "development": lambda port: [sys.executable, "wsgi.py"],
    "production": lambda port: [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1", "-b", f"{SERVER}:{port}",
                                "--graceful-timeout", "2", "--access-logfile", "-", "wsgi:app"],
}


@contextmanager
def serve(kind: str, database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """One server process on the test database; yields its base URL, and its whole output
    (in ``info["output"]``) once it has stopped."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOCKETIO_", "RATELIMIT_", "HAVEN_"))}
    env.update({"HAVEN_ENV": kind, "HAVEN_INSTANCE_DIR": str(tmp_path / "instance"), "DATABASE_URL": database_url,
                "SECRET_KEY": "log-test-" + uuid.uuid4().hex, "TRUST_PROXY_HOPS": "1", "HOST": SERVER,
                "PORT": str(port), "PYTHONUNBUFFERED": "1", "SOCKETIO_CHANNEL": "haven-log-" + uuid.uuid4().hex[:8]})
    proc = subprocess.Popen(COMMANDS[kind](port), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    info: dict[str, Any] = {"base": f"http://{SERVER}:{port}", "port": port, "output": ""}
    try:
        wait_until_serving(info["base"], proc, f"{kind} server")
        yield info
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        info["output"] = out


def _cookie(response: requests.Response, jar: dict[str, str]) -> None:
    # By hand: production's __Host- cookies are Secure, which requests would not send over http.
    for header in response.raw.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";", 1)[0]


def _get(http: requests.Session, jar: dict[str, str], url: str) -> requests.Response:
    response = http.get(url, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}, timeout=10,
                        allow_redirects=False)
    _cookie(response, jar)
    return response


def _post(http: requests.Session, jar: dict[str, str], url: str, data: dict[str, str]) -> requests.Response:
    response = http.post(url, data=data, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())},
                         timeout=10, allow_redirects=False)
    _cookie(response, jar)
    return response


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:300]
    return match.group(1)


def _visit(base: str, port: int, account: Account, room_id: int) -> None:
    http, jar = _http(), dict[str, str]()
    assert _get(http, jar, base + "/").status_code == 200
    login_page = _get(http, jar, base + "/login").text
    wrong = _post(http, jar, base + "/login", {"pseudonym": account.pseudonym, "password": "not the password 1",
                                               "csrf_token": _token(login_page)})
    assert wrong.status_code == 401
    logged_in = _post(http, jar, base + "/login", {"pseudonym": account.pseudonym, "password": account.password,
                                                   "csrf_token": _token(_get(http, jar, base + "/login").text)})
    assert logged_in.status_code == 302, logged_in.text[:300]
    form = _get(http, jar, base + "/rooms/just-found-out/new").text
    created = _post(http, jar, base + "/rooms/just-found-out/threads", {
        "title": "Lighthouse", "body": POST_TEXT, "submit_key": uuid.uuid4().hex, "confirmed": "yes",
        "csrf_token": _token(form)})
    assert created.status_code == 302, created.text[:300]
    assert _get(http, jar, base + created.headers["Location"]).status_code == 200
    assert _get(http, jar, base + "/no-such-page").status_code == 404

    sio = socketio.Client(reconnection=False, http_session=http)
    sio.connect(base, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()), "X-Forwarded-For": FORWARDED},
                transports=["polling"], wait_timeout=10)
    try:
        assert sio.call("join", {"room_id": room_id}, timeout=10)["ok"]
        sent = sio.call("send", {"room_id": room_id, "body": CHAT_TEXT, "client_id": uuid.uuid4().hex}, timeout=10)
        assert sent["ok"], sent
    finally:
        sio.disconnect()

    # A request no HTTP server can parse: both servers log a line about it.
    with socket.create_connection((SERVER, port), source_address=(CLIENT, 0), timeout=5) as raw:
        raw.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        raw.recv(1024)


@pytest.mark.parametrize("kind", sorted(COMMANDS))
def test_server_output_holds_no_address_pseudonym_or_text(app: Flask, database_url: str, tmp_path: Path,
                                                          kind: str) -> None:
    account = register(app, PSEUDONYM)
    with app.app_context():
        room_id = db.session.scalars(select(Room.id).where(Room.slug == "just-found-out")).one()
    with serve(kind, database_url, tmp_path) as info:
        _visit(info["base"], info["port"], account, room_id)
    output = info["output"]
    assert "[address]" in output, output[-2000:]  # the malformed request was logged, its address masked
    for secret in (CLIENT, FORWARDED, PSEUDONYM, POST_TEXT, CHAT_TEXT, "tin lighthouse"):
        assert secret not in output, (secret, output[-2000:])
