"""Chat fan-out: one sender, N listeners in one room, Haven against a bare Flask-SocketIO server.

Run from the repository root::

    .venv/bin/python bench/chat_fanout.py                 # one gevent process each
    .venv/bin/python bench/chat_fanout.py --redis         # also: two processes sharing Redis
    .venv/bin/python bench/chat_fanout.py --listeners 50 --rate 100 --postgres

For each server it connects N listeners (python-socketio clients over WebSocket,
spread over a few client processes), then one sender sends messages paced at
``--rate`` per second for ``--seconds``, then a burst of ``--burst`` messages back
to back. Each message carries its send time; listeners record the receipt time.
Printed: delivered messages per second (listeners x messages / time from the first
send to the last receipt) and p50/p99 send-to-receipt latency, for Haven (the full
path: session and member check, access check, rate limit, screening, SQL insert and
commit, after-commit broadcast) and for the bare server (join a room, broadcast,
ack) measured in the same run, with Haven/bare ratios. The two servers are measured
in alternating rounds (``--rounds``) and their medians compared. Targets: paced p99
under 50 ms and at most 2x the bare p99; burst throughput at least 60% of the bare one.

Clients run on the same machine as the servers, so the figures are the whole
system's (client parsing included), the same for both servers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import socketio  # noqa: E402

from bench._harness import free_port, login_cookie, postgres_database  # noqa: E402

REDIS_URL = os.environ.get("HAVEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "bench harbor lantern 42"  # noqa: S105 - throwaway accounts in a throwaway database
DIGITS = str.maketrans("0123456789", "abcdefghij")
LETTERS = str.maketrans("abcdefghij", "0123456789")
WARMUP = 20


def encode(number: int) -> str:
    """Digits as letters: screening would read long digit runs as phone numbers."""
    return str(number).translate(DIGITS)


def decode(text: str) -> int:
    return int(text.translate(LETTERS))


def body(n: int) -> str:
    return f"ping {encode(n)} {encode(time.time_ns() // 1000)}"


# Servers --------------------------------------------------------------------------------------

@contextmanager
def gunicorn(app_spec: str, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    args = [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1", "-b", f"127.0.0.1:{port}",
            "--log-level", "warning", "--graceful-timeout", "2", app_spec]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SOCKETIO_", "RATELIMIT_", "HAVEN_"))}
    proc = subprocess.Popen(args, cwd=ROOT, env={**clean, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{app_spec} did not start")
            time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def build_database(url: str, members: int) -> tuple[int, list[str]]:
    """Schema, default rooms and ``members`` partners; returns the room id and the pseudonyms."""
    from sqlalchemy import select

    from forum import create_app
    from forum.accounts.actions import do_register, suggest_free_pseudonym
    from forum.cli import seed
    from forum.db import db
    from forum.models import Base
    from forum.rooms.models import Room

    app = create_app({"HAVEN_ENV": "test", "DATABASE_URL": url})
    names = []
    with app.app_context():
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        seed(db.session)
        for _ in range(members):
            member, _code = do_register(db.session, pseudonym=suggest_free_pseudonym(db.session), password=PASSWORD,
                                        path="partner", accepted_guidelines=True)
            member.published_posts = 10
            names.append(member.pseudonym)
            db.session.flush()
        room_id = db.session.scalar(select(Room.id).where(Room.audience == "partner").order_by(Room.position))
        db.session.commit()
        db.engine.dispose()
    assert room_id is not None
    return room_id, names


# Listeners: bench/_chat_listener.py processes, each with many gevent listeners -------------------

@contextmanager
def listeners(bases: list[str], cookies: list[str | None], room_id: int, expected: int, processes: int,
              tmp: Path) -> Iterator[list[tuple[int, int, float, str]]]:
    """Start listener processes, wait until every listener joined, yield; the records fill in after."""
    records: list[tuple[int, int, float, str]] = []
    procs = []
    for p in range(processes):
        chunk = cookies[p::processes]
        if not chunk:
            continue
        out = tmp / f"listener-{p}-{uuid.uuid4().hex[:6]}.json"
        cfg = {"bases": bases, "cookies": chunk, "room_id": room_id, "expected": expected, "out": str(out),
               "name": f"p{p}"}
        proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "_chat_listener.py"), json.dumps(cfg)],
                                cwd=ROOT, stdout=subprocess.PIPE, text=True)
        procs.append((proc, out))
    for proc, _ in procs:
        line = proc.stdout.readline() if proc.stdout else ""
        if line.strip() != "ready":
            raise RuntimeError("a listener process did not start")
    yield records
    for proc, out in procs:
        proc.wait(timeout=240)
        records += [tuple(r) for r in json.loads(out.read_text())]  # type: ignore[misc]


@dataclass
class Figures:
    paced_p50: float
    paced_p99: float
    paced_rate: float
    burst_p50: float
    burst_p99: float
    burst_rate: float
    lost: int
    duplicates: int
    errors: int


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def measure(bases: list[str], listener_cookies: list[str | None], sender_cookie: str | None, room_id: int,
            args: argparse.Namespace, tmp: Path) -> Figures:
    paced = int(args.rate * args.seconds)
    total = WARMUP + paced + args.burst
    with listeners(bases, listener_cookies, room_id, total, args.client_processes, tmp) as records:
        sender = socketio.Client(reconnection=False)
        sender.connect(bases[0], headers={"Cookie": sender_cookie} if sender_cookie else {},
                       transports=["websocket"], wait_timeout=30)
        acks: list[dict[str, Any]] = []
        acked = threading.Semaphore(0)

        def on_ack(ack: dict[str, Any] | None = None) -> None:
            acks.append(ack or {})
            acked.release()

        def send(n: int) -> None:
            sender.emit("send", {"room_id": room_id, "body": body(n), "client_id": f"bench-{uuid.uuid4().hex}"},
                        callback=on_ack)

        n = 0
        for count in (WARMUP, paced):
            start = time.perf_counter()
            for i in range(count):
                delay = start + i / args.rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                send(n)
                n += 1
        time.sleep(1.0)  # let the paced messages land before the burst
        burst_start = time.time()
        for _ in range(args.burst):
            send(n)
            n += 1
        for _ in range(total):
            if not acked.acquire(timeout=60):
                break
        sender.disconnect()

    paced_rows = [r for r in records if WARMUP <= r[0] < WARMUP + paced]
    burst_rows = [r for r in records if r[0] >= WARMUP + paced]
    paced_span = (max(r[2] for r in paced_rows) - min(r[2] for r in paced_rows)) if paced_rows else 1.0
    burst_span = (max(r[2] for r in burst_rows) - burst_start) if burst_rows else float("inf")
    unique = {(r[0], r[3]) for r in records}
    return Figures(
        paced_p50=percentile([r[1] / 1000 for r in paced_rows], 0.50),
        paced_p99=percentile([r[1] / 1000 for r in paced_rows], 0.99),
        paced_rate=len(paced_rows) / max(paced_span, 1e-9),
        burst_p50=percentile([r[1] / 1000 for r in burst_rows], 0.50),
        burst_p99=percentile([r[1] / 1000 for r in burst_rows], 0.99),
        burst_rate=len(burst_rows) / burst_span,
        lost=total * len(listener_cookies) - len(unique),
        duplicates=len(records) - len(unique),
        errors=sum(1 for a in acks if not a.get("ok")),
    )


# Runs -----------------------------------------------------------------------------------------

def run(args: argparse.Namespace, processes: int) -> tuple[Figures, Figures]:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="haven-bench-")))
        url = stack.enter_context(postgres_database()) if args.postgres else f"sqlite:///{tmp / 'bench.db'}"
        room_id, names = build_database(url, args.listeners + 1)
        common: dict[str, str] = {"SOCKETIO_ASYNC_MODE": "gevent"}
        if processes > 1:
            common["SOCKETIO_MESSAGE_QUEUE"] = REDIS_URL
        haven_env = {**common, "HAVEN_ENV": "development", "HAVEN_INSTANCE_DIR": str(tmp / "instance"),
                     "SECRET_KEY": uuid.uuid4().hex, "DATABASE_URL": url, "ARGON2_TIME_COST": "1",
                     "ARGON2_MEMORY_KIB": "8192", "LOGIN_RATE_LIMIT": "100000 per minute",
                     # The limiter still runs on every message, with room for the benchmark's pace.
                     "CHAT_RATE_LIMIT": "1000000 per 10 seconds",
                     "SOCKETIO_CHANNEL": f"haven-bench-{uuid.uuid4().hex[:8]}",
                     "RATELIMIT_KEY_PREFIX": f"haven-bench-{uuid.uuid4().hex[:8]}"}
        if processes > 1:
            haven_env["RATELIMIT_STORAGE_URI"] = REDIS_URL
        bare_env = {**common, "SOCKETIO_CHANNEL": f"bare-bench-{uuid.uuid4().hex[:8]}"}

        print(f"\n== {processes} process(es), {args.listeners} listeners, paced {args.rate:g}/s for "
              f"{args.seconds:g} s, burst {args.burst}, {args.rounds} round(s) ==", flush=True)
        bare_bases = [stack.enter_context(gunicorn("bench.bare_chat:app", bare_env)) for _ in range(processes)]
        haven_bases = [stack.enter_context(gunicorn("wsgi:app", haven_env)) for _ in range(processes)]
        cookies: list[str | None] = [login_cookie(haven_bases[i % processes], name, PASSWORD)
                                     for i, name in enumerate(names)]
        # Rounds alternate between the servers, so a machine that gets busier (or quieter)
        # part-way through weighs on both alike; the medians are compared.
        bares: list[Figures] = []
        havens: list[Figures] = []
        for number in range(1, args.rounds + 1):
            bares.append(measure(bare_bases, [None] * args.listeners, None, room_id, args, tmp))
            report(f"round {number} bare", bares[-1])
            havens.append(measure(haven_bases, cookies[1:], cookies[0], room_id, args, tmp))
            report(f"round {number} Haven", havens[-1])
            ratios(havens[-1], bares[-1], final=False)
        bare, haven = median_figures(bares), median_figures(havens)
        if args.rounds > 1:
            report("bare (median)", bare)
            report("Haven (median)", haven)
        ratios(haven, bare)
        return haven, bare


def median_figures(runs: list[Figures]) -> Figures:
    """Each figure's median over the rounds (losses, duplicates and errors added up)."""
    def mid(values: list[float]) -> float:
        return statistics.median(values)

    return Figures(
        paced_p50=mid([f.paced_p50 for f in runs]), paced_p99=mid([f.paced_p99 for f in runs]),
        paced_rate=mid([f.paced_rate for f in runs]), burst_p50=mid([f.burst_p50 for f in runs]),
        burst_p99=mid([f.burst_p99 for f in runs]), burst_rate=mid([f.burst_rate for f in runs]),
        lost=sum(f.lost for f in runs), duplicates=sum(f.duplicates for f in runs), errors=sum(f.errors for f in runs))


def report(name: str, f: Figures) -> None:
    print(f"{name:>20}: paced {f.paced_rate:8.0f} deliveries/s  p50 {f.paced_p50:6.1f} ms  p99 {f.paced_p99:6.1f} ms"
          f" | burst {f.burst_rate:8.0f} deliveries/s  p50 {f.burst_p50:7.1f} ms  p99 {f.burst_p99:7.1f} ms"
          f" | lost {f.lost}  duplicates {f.duplicates}  error acks {f.errors}", flush=True)


def ratios(haven: Figures, bare: Figures, final: bool = True) -> None:
    p99 = haven.paced_p99 / bare.paced_p99
    burst = haven.burst_rate / bare.burst_rate
    print(f"{'Haven / bare':>20}: paced p99 {p99:.2f}x (target <= 2x; Haven p99 {haven.paced_p99:.1f} ms, target"
          f" < 50 ms) | burst throughput {burst:.0%} (target >= 60%)", flush=True)
    if final:
        ok = (p99 <= 2 and haven.paced_p99 < 50 and burst >= 0.6 and haven.lost == 0 and haven.duplicates == 0
              and haven.errors == 0)
        print(f"{'targets':>20}: {'met' if ok else 'NOT met'} (medians over the rounds)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listeners", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50.0, help="paced messages per second")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of the paced phase")
    parser.add_argument("--burst", type=int, default=300, help="messages sent back to back")
    parser.add_argument("--rounds", type=int, default=5, help="measurements of each server, alternating")
    parser.add_argument("--client-processes", type=int, default=2, help="listener processes")
    parser.add_argument("--redis", action="store_true", help="also run two processes sharing Redis")
    parser.add_argument("--only-redis", action="store_true", help="only the two-process run")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of a SQLite file")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, database: {'PostgreSQL' if args.postgres else 'SQLite'}")
    if not args.only_redis:
        run(args, 1)
    if args.redis or args.only_redis:
        run(args, 2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
