"""Real server processes on loopback for end-to-end chat tests.

Each test gets the suite's fresh database (``database_url``: a SQLite file, or the
PostgreSQL test database), seeded and with members made through the real actions
by the ``app`` fixture; the servers are separate processes pointed at it. Members
log in over HTTP with requests, and python-socketio clients carry the session cookie.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from tests.conftest import Account

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Development settings (real Argon2, real limits) on the test database; one secret for all processes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOCKETIO_", "RATELIMIT_", "HAVEN_"))}
    env.update({
        "HAVEN_ENV": "development",
        "HAVEN_INSTANCE_DIR": str(tmp_path / "instance"),
        "SECRET_KEY": "live-test-secret-" + uuid.uuid4().hex,
        "DATABASE_URL": database_url,
        "SOCKETIO_CHANNEL": "haven-test-" + uuid.uuid4().hex[:12],
        "RATELIMIT_KEY_PREFIX": "haven-test-" + uuid.uuid4().hex[:12],
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def wait_until_serving(base: str, proc: subprocess.Popen[str], what: str, seconds: float = 30) -> None:
    """Return once ``base``/healthz answers 200; RuntimeError (with the output, when captured)
    if ``proc`` ends or ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read() if proc.stdout and proc.poll() is not None else ""
            raise RuntimeError(f"{what} did not start:\n{out[-3000:]}")
        time.sleep(0.1)


@contextmanager
def serve(kind: str, env: dict[str, str]) -> Iterator[str]:
    """Start one server process: ``threading`` (wsgi.py, Werkzeug) or ``gevent`` (gunicorn -k gevent)."""
    port = free_port()
    if kind == "gevent":
        args = [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1", "-b", f"127.0.0.1:{port}",
                "--log-level", "warning", "--graceful-timeout", "2", "wsgi:app"]
    else:
        args = [sys.executable, "wsgi.py"]
    proc = subprocess.Popen(args, cwd=ROOT, env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, proc, f"{kind} server")
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def http_login(base: str, account: Account) -> requests.Session:
    """Log in through the real form (CSRF token included); the session carries the cookie."""
    http = requests.Session()
    page = http.get(base + "/login", timeout=10).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    data = {"pseudonym": account.pseudonym, "password": account.password}
    if match:
        data["csrf_token"] = match.group(1)
    response = http.post(base + "/login", data=data, timeout=10, allow_redirects=False)
    assert response.status_code == 302, response.text[:500]
    return http


def csrf_token(http: requests.Session, base: str, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', http.get(base + path, timeout=10).text)
    assert match
    return match.group(1)


def cookie_header(http: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


class ChatClient:
    """A python-socketio client that records every ``chat`` and ``presence`` event."""

    def __init__(self, base: str, cookie: str | None, transports: list[str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.chat: list[dict[str, Any]] = []
        self.presence: list[dict[str, Any]] = []
        self.disconnected = threading.Event()
        self._arrived = threading.Condition()
        self.sio.on("chat", self._on_chat)
        self.sio.on("presence", self._on_presence)
        self.sio.on("disconnect", lambda *a: self.disconnected.set())
        all_headers = dict(headers or {})
        if cookie:
            all_headers["Cookie"] = cookie
        self.sio.connect(base, headers=all_headers, transports=transports or ["websocket"], wait_timeout=10)

    def _on_chat(self, payload: dict[str, Any]) -> None:
        with self._arrived:
            self.chat.append(payload)
            self._arrived.notify_all()

    def _on_presence(self, payload: dict[str, Any]) -> None:
        with self._arrived:
            self.presence.append(payload)
            self._arrived.notify_all()

    def call(self, event: str, data: Any) -> Any:
        return self.sio.call(event, data, timeout=10)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10) -> bool:
        with self._arrived:
            return self._arrived.wait_for(predicate, timeout=timeout)

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


@pytest.fixture
def clients() -> Iterator[list[ChatClient]]:
    """Collects ChatClients to close after the test."""
    made: list[ChatClient] = []
    yield made
    for c in made:
        c.close()
