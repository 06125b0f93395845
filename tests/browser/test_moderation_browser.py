"""In Debian's Chromium: a member flags a post, the moderator's open queue shows it live, the
moderator removes it, and the post is gone for the other member."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.conftest import Account, register
from tests.rooms.conftest import PARTNER_ROOM, start_thread

pytestmark = pytest.mark.browser

OFFENDING = "Honestly anyone who stays with a cheater is a doormat, no offence."


def _log_in(browser: Any, base: str, account: Account) -> Any:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Pseudonym").fill(account.pseudonym)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Rooms", exact=True).wait_for()
    return page


def test_flag_then_remove_from_the_queue(browser: Any, live_app: Flask, live_server: str) -> None:
    author = register(live_app, "Open Window 71", "partner")
    reader = register(live_app, "Still Water 72", "partner")
    moderator = register(live_app, "Night Owl 73", "recovery", role="moderator")
    made = start_thread(live_app, author, PARTNER_ROOM, "How do I stop checking his phone?",
                        "Every night I end up checking. I hate it.")
    # The judgment nudge would stop this at the form; stored directly as if posted anyway.
    with live_app.app_context():
        from forum.accounts.models import Member
        from forum.db import db
        from forum.rooms import actions
        from forum.rooms.models import Post

        member = db.session.get(Member, author.id)
        parent = db.session.get(Post, made.post_id)
        assert member is not None and parent is not None
        post, _ = actions.do_reply(db.session, member, parent, body=OFFENDING, confirmed=True)
        db.session.commit()
        offending_id = post.id

    mod_page = _log_in(browser, live_server, moderator)
    mod_page.goto(f"{live_server}/moderation")
    mod_page.get_by_role("heading", name="Moderation queue").wait_for()
    # Screening already queued the post (posted anyway after the judgment nudge); the
    # flag reason appears only once the member has flagged it.
    assert "Flagged: Judgmental or shaming" not in mod_page.content()

    reader_page = _log_in(browser, live_server, reader)
    reader_page.goto(f"{live_server}/threads/{made.thread_id}")
    reader_page.get_by_text(OFFENDING).wait_for()
    reader_page.locator(f"#post-{offending_id} a.flag-link").click()
    reader_page.get_by_role("heading", name="Ask a moderator to take a look").wait_for()
    reader_page.get_by_label("Judgmental or shaming").check()
    reader_page.get_by_role("button", name="Send to the moderators").click()
    reader_page.get_by_text(re.compile("Thank you for letting us know")).wait_for()

    # The moderator's open queue updates by itself (Socket.IO), no reload.
    mod_page.get_by_text("Flagged: Judgmental or shaming (1)").wait_for()
    item = mod_page.locator("article.queue-item", has=mod_page.get_by_text(OFFENDING))
    item.get_by_text("Remove…").click()
    item.get_by_label(re.compile(r"^Reason \(the author")).select_option("judgment")
    item.get_by_role("button", name=re.compile("^Remove")).click()
    mod_page.get_by_text(re.compile("Removed. The author was told privately why.")).wait_for()
    assert OFFENDING not in mod_page.content()

    reader_page.goto(f"{live_server}/threads/{made.thread_id}")
    reader_page.locator(f"#post-{offending_id}").get_by_text("This post was removed by a moderator.").wait_for()
    assert OFFENDING not in reader_page.content()

    author_page = _log_in(browser, live_server, author)
    author_page.get_by_role("link", name=re.compile(r"Notices \(1\)")).click()
    author_page.get_by_text(re.compile("could come across as judging another member")).wait_for()
    for page in (mod_page, reader_page, author_page):
        page.context.close()
