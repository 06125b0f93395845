"""Counters kept on rows (posts in a thread, threads in a room, a member's published posts) stay right
when two writers work at once: each change is an increment in SQL, never a value computed from a
copy read earlier (found by tests/load: a thread of 10 posts said 9)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from forum.accounts.models import Member
from forum.db import db
from forum.rooms import actions
from forum.rooms.models import Post, Room, Thread
from tests.conftest import Account
from tests.rooms.conftest import PARTNER_ROOM, Made


def test_two_replies_written_at_once_both_count(app: Flask, partner: Account, other_partner: Account,
                                                partner_thread: Made) -> None:
    with app.app_context():
        first, second = db.new_session(), db.new_session()
        try:
            # Both writers have read the thread, its room and their member before either writes.
            parents = [s.get_one(Post, partner_thread.post_id) for s in (first, second)]
            for s in (first, second):
                s.get_one(Thread, partner_thread.thread_id)
            authors = [first.get_one(Member, partner.id), second.get_one(Member, other_partner.id)]
            actions.do_reply(first, authors[0], parents[0], body="I hear you.")
            first.commit()
            actions.do_reply(second, authors[1], parents[1], body="Me too, you are not alone.")
            second.commit()
        finally:
            first.close()
            second.close()
        thread = db.session.get_one(Thread, partner_thread.thread_id)
        stored = db.session.scalar(select(func.count(Post.id)).where(Post.thread_id == thread.id))
        assert thread.post_count == stored == 3


def test_two_threads_started_at_once_both_count(app: Flask, partner: Account, other_partner: Account) -> None:
    with app.app_context():
        before = db.session.scalar(select(Room.thread_count).where(Room.slug == PARTNER_ROOM))
        first, second = db.new_session(), db.new_session()
        try:
            rooms = [s.scalars(select(Room).where(Room.slug == PARTNER_ROOM)).one() for s in (first, second)]
            authors = [first.get_one(Member, partner.id), second.get_one(Member, other_partner.id)]
            actions.do_create_thread(first, authors[0], rooms[0], title="First", body="One of two at once.")
            first.commit()
            actions.do_create_thread(second, authors[1], rooms[1], title="Second", body="The other one.")
            second.commit()
        finally:
            first.close()
            second.close()
        after = db.session.scalar(select(Room.thread_count).where(Room.slug == PARTNER_ROOM))
        assert after == before + 2
