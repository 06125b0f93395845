"""In Debian's Chromium: sign up through the real form, start a thread, reply, reply to the
reply, and see the answer nested inside the first reply's replies - with JavaScript (the
inline reply form, used from the keyboard) and without it (the reply page)."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.browser

PASSWORD = "willow harbour quietly 81"


def sign_up(page: Any, base: str, pseudonym: str) -> None:
    page.goto(f"{base}/signup")
    page.get_by_label("Pseudonym").fill(pseudonym)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label(re.compile("I am a partner")).check()
    page.get_by_label(re.compile("guidelines")).check()
    page.get_by_role("button", name="Join Haven").click()
    page.get_by_role("heading", name="Your recovery code").wait_for()
    code = page.locator("#recovery-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{5}(-[A-Z0-9]{5}){4}", code), code
    page.get_by_role("link", name=re.compile("I have saved it")).click()
    page.get_by_role("heading", name="Rooms", exact=True).wait_for()


def start_thread(page: Any, title: str, message: str) -> None:
    page.get_by_role("link", name="Just found out").click()
    page.get_by_role("link", name="Start a thread").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Message").fill(message)
    page.get_by_role("button", name="Post thread").click()
    page.get_by_role("heading", name=title, level=1).wait_for()


def post_id_of(page: Any, text: str) -> str:
    article = page.locator("article.post", has=page.get_by_text(text, exact=True))
    return str(article.get_attribute("id")).removeprefix("post-")


def reply_with_javascript(page: Any, post_id: str, message: str) -> None:
    """Keyboard only: focus the post's Reply link, Enter, type, Tab to the button, Enter."""
    page.locator(f"#post-{post_id} a.reply-link").focus()
    page.keyboard.press("Enter")
    form = page.locator(f"#reply-form-{post_id}")
    form.wait_for()
    assert page.evaluate("document.activeElement.tagName") == "TEXTAREA"
    assert form.get_by_label("Message").is_visible()
    page.keyboard.type(message)
    form.get_by_role("button", name="Post reply").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def reply_without_javascript(page: Any, post_id: str, message: str) -> None:
    page.locator(f"#post-{post_id} a.reply-link").click()
    page.get_by_role("heading", name=re.compile("^Reply to")).wait_for()
    page.get_by_label("Message").fill(message)
    page.get_by_role("button", name="Post reply").click()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_sign_up_start_a_thread_and_see_a_nested_answer(browser: Any, live_server: str, javascript: bool) -> None:
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        sign_up(page, live_server, "Morning Tide 48" if javascript else "Evening Tide 49")
        start_thread(page, "Learning to breathe again", "Three weeks since I found out.")
        opening = post_id_of(page, "Three weeks since I found out.")

        reply = reply_with_javascript if javascript else reply_without_javascript
        reply(page, opening, "First answer to the thread")
        page.get_by_text("First answer to the thread", exact=True).wait_for()
        first = post_id_of(page, "First answer to the thread")
        assert re.search(rf"/threads/\d+#post-{first}$", page.url), page.url

        reply(page, first, "An answer to the first answer")
        nested = page.locator(f"li.post-item:has(> #post-{first}) > ol.replies")
        nested.get_by_text("An answer to the first answer", exact=True).wait_for()
        inner = post_id_of(page, "An answer to the first answer")
        assert nested.locator(f"#post-{inner}").count() == 1
        # Shown indented under what it answers, even on a phone-sized screen.
        outer_box = page.locator(f"#post-{first}").bounding_box()
        inner_box = page.locator(f"#post-{inner}").bounding_box()
        assert inner_box["x"] > outer_box["x"] and inner_box["y"] > outer_box["y"]
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert errors == []  # CSP violations and script errors are reported as console errors
    finally:
        context.close()
