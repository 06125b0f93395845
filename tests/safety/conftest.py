"""Helpers for safety tests: content built through the real actions, a scan of every text
column of every table, and a TOTP code generator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyotp
from flask import Flask
from sqlalchemy import JSON, String, Text, select

from forum.accounts.models import Member
from forum.db import db
from forum.models import Base
from forum.rooms import actions
from forum.rooms.models import Post, Room
from tests.conftest import Account

ROOM_FOR_PATH = {"partner": "just-found-out", "recovery": "early-days"}


@dataclass
class Made:
    thread_id: int
    post_id: int


def start_thread(app: Flask, account: Account, title: str, body: str, warning: str | None = None,
                 slug: str | None = None) -> Made:
    with app.app_context():
        member = db.session.get_one(Member, account.id)
        room = db.session.scalar(select(Room).where(Room.slug == (slug or ROOM_FOR_PATH[account.path])))
        assert room is not None
        post, _ = actions.do_create_thread(db.session, member, room, title=title, body=body,
                                           content_warning=warning)
        db.session.commit()
        return Made(post.thread_id, post.id)


def add_reply(app: Flask, account: Account, parent_id: int, body: str, warning: str | None = None) -> int:
    with app.app_context():
        member = db.session.get_one(Member, account.id)
        parent = db.session.get_one(Post, parent_id)
        post, _ = actions.do_reply(db.session, member, parent, body=body, content_warning=warning)
        db.session.commit()
        return post.id


def rows_containing(app: Flask, needle: str) -> list[tuple[str, str, Any]]:
    """Every (table, column, value) whose string or JSON column contains ``needle`` (case-insensitive),
    over every table the models define."""
    found = []
    needle = needle.casefold()
    with app.app_context():
        with db.engine.connect() as conn:  # type: ignore[union-attr]
            for table in Base.metadata.sorted_tables:
                columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
                if not columns:
                    continue
                for row in conn.execute(select(*columns)):
                    for column, value in zip(columns, row, strict=True):
                        if value is not None and needle in str(value).casefold():
                            found.append((table.name, column.name, value))
    return found


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()
