"""Chat in Chromium: two partners chat live in two browser contexts; a member of the other path
cannot reach that room's chat, by page or by socket.

Lives here (not in tests/chat/) to share this folder's one Playwright instance per session."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.chat.conftest import PARTNER_ROOM, room_id
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
