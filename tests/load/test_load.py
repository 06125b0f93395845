"""200 chat members and 20 posting members for 60 seconds against two Haven processes on PostgreSQL.

Afterwards what every client was told is compared with the database: no 5xx, no
acknowledged line or reply missing, nothing stored twice, every member's chat showing
every line of their room; p99 latencies are printed, measured once every chat member
has connected and joined (how long that took is printed too). The second run does the same
while, one after another, Redis restarts, PostgreSQL restarts (cut off mid-write) and
one server process is killed: clients reconnect (to the other process), catch up,
resend what was not answered; nothing acknowledged is lost, nothing is half-written.

``make test-load`` runs this folder; CI runs it too. Each run stops by itself.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from forum import create_app
from forum.chat.models import ChatMessage
from forum.cli import run_migrations, seed
from forum.db import db
from forum.rooms.models import Post, Room, Thread, Visibility
from tests.conftest import Account, register
from tests.live.conftest import cookie_header, http_login
from tests.load.conftest import FIGURES, PrivatePostgres, PrivateRedis, Server, load_env
from tests.rooms.conftest import start_thread

pytestmark = pytest.mark.load

DRIVER = Path(__file__).with_name("driver.py")
SECONDS = 60
CHAT_MEMBERS = 200
POSTERS = 20
ROOMS = {"partner": ["just-found-out", "living-with-it"], "recovery": ["early-days", "working-the-steps"]}


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else (values[0] if values else 0.0)


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def build_world(url: str) -> tuple[Flask, list[tuple[Account, str]], list[tuple[Account, int]]]:
    """Migrate and seed the database; 200 chat members over four rooms, 20 posters over four threads."""
    app = create_app({"HAVEN_ENV": "test", "DATABASE_URL": url})
    with app.app_context():
        run_migrations()
        seed(db.session)
        db.session.commit()
    chatters: list[tuple[Account, str]] = []
    posters: list[tuple[Account, int]] = []
    slugs = [(path, slug) for path, slugs in ROOMS.items() for slug in slugs]
    threads = {}
    for path, slug in slugs:
        opener = register(app, f"Opening {slug[:12]}", path)
        threads[slug] = start_thread(app, opener, slug, "How are you holding up this week?",
                                     "Checking in with everyone here.").thread_id
    for i in range(CHAT_MEMBERS):
        path, slug = slugs[i % len(slugs)]
        chatters.append((register(app, f"Chat Member {i:03d}", path), slug))
    for i in range(POSTERS):
        path, slug = slugs[i % len(slugs)]
        posters.append((register(app, f"Post Member {i:02d}", path), threads[slug]))
    return app, chatters, posters


def log_in_all(bases: list[str], accounts: list[Account]) -> dict[int, str]:
    cookies: dict[int, str] = {}
    for i, account in enumerate(accounts):
        cookies[account.id] = cookie_header(http_login(bases[i % len(bases)], account))
    return cookies


def run_driver(tmp_path: Path, bases: list[str], app: Flask, chatters: list[tuple[Account, str]],
               posters: list[tuple[Account, int]], cookies: dict[int, str]) -> subprocess.Popen[str]:
    with app.app_context():
        room_ids = {r.slug: r.id for r in db.session.scalars(select(Room))}
    out = tmp_path / "driver-out.json"
    cfg = {"bases": bases, "seconds": SECONDS, "chat_every": 8.0, "post_every": 8.0, "out": str(out), "seed": 7,
           "chat": [{"member_id": a.id, "room_id": room_ids[slug], "cookie": cookies[a.id]} for a, slug in chatters],
           "posters": [{"member_id": a.id, "thread_id": t, "cookie": cookies[a.id]} for a, t in posters]}
    return subprocess.Popen([sys.executable, str(DRIVER), json.dumps(cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen[str], tmp_path: Path) -> dict[str, Any]:
    output, _ = proc.communicate(timeout=SECONDS + 300)
    assert proc.returncode == 0, output[-3000:]
    result: dict[str, Any] = json.loads((tmp_path / "driver-out.json").read_text())
    assert result["failures"] == [] and result["unfinished"] == 0, result["failures"][:3]
    return result


def check_against_database(app: Flask, result: dict[str, Any]) -> dict[str, Any]:
    """What clients were told against what is stored: nothing lost, nothing twice, nothing half-written."""
    chat, posters = result["chat"], result["posters"]
    with app.app_context():
        s = db.session
        rows = {m.id: m for m in s.scalars(select(ChatMessage).where(ChatMessage.client_id.like("load-%")))}
        # Every acknowledged line is stored once, as acknowledged, by its author.
        acked = [(c["member_id"], cid, mid, status) for c in chat for cid, mid, status in c["acked"]]
        for member_id, cid, mid, status in acked:
            row = rows.get(mid)
            assert row is not None, f"acknowledged line {mid} is not stored"
            assert (row.author_id, row.client_id, row.status) == (member_id, cid, status)
        assert len({mid for *_, mid, _ in acked}) == len(acked)
        # Nothing stored twice: one row per client id and per text.
        assert len({(m.author_id, m.body) for m in rows.values()}) == len(rows)
        # Stored lines nobody was told about (an answer lost with a killed process) are allowed, but the
        # sender resent them with the same id, so they were answered in the end.
        assert len(rows) == len(acked), f"{len(rows) - len(acked)} stored lines were never acknowledged"
        # Every member's chat ends up showing every published line of their room since they joined.
        published: dict[int, list[ChatMessage]] = {}
        for m in rows.values():
            if m.status == Visibility.PUBLISHED:
                published.setdefault(m.room_id, []).append(m)
        missing = 0
        for c in chat:
            shown = {int(k) for k, v in c["final"].items() if v == "add"}
            missing += sum(1 for m in published.get(c["room_id"], []) if m.seq > (c["start_seq"] or 0)
                           and m.id not in shown)
        assert missing == 0, f"{missing} deliveries never reached a member's chat"
        # Change numbers: gap-free per room.
        for room_id, lines in published.items():
            seqs = sorted(m.seq for m in lines)
            assert len(set(seqs)) == len(seqs), f"room {room_id}: two lines share a change number"
        # Replies: every acknowledged one stored once, nothing stored twice, counters right.
        replies = {p.id: p for p in s.scalars(select(Post).where(Post.submit_key.like("loadpost-%")))}
        told = [(p["member_id"], key, pid) for p in posters for key, pid in p["acked"]]
        for member_id, key, pid in told:
            post = replies.get(pid)
            assert post is not None, f"acknowledged reply {pid} is not stored"
            assert (post.author_id, post.submit_key) == (member_id, key)
        assert len({(p.author_id, p.body_source) for p in replies.values()}) == len(replies)
        assert len(replies) == len(told), f"{len(replies) - len(told)} stored replies were never acknowledged"
        for thread in s.scalars(select(Thread)):
            published_posts = s.scalar(select(func.count(Post.id)).where(
                Post.thread_id == thread.id, Post.status == Visibility.PUBLISHED))
            assert thread.post_count == published_posts, f"thread {thread.id}: counter {thread.post_count}"
        assert all(m.body_html for m in rows.values()) and all(p.body_html for p in replies.values())
    statuses: Counter[str] = Counter()
    for p in posters:
        statuses.update(p["statuses"])
    live = [c["live_adds"] for c in chat]
    return {"lines": len(acked), "replies": len(told), "statuses": statuses,
            "live_duplicates": sum(len(x) - len(set(x)) for x in live), "deliveries": sum(len(set(x)) for x in live),
            "refused": sum((Counter(c["refused"]) for c in chat), Counter()),
            "reconnects": sum(c["reconnects"] for c in chat), "joined_after": result["joined_after"],
            "page_ms": [v for p in posters for v in p["page_ms"]], "post_ms": [v for p in posters for v in p["post_ms"]],
            "send_ms": [v for c in chat for v in c["send_ms"]], "delivery_ms": [v for c in chat for v in c["delivery_ms"]]}


def figures(name: str, f: dict[str, Any]) -> None:
    FIGURES.append(
        f"{name}: {f['lines']} chat lines acknowledged, {f['deliveries']} live deliveries "
        f"({f['live_duplicates']} duplicated), {f['replies']} replies acknowledged, {f['reconnects']} reconnects; "
        f"HTTP answers {dict(sorted(f['statuses'].items()))}; chat refusals {dict(f['refused'])}; "
        f"all {CHAT_MEMBERS} chat members connected and joined in {f['joined_after']:.1f} s, "
        f"then {SECONDS} s of chatting and posting")
    FIGURES.append(
        f"{name}: thread page p50 {p50(f['page_ms']):.0f} ms p99 {p99(f['page_ms']):.0f} ms; "
        f"reply p99 {p99(f['post_ms']):.0f} ms; chat send->ack p50 {p50(f['send_ms']):.0f} ms "
        f"p99 {p99(f['send_ms']):.0f} ms; send->delivery p50 {p50(f['delivery_ms']):.0f} ms "
        f"p99 {p99(f['delivery_ms']):.0f} ms")


def _servers(env: dict[str, str], tmp_path: Path) -> list[Server]:
    return [Server(env, tmp_path / f"server-{i}.log") for i in range(2)]


def test_two_processes_under_load(private_postgres: PrivatePostgres, private_redis: PrivateRedis,
                                  tmp_path: Path) -> None:
    app, chatters, posters = build_world(private_postgres.url)
    servers = _servers(load_env(private_postgres.url, private_redis.url, tmp_path), tmp_path)
    try:
        bases = [s.base for s in servers]
        cookies = log_in_all(bases, [a for a, _ in chatters] + [a for a, _ in posters])
        result = finish(run_driver(tmp_path, bases, app, chatters, posters, cookies), tmp_path)
    finally:
        for s in servers:
            s.stop()
    f = check_against_database(app, result)
    figures("load", f)
    assert not any(code.startswith("5") for code in f["statuses"]), f["statuses"]
    assert f["live_duplicates"] == 0
    assert f["lines"] > CHAT_MEMBERS * 3 and f["replies"] > POSTERS * 3  # the load really ran
    assert "error" not in f["refused"]


def test_faults_under_load(private_postgres: PrivatePostgres, private_redis: PrivateRedis, tmp_path: Path) -> None:
    """Redis restarts at 12 s, PostgreSQL at 27 s (cut off mid-write), one process is killed at 42 s."""
    app, chatters, posters = build_world(private_postgres.url)
    servers = _servers(load_env(private_postgres.url, private_redis.url, tmp_path), tmp_path)
    events: list[str] = []
    try:
        bases = [s.base for s in servers]
        cookies = log_in_all(bases, [a for a, _ in chatters] + [a for a, _ in posters])
        proc = run_driver(tmp_path, bases, app, chatters, posters, cookies)

        def faults() -> None:
            start = time.monotonic()
            for at, what, act in ((12, "Redis restarted", lambda: private_redis.restart(1.0)),
                                  (27, "PostgreSQL restarted", private_postgres.restart),
                                  (42, "server process 2 killed", servers[1].kill)):
                time.sleep(max(0.0, at - (time.monotonic() - start)))
                act()
                events.append(f"{what} at {time.monotonic() - start:.0f} s")

        injector = threading.Thread(target=faults, daemon=True)
        injector.start()
        result = finish(proc, tmp_path)
        injector.join(30)
    finally:
        for s in servers:
            s.stop()
    assert len(events) == 3, events
    f = check_against_database(app, result)
    figures("faults (" + "; ".join(events) + ")", f)
    # The only server errors are the clear 503s while PostgreSQL was away; never a 500.
    assert not any(code.startswith("5") and code != "503" for code in f["statuses"]), f["statuses"]
    assert f["reconnects"] >= CHAT_MEMBERS // 2 - 10  # the killed process's members moved over
    assert f["lines"] > CHAT_MEMBERS * 3 and f["replies"] > POSTERS * 3
