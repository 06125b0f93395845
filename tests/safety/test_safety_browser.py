"""Muting, crisis help and content warnings in Debian's Chromium: a live chat line from a muted
member arrives as a placeholder that opens with one click, muting from a live line works, crisis
language in one's own chat line shows the help lines, and warned or muted posts in a thread open
with one click even with JavaScript turned off."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from forum.accounts.models import MemberMute
from forum.db import db
from tests.browser.conftest import live_app, live_database_url, live_server  # noqa: F401 - fixtures
from tests.conftest import Account, register
from tests.safety.conftest import add_reply, browser_context, start_thread

pytestmark = pytest.mark.browser

ROOM = "just-found-out"


@pytest.fixture
def live_overrides() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True, "NEW_MEMBER_HELD_POSTS": 0}


def _log_in(browser: Any, base: str, account: Account, outside: list[str], **options: Any) -> Any:
    page = browser_context(browser, outside, **options).new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Pseudonym").fill(account.pseudonym)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/rooms$"))
    return page


def _say(page: Any, text: str) -> None:
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_label("Message", exact=True).press("Enter")


def test_muting_a_member_from_a_live_chat_line(live_app: Flask, live_server: str,  # noqa: F811
                                               in_chromium: Any, outside_requests: list[str]) -> None:
    alice = register(live_app, "Quiet Harbor 11")
    bob = register(live_app, "Gentle Cedar 12")

    def steps(browser: Any) -> None:
        a = _log_in(browser, live_server, alice, outside_requests)
        b = _log_in(browser, live_server, bob, outside_requests)
        for page in (a, b):
            page.goto(f"{live_server}/rooms/{ROOM}")
        a.locator("#chat-count").filter(has_text="2").wait_for()

        _say(b, "First words from Bob.")
        line = a.locator("#chat-log li").filter(has_text="First words from Bob.")
        line.wait_for()
        line.get_by_role("button", name="Mute Gentle Cedar 12").click()  # a plain form: the page reloads
        a.wait_for_url(f"{live_server}/rooms/{ROOM}")
        a.locator("#chat-log li.chat-muted").wait_for()  # history after the reload hides Bob's line
        assert "Gentle Cedar 12" not in a.locator("#chat-log").inner_text()
        a.locator("#chat-count").filter(has_text="2").wait_for()

        _say(b, "Second words from Bob.")
        b.locator("#chat-log li").filter(has_text="Second words from Bob.").wait_for()
        hidden = a.locator("#chat-log li.chat-muted").nth(1)
        hidden.wait_for()
        assert hidden.locator(".chat-author").inner_text() == "A member you muted"
        text = hidden.get_by_text("Second words from Bob.")
        assert not text.is_visible()
        assert "Second words" not in a.locator("#chat-announce").inner_text()  # not read aloud either
        hidden.get_by_text("Hidden because you muted this member").click()
        assert text.is_visible()

        # Bob sees his chat as before: his own names, no placeholder, no sign of the mute.
        assert b.locator("#chat-log li.chat-muted").count() == 0
        assert b.locator("#chat-log .chat-author").all_inner_texts() == ["Gentle Cedar 12"] * 2

        # Crisis language in Bob's own message: the help lines appear in his chat panel, not Alice's.
        assert not b.locator("#chat-crisis").is_visible()
        _say(b, "I want to kill myself, I can't do this any more.")
        if b.locator("#chat-nudge").is_visible():
            b.get_by_role("button", name="Send anyway").click()
        b.locator("#chat-crisis").get_by_text("Samaritans: call 116 123").wait_for()
        assert b.get_by_role("alert").filter(has_text="You don’t have to go through this alone").is_visible()
        a.locator("#chat-log li.chat-muted").nth(2).wait_for()
        assert not a.locator("#chat-crisis").is_visible()
        for page in (a, b):
            page.context.close()

    in_chromium(steps)
    assert outside_requests == []


def test_warned_and_muted_posts_open_with_one_click_without_javascript(
        live_app: Flask, live_server: str, in_chromium: Any, outside_requests: list[str]) -> None:  # noqa: F811
    reader = register(live_app, "Quiet Harbor 11")
    author = register(live_app, "Gentle Cedar 12")
    other = register(live_app, "Still Meadow 13")
    made = start_thread(live_app, author, "Tonight", "What I found on the laptop.", warning="Discovery details")
    add_reply(live_app, other, made.post_id, "A reply from someone the reader muted.")
    with live_app.app_context():
        db.session.add(MemberMute(muter_id=reader.id, muted_id=other.id))
        db.session.commit()

    def steps(browser: Any) -> None:
        page = _log_in(browser, live_server, reader, outside_requests, java_script_enabled=False)
        page.goto(f"{live_server}/threads/{made.thread_id}")
        warned = page.get_by_text("What I found on the laptop.")
        muted = page.get_by_text("A reply from someone the reader muted.")
        assert not warned.is_visible() and not muted.is_visible()
        page.get_by_text("Content warning: Discovery details").click()
        assert warned.is_visible() and not muted.is_visible()
        page.get_by_text("Hidden because you muted this member").click()
        assert muted.is_visible()
        page.context.close()

    in_chromium(steps)
    assert outside_requests == []
