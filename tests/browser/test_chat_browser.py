"""Chat in Chromium: two partners chat live in two browser contexts; a member of the other path
cannot reach that room's chat, by page or by socket.

Lives here (not in tests/chat/) to share this folder's one Playwright instance per session."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.chat.conftest import PARTNER_ROOM, room_id, send_line
from tests.conftest import Account, register

pytestmark = pytest.mark.browser


def _log_in(browser: Any, base: str, account: Account) -> Any:
    context = browser.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Pseudonym").fill(account.pseudonym)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/rooms"))
    return page


def test_two_partners_chat_live_and_the_other_path_cannot_join(browser: Any, live_app: Flask,
                                                               live_server: str) -> None:
    alice = register(live_app, "Quiet Harbor 11", "partner")
    bob = register(live_app, "Gentle Cedar 12", "partner")
    carol = register(live_app, "Steady River 21", "recovery")
    room = room_id(live_app, PARTNER_ROOM)

    a = _log_in(browser, live_server, alice)
    b = _log_in(browser, live_server, bob)
    for page in (a, b):
        page.goto(f"{live_server}/rooms/{PARTNER_ROOM}")
    a.locator("#chat-count").filter(has_text="2").wait_for()

    # Keyboard only: type, press Enter; the message appears for both, and is announced to Bob.
    a.get_by_label("Message", exact=True).fill("Hello from Alice, anyone around tonight?")
    a.get_by_label("Message", exact=True).press("Enter")
    b.locator("#chat-log li").filter(has_text="Hello from Alice, anyone around tonight?").wait_for()
    assert "Hello from Alice" in b.locator("#chat-announce").inner_text()
    a.locator("#chat-log li").filter(has_text="Hello from Alice").wait_for()
    assert a.get_by_label("Message", exact=True).input_value() == ""

    b.get_by_label("Message", exact=True).fill("I'm here. It helps to know someone is.")
    b.get_by_role("button", name="Send").click()
    a.locator("#chat-log li").filter(has_text="I'm here. It helps to know someone is.").wait_for()
    assert a.locator("#chat-log li").count() == 2

    # A refused message is explained beside the input, and nothing is sent.
    a.evaluate("document.getElementById('chat-input').removeAttribute('maxlength')")
    a.get_by_label("Message", exact=True).fill("x" * 1001)
    a.get_by_label("Message", exact=True).press("Enter")
    assert "1,000 characters" in a.locator("#chat-error").inner_text()

    # Carol (recovery path): the page is not found, and a socket join is refused like a missing room.
    c = _log_in(browser, live_server, carol)
    response = c.goto(f"{live_server}/rooms/{PARTNER_ROOM}")
    assert response is not None and response.status == 404
    c.goto(f"{live_server}/rooms/early-days")
    c.locator("#chat-count").filter(has_text="1").wait_for()
    answers = c.evaluate("""async (ids) => {
        const socket = io();
        const ask = (id) => new Promise((done) => socket.emit("join", {room_id: id}, done));
        const out = [await ask(ids[0]), await ask(ids[1])];
        socket.emit("send", {room_id: ids[0], body: "can you hear me?"});
        return out;
    }""", [room, 987654])
    assert answers[0] == answers[1] and answers[0]["ok"] is False and answers[0]["code"] == "not_found"
    b.wait_for_timeout(300)
    assert "can you hear me" not in b.locator("#chat-log").inner_text()
    for page in (a, b, c):
        page.context.close()


def _send_in_process(app: Flask, account: Account, room: int, body: str) -> int:
    return send_line(app, account.id, room, body)


def test_a_lost_broadcast_still_arrives_and_changes_apply_live(browser: Any, live_app: Flask,
                                                               live_server: str) -> None:
    """A line whose broadcast never reached the page (a message-queue restart, say) shows up once the
    next change number reveals the gap; a moderator's removal and redaction reach the open chat."""
    from forum import events
    from forum.chat.actions import do_change_message_text, set_message_visibility
    from forum.chat.models import ChatMessage
    from forum.db import db

    alice = register(live_app, "Quiet Harbor 11", "partner")
    bob = register(live_app, "Gentle Cedar 12", "partner")
    room = room_id(live_app, PARTNER_ROOM)
    b = _log_in(browser, live_server, bob)
    b.goto(f"{live_server}/rooms/{PARTNER_ROOM}")
    b.locator("#chat-count").filter(has_text="1").wait_for()
    log = b.locator("#chat-log")

    deliver = events._deliver
    events.bind(lambda ev: None)  # this line's broadcast is lost on the way
    try:
        lost = _send_in_process(live_app, alice, room, "A line whose broadcast was lost")
    finally:
        events.bind(deliver)
    b.wait_for_timeout(300)
    assert "broadcast was lost" not in log.inner_text()
    _send_in_process(live_app, alice, room, "The next line, broadcast as usual")
    log.locator("li").filter(has_text="The next line").wait_for()
    log.locator("li").filter(has_text="A line whose broadcast was lost").wait_for()  # fetched for the gap
    texts = [t.strip() for t in log.locator("li .chat-body").all_inner_texts()]
    assert texts == ["A line whose broadcast was lost", "The next line, broadcast as usual"]

    with live_app.test_request_context(method="POST"):
        message = db.session.get_one(ChatMessage, lost)
        do_change_message_text(db.session, message, "A line with a detail [removed by a moderator]")
        db.session.commit()
    log.locator("li").filter(has_text="[removed by a moderator]").wait_for()
    with live_app.test_request_context(method="POST"):
        set_message_visibility(db.session, db.session.get_one(ChatMessage, lost), "removed")
        db.session.commit()
    log.locator("li").filter(has_text="[removed by a moderator]").wait_for(state="detached")
    assert log.locator("li").count() == 1
    b.context.close()
