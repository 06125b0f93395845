"""A room page's thread total comes from the room's counter plus a count of the few unpublished
threads (forum.rooms.queries.visible_thread_count): it must equal an exact count of what each
reader may see, through every change a thread can go through."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from forum.accounts.models import Member
from forum.db import db
from forum.rooms import actions, queries
from forum.rooms.models import Post, Room, Thread
from tests.conftest import Account, register
from tests.rooms.conftest import PARTNER_ROOM, add_reply, start_thread


def _exact(member: Member, room: Room) -> int:
    visible = queries._visible_threads(select(Thread.id).where(Thread.room_id == room.id), member)
    return db.session.scalar(select(func.count()).select_from(visible.subquery())) or 0


def _check(app: Flask, *accounts: Account) -> list[int]:
    totals = []
    with app.app_context():
        room = db.session.scalar(select(Room).where(Room.slug == PARTNER_ROOM))
        assert room is not None
        for account in accounts:
            member = db.session.get_one(Member, account.id)
            total = queries.visible_thread_count(db.session, member, room)
            assert total == _exact(member, room), account.pseudonym
            totals.append(total)
    return totals


def test_the_room_total_matches_an_exact_count_through_every_change(
        app: Flask, partner: Account, other_partner: Account, moderator: Account) -> None:
    newcomer = register(app, "Fresh Start 18", "partner")
    leaving = register(app, "Soft Willow 16", "partner")
    with app.app_context():
        db.session.get_one(Member, newcomer.id).published_posts = 0  # their first thread waits for review
        db.session.commit()
    readers = (partner, other_partner, newcomer, moderator)
    first = start_thread(app, partner, PARTNER_ROOM, "One", "First.")
    second = start_thread(app, partner, PARTNER_ROOM, "Two", "Second.")
    start_thread(app, newcomer, PARTNER_ROOM, "Held", "Waiting.")
    start_thread(app, leaving, PARTNER_ROOM, "Gone soon", "Nobody answers this.")
    add_reply(app, other_partner, first.post_id, "An answer.")
    assert _check(app, *readers) == [3, 3, 4, 4]

    with app.app_context():
        actions.set_post_visibility(db.session, db.session.get_one(Post, second.post_id), "removed")
        db.session.commit()
    assert _check(app, *readers) == [2, 2, 3, 4]

    with app.app_context():
        actions.do_delete_post(db.session, db.session.get_one(Member, partner.id),
                               db.session.get_one(Post, first.post_id))
        db.session.commit()
    assert _check(app, *readers) == [2, 2, 3, 4]  # a deleted opening post keeps its thread

    with app.app_context():
        from forum.safety.actions import do_delete_account

        do_delete_account(db.session, db.session.get_one(Member, leaving.id), password=leaving.password,
                          keep_posts=False)
        db.session.commit()
    assert _check(app, partner, other_partner, newcomer, moderator) == [1, 1, 2, 3]

    with app.app_context():
        held = db.session.scalar(select(Post).where(Post.author_id == newcomer.id))
        assert held is not None
        actions.set_post_visibility(db.session, held, "published")
        db.session.commit()
    assert _check(app, *readers) == [2, 2, 2, 3]
