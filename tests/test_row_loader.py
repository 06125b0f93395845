"""forum.db.RowLoader: a row read by a Core statement becomes the ORM object a query would give."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from forum.accounts.models import Member
from forum.db import RowLoader, db
from tests.conftest import Account


def test_a_loaded_row_is_the_sessions_object_unmodified_and_writable(app: Flask, partner: Account) -> None:
    members = RowLoader(Member, tuple(Member.__table__.c))
    with app.app_context():
        session = db.session
        row = session.connection().execute(select(*members.columns).where(Member.id == partner.id)).one()
        member = members.attach(session, row)
        assert member.pseudonym == partner.pseudonym and member in session
        assert not session.dirty and not session.new
        assert members.attach(session, row) is member  # the object the session holds already
        assert session.get(Member, partner.id) is member  # and the one a query gives
        member.published_posts = 41
        session.commit()
    with app.app_context():
        assert db.session.get_one(Member, partner.id).published_posts == 41
