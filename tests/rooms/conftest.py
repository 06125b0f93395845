"""Helpers for rooms tests: threads built through the real actions, bulk-built big threads,
a snapshot of every table to prove a refused request wrote nothing, and a SQL query counter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, insert, select, text

from forum.accounts.models import Member
from forum.db import db, utcnow
from forum.models import Base
from forum.rooms import actions
from forum.rooms.models import Post, Room, Thread
from tests.conftest import Account

PARTNER_ROOM = "just-found-out"
RECOVERY_ROOM = "early-days"


@dataclass
class Made:
    thread_id: int
    post_id: int  # the opening post
    title: str
    body: str


def start_thread(app: Flask, account: Account, slug: str, title: str, body: str) -> Made:
    """A thread started through ``do_create_thread`` (screened, counted, as a member would)."""
    with app.app_context():
        member = db.session.get(Member, account.id)
        room = db.session.scalar(select(Room).where(Room.slug == slug))
        assert member is not None and room is not None
        post, _ = actions.do_create_thread(db.session, member, room, title=title, body=body)
        db.session.commit()
        return Made(post.thread_id, post.id, title, body)


def add_reply(app: Flask, account: Account, parent_id: int, body: str) -> int:
    with app.app_context():
        member = db.session.get(Member, account.id)
        parent = db.session.get(Post, parent_id)
        assert member is not None and parent is not None
        post, _ = actions.do_reply(db.session, member, parent, body=body)
        db.session.commit()
        return post.id


def snapshot(app: Flask) -> dict[str, Any]:
    """Row counts of every table, plus the rows whose change a refused request must not cause."""
    with app.app_context():
        session = db.session
        counts = {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
                  if t.name not in ("web_session",)}
        rooms = session.execute(select(Room.id, Room.thread_count, Room.last_activity_at).order_by(Room.id)).all()
        threads = session.execute(select(Thread.id, Thread.title, Thread.status, Thread.post_count, Thread.version,
                                         Thread.last_activity_at).order_by(Thread.id)).all()
        posts = session.execute(select(Post.id, Post.status, Post.body_source, Post.body_html, Post.edited_at,
                                       Post.content_warning).order_by(Post.id)).all()
        members = session.execute(select(Member.id, Member.published_posts).order_by(Member.id)).all()
        return {"counts": counts, "rooms": rooms, "threads": threads, "posts": posts, "members": members}


@contextmanager
def count_queries(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs inside the block."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    assert engine is not None
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def bulk_thread(app: Flask, author_id: int, slug: str, posts: int, *, title: str = "A long conversation",
                fanout: int = 3) -> int:
    """Insert a published thread of ``posts`` posts in a few bulk statements; returns its id.

    Reply ``i`` answers post ``(i - 1) // fanout`` (a full tree, ``fanout`` answers per
    post), except that the first nine replies form a chain, so every thread, however
    small, nests deeper than the display limit.
    """
    with app.app_context():
        session = db.session
        room = session.scalar(select(Room).where(Room.slug == slug))
        assert room is not None
        now = utcnow()
        thread = Thread(room_id=room.id, author_id=author_id, title=title, created_at=now,
                        last_activity_at=now, post_count=posts)
        session.add(thread)
        session.flush()
        start = (session.scalar(select(func.max(Post.id))) or 0) + 1
        rows: list[dict[str, Any]] = []
        keys: list[str] = []
        depths: list[int] = []
        for i in range(posts):
            pid = start + i
            if i == 0:
                parent = None
            elif i <= 9:
                parent = i - 1
            else:
                parent = (i - 10) // fanout
            key = (keys[parent] + "/" if parent is not None else "") + f"{pid:010d}"
            depth = depths[parent] + 1 if parent is not None else 0
            keys.append(key)
            depths.append(depth)
            rows.append({"id": pid, "thread_id": thread.id, "parent_id": start + parent if parent is not None else None,
                         "author_id": author_id, "depth": depth, "sort_key": key,
                         "body_source": f"Post number {i}", "body_html": f"<p>Post number {i}</p>",
                         "status": "published", "created_at": now + timedelta(seconds=i)})
        session.execute(insert(Post), rows)
        room.thread_count += 1
        room.last_activity_at = now
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT setval(pg_get_serial_sequence('post', 'id'), (SELECT MAX(id) FROM post))"))
        session.commit()
        return thread.id


@pytest.fixture
def partner_thread(app: Flask, partner: Account) -> Made:
    return start_thread(app, partner, PARTNER_ROOM, "Partners only: the night I found out",
                        "It was the worst night of my life.")


@pytest.fixture
def recovery_thread(app: Flask, recovering: Account) -> Made:
    return start_thread(app, recovering, RECOVERY_ROOM, "Recovery only: day one again",
                        "I slipped last night and I am starting over.")
