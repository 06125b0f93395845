"""Shared pieces for the HTTP benchmarks: build a database, start gunicorn, drive wrk."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
POSTGRES_ADMIN_URL = os.environ.get("HAVEN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_database() -> Iterator[str]:
    admin = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+psycopg")
    name = f"haven_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


class Server:
    """A running gunicorn: its base URL, and the CPU time its processes have used."""

    def __init__(self, base: str, pid: int) -> None:
        self.base = base
        self.pid = pid

    def cpu_seconds(self) -> float:
        """User + system CPU of the master and its workers so far (Linux /proc)."""
        total = 0
        for pid in [self.pid, *_children(self.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        return total / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], worker: str = "sync", threads: int = 1) -> Iterator[Server]:
    """One gunicorn worker process serving ``app_spec`` on loopback."""
    port = free_port()
    args = [PY, "-m", "gunicorn", "-w", "1", "-k", worker, "--threads", str(threads), "-b", f"127.0.0.1:{port}",
            "--log-level", "warning", "--chdir", str(ROOT), app_spec]
    proc = subprocess.Popen(args, env={**os.environ, **env}, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(base + "/healthz", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"{app_spec} did not start")
        yield Server(base, proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def login_cookie(base: str, pseudonym: str, password: str) -> str:
    """Log in through the real form; returns a Cookie header value."""
    s = requests.Session()
    page = s.get(base + "/login", timeout=5).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    data = {"pseudonym": pseudonym, "password": password}
    if match:
        data["csrf_token"] = match.group(1)
    r = s.post(base + "/login", data=data, allow_redirects=False, timeout=10)
    assert r.status_code == 302, f"log-in failed: {r.status_code}"
    return "; ".join(f"{k}={v}" for k, v in s.cookies.items())


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def wrk(url: str, cookie: str | None, seconds: int = 5, connections: int = 8) -> dict[str, float]:
    """Requests/s and p50/p99 latency (ms) for ``url`` measured by wrk (or a Python fallback)."""
    if shutil.which("wrk"):
        cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
        if cookie:
            cmd[1:1] = ["-H", f"Cookie: {cookie}"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        total = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        lat = {p: _ms(re.search(rf"\s{p}%\s+([\d.]+\w+)", out).group(1)) for p in ("50", "99")}  # type: ignore[union-attr]
        return {"rps": rps, "p50": lat["50"], "p99": lat["99"], "requests": total,
                "errors": float(non2xx.group(1)) if non2xx else 0.0}
    return _python_load(url, cookie, seconds)


def _ms(value: str) -> float:
    number = float(re.match(r"[\d.]+", value).group(0))  # type: ignore[union-attr]
    if value.endswith("us"):
        return number / 1000
    if value.endswith("ms"):
        return number
    if value.endswith("s"):
        return number * 1000
    return number


def _python_load(url: str, cookie: str | None, seconds: int) -> dict[str, float]:
    s = requests.Session()
    headers = {"Cookie": cookie} if cookie else {}
    latencies: list[float] = []
    errors = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        r = s.get(url, headers=headers, timeout=10)
        latencies.append((time.perf_counter() - t0) * 1000)
        errors += r.status_code >= 400
    latencies.sort()
    return {"rps": len(latencies) / seconds, "requests": float(len(latencies)), "p50": latencies[len(latencies) // 2],
            "p99": latencies[int(len(latencies) * 0.99)], "errors": float(errors)}
