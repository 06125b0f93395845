"""Scale: with 1,000,000 posts the thread page, the room page and the moderation queue take about as
long as with 1,000, and run the same number of SQL queries.

Builds two databases the same way (bulk inserts): a baseline of 1,000 posts (one room of 96
threads, the newest with 50 posts) and a big one of ``--posts`` (default 1,000,000) in threads of
50 posts across all the rooms; with members, flags, a moderation log and review items in
proportion (1 member and 1 closed review item per 100 posts) and 30 open items in both, about
posts of the measured thread (so both queues show the same authors). Then, in one process, it
requests each page from both, alternating, and
prints the median time per request, the ratio big / baseline (target <= 1.5x) and the SQL
statements per request counted with a SQLAlchemy event listener (they must be equal).

Pages: the thread page of the most recently active thread of the first partner room (50
posts), served from the page cache and rendered afresh (cache cleared before every request, so
the posts are read and rendered), page 1 of that room, and the moderators' queue.

Run: ``.venv/bin/python bench/scale.py [--posts 1000000] [--postgres] [--requests 40]``; SQLite
files in a temporary folder by default, ``--postgres`` for two fresh PostgreSQL databases the
run creates and drops. A quick run: ``--posts 100000``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import event, func, select, text  # noqa: E402

from bench import _data, _harness  # noqa: E402
from forum.db import make_engine  # noqa: E402

BASELINE_POSTS = 1_000
POSTS_PER_THREAD = 50
OPEN_ITEMS = 30
ROOM = "just-found-out"
PASSWORD = "bench password 123"  # noqa: S105 - throwaway accounts in a throwaway database
TARGET = 1.5


def populate(url: str, posts: int) -> dict[str, Any]:
    """Fill the database at ``url``; returns what the measurement needs and how long it took."""
    from forum.models import Post, Room, Thread

    started = time.monotonic()
    _data.seeded_app(url, [("Scale Reader", PASSWORD, "member"), ("Scale Keeper", PASSWORD, "moderator")])
    engine = make_engine(url)
    with engine.connect() as conn:
        moderator_id = conn.execute(text("SELECT id FROM member WHERE pseudonym = 'Scale Keeper'")).scalar_one()
    authors = max(20, posts // 100)
    partners = _data.members(engine, authors // 2, "partner")
    recovering = _data.members(engine, authors - authors // 2, "recovery")
    threads = posts // POSTS_PER_THREAD
    if posts <= BASELINE_POSTS:
        # So few posts would make 20 threads: too few to fill a room's first page. The baseline
        # keeps the measured pages alike instead: one room with several pages of threads, the
        # newest of them (the measured thread) with 50 posts, the others with 10.
        small = (posts - POSTS_PER_THREAD) // 10
        _data.fill(engine, threads=small, posts_per_thread=10, author_ids=partners, room_slug=ROOM)
    else:
        _data.fill(engine, threads=threads - threads // 2, posts_per_thread=POSTS_PER_THREAD,
                   author_ids=recovering, audience="recovery", seed=3)
        _data.fill(engine, threads=threads // 2 - 1, posts_per_thread=POSTS_PER_THREAD, author_ids=partners,
                   audience="partner")
    # The measured thread, the same in both databases (same shape, same seed), newest in its room.
    _data.fill(engine, threads=1, posts_per_thread=POSTS_PER_THREAD, author_ids=partners[:20], room_slug=ROOM,
               seed=11)
    with engine.connect() as conn:
        thread_id = conn.execute(select(Thread.id).join(Room).where(Room.slug == ROOM)
                                 .order_by(Thread.last_activity_at.desc()).limit(1)).scalar_one()
        measured_posts = list(conn.execute(select(Post.id).where(Post.thread_id == thread_id)).scalars())
    # The waiting items are about posts of the measured thread: the same shape in both databases,
    # so both queues show the same number of authors (each author costs the queue a history read).
    _data.moderation(engine, open_items=OPEN_ITEMS, closed_items=posts // 100, flaggers=partners + recovering,
                     moderator_id=moderator_id, open_among=measured_posts)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    with engine.connect() as conn:
        counts = {"posts": conn.execute(select(func.count()).select_from(Post)).scalar_one(),
                  "threads": conn.execute(select(func.count()).select_from(Thread)).scalar_one(),
                  "room threads": conn.execute(select(func.count()).select_from(Thread).join(Room)
                                               .where(Room.slug == ROOM)).scalar_one()}
    engine.dispose()
    return {"thread_id": thread_id, "seconds": time.monotonic() - started, **counts}


class Site:
    """One database's app, with a logged-in member and moderator, and a statement counter."""

    def __init__(self, url: str, info: dict[str, Any]) -> None:
        from forum import create_app
        from forum.db import db

        self.info = info
        self.app: Flask = create_app({"HAVEN_ENV": "test", "DATABASE_URL": url, "RATELIMIT_ENABLED": False})
        self.member = self._login("Scale Reader")
        self.moderator = self._login("Scale Keeper")
        self.statements = 0
        with self.app.app_context():
            self.engine = db.require_engine()
        event.listen(self.engine, "before_cursor_execute", self._count)

    def _count(self, *_args: object) -> None:
        self.statements += 1

    def _login(self, pseudonym: str) -> FlaskClient:
        client = self.app.test_client()
        response = client.post("/login", data={"pseudonym": pseudonym, "password": PASSWORD})
        if response.status_code != 302:
            raise SystemExit(f"log-in as {pseudonym} failed: {response.status_code}")
        return client

    def clear_cache(self) -> None:
        from forum.rooms.fragments import page_cache

        page_cache(self.app).clear()

    def request(self, client: FlaskClient, path: str, before: Callable[[], None] | None = None) -> tuple[float, int]:
        """Seconds and SQL statements for one GET of ``path`` (which must answer 200)."""
        if before is not None:
            before()
        self.statements = 0
        started = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        return elapsed, self.statements

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)
        self.engine.dispose()


def pages(site: Site) -> list[tuple[str, FlaskClient, str, Callable[[], None] | None]]:
    thread = f"/threads/{site.info['thread_id']}"
    return [("thread page (cached)", site.member, thread, None),
            ("thread page (rendered afresh)", site.member, thread, site.clear_cache),
            ("room page 1", site.member, f"/rooms/{ROOM}", None),
            ("moderation queue", site.moderator, "/moderation", None)]


PAGE_LABELS = ["thread page (cached)", "thread page (rendered afresh)", "room page 1", "moderation queue"]


def serve(url: str, info: dict[str, Any], conn: Connection) -> None:
    """A process of its own per database (Haven's ``db`` is one per process): answers
    "page index" with (seconds, statements) until it gets None."""
    site = Site(url, info)
    listed = pages(site)
    for _label, client, path, before in listed:  # warm up: first-request work, caches, the OS page cache
        for _ in range(3):
            site.request(client, path, before)
    conn.send("ready")
    while (index := conn.recv()) is not None:
        _label, client, path, before = listed[index]
        conn.send(site.request(client, path, before))
    site.close()


def measure(sites: list[tuple[str, Connection]], requests: int) -> None:
    timings: dict[tuple[str, str], list[float]] = {}
    queries: dict[tuple[str, str], list[int]] = {}
    for _ in range(requests):
        for name, conn in sites:
            for index, label in enumerate(PAGE_LABELS):
                conn.send(index)
                elapsed, count = conn.recv()
                timings.setdefault((label, name), []).append(elapsed)
                queries.setdefault((label, name), []).append(count)
    print(f"\n{'page':32} {'1k posts ms':>12} {'big ms':>9} {'ratio':>7} {'SQL 1k':>7} {'SQL big':>8}")
    worst = 0.0
    same = True
    for label in PAGE_LABELS:
        a = statistics.median(timings[(label, "small")]) * 1000
        b = statistics.median(timings[(label, "big")]) * 1000
        qa, qb = statistics.mode(queries[(label, "small")]), statistics.mode(queries[(label, "big")])
        worst = max(worst, b / a)
        same = same and qa == qb
        print(f"{label:32} {a:12.2f} {b:9.2f} {b / a:6.2f}x {qa:7} {qb:8}")
    print(f"worst ratio {worst:.2f}x (target <= {TARGET}x: {'met' if worst <= TARGET else 'MISSED'}); "
          f"SQL statements per page {'the same at both sizes' if same else 'DIFFER between the sizes'} "
          "(the usual count per request; once a minute a request also writes the session's last-seen time, "
          "two statements more)")


@contextmanager
def database(postgres: bool, name: str, folder: str) -> Iterator[str]:
    if postgres:
        with _harness.postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{os.path.join(folder, name + '.db')}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=1_000_000, help="posts in the big database")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite files")
    parser.add_argument("--requests", type=int, default=40, help="requests per page and database")
    args = parser.parse_args()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        load = os.getloadavg()[0]
        sites: list[tuple[str, Connection]] = []
        spawn = multiprocessing.get_context("spawn")
        for name, posts in (("small", BASELINE_POSTS), ("big", args.posts)):
            url = stack.enter_context(database(args.postgres, name, folder))
            info = populate(url, posts)
            print(f"{backend}, {name}: {info['posts']:,} posts in {info['threads']:,} threads "
                  f"({info['room threads']:,} in the measured room), filled in {info['seconds']:.0f}s", flush=True)
            ours, theirs = spawn.Pipe()
            process = spawn.Process(target=serve, args=(url, info, theirs), daemon=True)
            process.start()
            stack.callback(process.join, 10)
            stack.callback(ours.send, None)
            if ours.recv() != "ready":
                raise SystemExit(f"the {name} database's server did not start")
            sites.append((name, ours))
        print(f"load average {load:.2f} before filling, {os.getloadavg()[0]:.2f} before measuring; "
              f"median of {args.requests} requests per page, alternating the two databases")
        measure(sites, args.requests)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
