"""Fast synthetic data for benchmarks: members, threads and nested posts inserted in bulk."""

from __future__ import annotations

import random
from datetime import timedelta

from flask import Flask
from sqlalchemy import Engine, insert, select, text

from forum.db import make_engine, utcnow
from forum.models import Base, Member, Post, Room, Thread
from forum.moderation.models import Flag, ModerationLog, ReviewItem

BODY = ("Thank you for sharing this. I remember feeling exactly the same in my first months, "
        "and it did get *lighter* with time.\n\n- one day at a time\n- talk to your sponsor\n\n"
        "> You are not alone here.")
BODY_HTML = ("<p>Thank you for sharing this. I remember feeling exactly the same in my first months, "
             "and it did get <em>lighter</em> with time.</p>\n<ul>\n<li>one day at a time</li>\n"
             "<li>talk to your sponsor</li>\n</ul>\n<blockquote>\n<p>You are not alone here.</p>\n</blockquote>\n")


def create_schema(engine: Engine) -> None:
    Base.metadata.create_all(engine)


def seeded_app(url: str, accounts: list[tuple[str, str, str]]) -> Flask:
    """The schema, the default rooms and watched words, and ``accounts`` (pseudonym, password,
    role; path partner) made through the real sign-up action; returns the app."""
    from forum import create_app
    from forum.accounts.actions import do_register
    from forum.cli import seed
    from forum.db import db

    create_schema(make_engine(url))
    app = create_app({"HAVEN_ENV": "test", "DATABASE_URL": url})
    with app.app_context():
        seed(db.session)
        for pseudonym, password, role in accounts:
            do_register(db.session, pseudonym=pseudonym, password=password, path="partner",
                        accepted_guidelines=True, role=role)
        db.session.commit()
    return app


def members(engine: Engine, count: int, path: str = "partner") -> list[int]:
    from forum.accounts.passwords import hash_secret

    password_hash = hash_secret("bench password 123")
    with engine.begin() as conn:
        start = conn.execute(select(Member.id).order_by(Member.id.desc()).limit(1)).scalar() or 0
        rows = [{"pseudonym": f"Bench Member {start + i}", "pseudonym_key": f"bench member {start + i}",
                 "password_hash": password_hash, "recovery_code_hash": password_hash, "path": path,
                 "role": "member", "auth_token": f"bench-token-{start + i}-{random.random()}",
                 "created_at": utcnow(), "published_posts": 10} for i in range(1, count + 1)]
        conn.execute(insert(Member), rows)
        return list(conn.execute(select(Member.id).where(Member.id > start)).scalars())


def fill(engine: Engine, *, threads: int, posts_per_thread: int, author_ids: list[int],
         audience: str | None = None, nested: bool = True, seed: int = 7, max_depth: int = 10,
         room_slug: str | None = None) -> list[int]:
    """Insert ``threads`` threads of ``posts_per_thread`` posts across the rooms (those of
    ``audience``, or just ``room_slug``); returns thread ids, the most recently active last.

    Replies pick a random earlier post as parent (depth capped at ``max_depth``), so threads are
    genuinely nested.
    """
    rng = random.Random(seed)
    with engine.begin() as conn:
        rooms = [r for r in conn.execute(select(Room.id, Room.audience, Room.slug).order_by(Room.id)).all()
                 if (audience is None or r.audience == audience) and (room_slug is None or r.slug == room_slug)]
        next_post = (conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM post")).scalar() or 0) + 1
        next_thread = (conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM thread")).scalar() or 0) + 1
        now = utcnow()
        thread_rows, post_rows, thread_ids = [], [], []
        for t in range(threads):
            tid = next_thread + t
            room_id = rooms[t % len(rooms)].id
            when = now - timedelta(minutes=threads - t)
            thread_rows.append({"id": tid, "room_id": room_id, "author_id": rng.choice(author_ids),
                                "title": f"Thread number {tid}: finding my feet", "status": "published",
                                "pinned": False, "locked": False, "created_at": when, "last_activity_at": when,
                                "post_count": posts_per_thread, "version": 0})
            thread_ids.append(tid)
            keys: list[tuple[int, str, int]] = []
            for p in range(posts_per_thread):
                pid = next_post
                next_post += 1
                if p == 0 or not nested:
                    parent = keys[0] if keys else None
                else:
                    parent = rng.choice(keys[-50:]) if rng.random() < 0.8 else keys[0]
                    if parent[2] >= max_depth:
                        parent = keys[0]
                depth = 0 if parent is None else parent[2] + 1
                sort_key = f"{pid:010d}" if parent is None else f"{parent[1]}/{pid:010d}"
                keys.append((pid, sort_key, depth))
                post_rows.append({"id": pid, "thread_id": tid, "parent_id": parent[0] if parent else None,
                                  "author_id": rng.choice(author_ids), "depth": depth, "sort_key": sort_key,
                                  "body_source": BODY, "body_html": BODY_HTML, "status": "published",
                                  "created_at": when, "content_warning": None, "edited_at": None,
                                  "submit_key": None})
            if len(post_rows) >= 20_000:
                conn.execute(insert(Thread), thread_rows)
                conn.execute(insert(Post), post_rows)
                thread_rows, post_rows = [], []
        if thread_rows:
            conn.execute(insert(Thread), thread_rows)
        if post_rows:
            conn.execute(insert(Post), post_rows)
        for room in rooms:
            conn.execute(text("UPDATE room SET thread_count = (SELECT COUNT(*) FROM thread WHERE room_id = :r), "
                              "last_activity_at = :now WHERE id = :r"), {"r": room.id, "now": now})
        if engine.dialect.name == "postgresql":
            for table in ("post", "thread", "member"):
                # table names come from the fixed tuple above, never from input
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                                  f"(SELECT MAX(id) FROM {table}))"))
    return thread_ids


def moderation(engine: Engine, *, open_items: int, closed_items: int, flaggers: list[int], moderator_id: int,
               seed: int = 5, open_among: list[int] | None = None) -> None:
    """Review items about random posts (``open_items`` waiting, ``closed_items`` done), two flags
    on each, and a moderation log entry for each closed item, inserted in bulk. With
    ``open_among``, the waiting items are about posts picked from those ids."""
    rng = random.Random(seed)
    with engine.begin() as conn:
        max_post = conn.execute(text("SELECT MAX(id) FROM post")).scalar() or 0
        if open_among is None:
            picks = rng.sample(range(1, max_post + 1), min(max_post, open_items + closed_items))
        else:
            waiting = rng.sample(sorted(open_among), open_items)
            taken = set(waiting)
            others = [p for p in rng.sample(range(1, max_post + 1), min(max_post, closed_items + open_items))
                      if p not in taken]
            picks = waiting + others[:closed_items]
        posts = {row.id: row for row in conn.execute(
            select(Post.id, Post.author_id, Thread.room_id).join(Thread, Thread.id == Post.thread_id)
            .where(Post.id.in_(picks[:open_items]))).all()}
        now = utcnow()
        items, flags, log = [], [], []
        for n, post_id in enumerate(picks):
            is_open = n < open_items
            row = posts.get(post_id) if is_open else None
            author_id = row.author_id if row else None
            room_id = row.room_id if row else 1
            when = now - timedelta(minutes=len(picks) - n)
            items.append({"item_type": "post", "item_id": post_id, "author_id": author_id, "room_id": room_id,
                          "state": "open" if is_open else "closed", "priority": rng.choice([0, 10, 20]),
                          "labels": ["flag:judgment"], "flag_count": 2, "claimed_by_id": None, "claimed_at": None,
                          "created_at": when, "closed_at": None if is_open else when})
            for member_id in rng.sample(flaggers, 2):
                flags.append({"item_type": "post", "item_id": post_id, "member_id": member_id, "reason": "judgment",
                              "note": None, "created_at": when})
            if not is_open:
                log.append({"moderator_id": moderator_id, "action": "approve", "member_id": author_id,
                            "item_type": "post", "item_id": post_id, "reason": None, "before": {},
                            "created_at": when})
        for table, rows in ((ReviewItem, items), (Flag, flags), (ModerationLog, log)):
            for start in range(0, len(rows), 20_000):
                conn.execute(insert(table), rows[start:start + 20_000])
