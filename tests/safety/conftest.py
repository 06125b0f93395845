"""Helpers for safety tests: content built through the real actions, a scan of every text
column of every table, a TOTP code generator, and Chromium driven from a thread of its own.

Browser tests here run Chromium in a thread per test: Playwright's sync API refuses to
start while another instance (the session-wide one of tests/browser) runs in the main
thread. Every request that is not to 127.0.0.1 is aborted and recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import JSON, String, Text, select

from forum.accounts.models import Member
from forum.db import db
from forum.models import Base
from forum.rooms import actions
from forum.rooms.models import Post, Room
from tests import services
from tests.browser.conftest import CHROMIUM_ARGS
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


@pytest.fixture
def outside_requests() -> list[str]:
    return []


@pytest.fixture
def in_chromium() -> Callable[[Callable[[Any], None]], None]:
    """Run ``steps(browser)`` against a fresh Chromium in a thread of its own; re-raise its failure."""
    services.need("Chromium", services.chromium_available())

    def run(steps: Callable[[Any], None]) -> None:
        outcome: dict[str, BaseException] = {}

        def target() -> None:
            from playwright.sync_api import sync_playwright

            try:
                with sync_playwright() as playwright:
                    chromium = playwright.chromium.launch(executable_path=services.CHROMIUM, args=CHROMIUM_ARGS)
                    try:
                        steps(chromium)
                    finally:
                        chromium.close()
            except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
                outcome["error"] = exc

        thread = threading.Thread(target=target, name="safety-chromium")
        thread.start()
        thread.join(180)
        assert not thread.is_alive(), "Chromium did not finish"
        if "error" in outcome:
            raise outcome["error"]

    return run


def browser_context(browser: Any, outside: list[str], **options: Any) -> Any:
    """A fresh context whose requests outside loopback are aborted and listed in ``outside``."""
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", guard)
    return context
