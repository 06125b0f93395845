"""Load and fault tests: private PostgreSQL and Redis servers, Haven processes, and the figures.

The fault tests restart PostgreSQL and Redis and kill server processes, so they never
touch the machine's own servers: each test module gets a PostgreSQL cluster of its own
(initdb in a temporary folder, on a free port) and a Redis of its own, both on
loopback, both stopped when the module ends. Haven runs as gunicorn gevent processes
(the production command) pointed at them. Everything stops by itself.

Figures each test measured are printed at the end of the run (``pytest_terminal_summary``).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import services
from tests.live.conftest import ROOT, free_port, server_env, wait_until_serving

FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("load figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


def _as_postgres(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its tools as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on loopback (trust authentication, no fsync: tests only)."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        services.need("PostgreSQL's server programs (initdb)", bool(found))
        self.bin = Path(found[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="haven-load-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        subprocess.run(_as_postgres([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                                     "--no-sync", "-E", "UTF8"]), check=True, capture_output=True, timeout=120)
        self.start()
        subprocess.run(_as_postgres([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                                     "-U", "postgres", "haven"]), check=True, capture_output=True, timeout=60)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/haven"

    def _ctl(self, *args: str) -> None:
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args]),
                       check=True, capture_output=True, timeout=90)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._ctl("-o", options, "-l", str(self.dir / "server.log"), "start")

    def restart(self) -> None:
        """Stop at once (in-flight transactions are cut off, as in a crash), then start again."""
        self._ctl("-m", "immediate", "stop")
        self.start()

    def close(self) -> None:
        try:
            self._ctl("-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A Redis on loopback that keeps nothing on disk."""

    def __init__(self) -> None:
        self.exe = shutil.which("redis-server")
        services.need("redis-server", self.exe is not None)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.exe is not None
        self.proc = subprocess.Popen([self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        import redis

        while True:
            try:
                redis.Redis.from_url(self.url, socket_timeout=1).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None

    def restart(self, down_for: float = 1.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()


class Server:
    """One Haven process as production runs it: gunicorn with one gevent worker."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        args = [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1", "-b", f"127.0.0.1:{self.port}",
                "--log-level", "warning", "--graceful-timeout", "2", "wsgi:app"]
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        try:
            wait_until_serving(self.base, self.proc, f"Haven (see {log})", seconds=60)  # type: ignore[arg-type]
        except RuntimeError:
            self.stop()
            raise

    def kill(self) -> None:
        """As a crash would: SIGKILL to the whole process group, no goodbye to its sockets."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres()
    try:
        yield pg
    finally:
        pg.close()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    r = PrivateRedis()
    try:
        yield r
    finally:
        r.stop()


def load_env(database_url: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """Development settings with production's moving parts: Redis for chat and limits, PostgreSQL."""
    return server_env(database_url, tmp_path, SOCKETIO_MESSAGE_QUEUE=redis_url, RATELIMIT_STORAGE_URI=redis_url,
                      ARGON2_TIME_COST="1", ARGON2_MEMORY_KIB="8192",
                      LOGIN_RATE_LIMIT="100000 per minute")  # everyone logs in from 127.0.0.1
