"""In Debian's Chromium: the pseudonym suggestion with JavaScript, cookie flags, and no CSP violations."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_suggest_fills_the_field_in_place_and_sign_up_works(page: Any, live_server: str) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(live_server + "/")
    page.get_by_role("link", name="Join Haven").first.click()
    assert page.url == live_server + "/signup"
    page.get_by_role("link", name="Suggest a pseudonym").click()
    # (expect() polls from outside the page: Haven's CSP rightly forbids wait_for_function's eval.)
    expect(page.get_by_label("Pseudonym")).to_have_value(re.compile(r"^[A-Z][a-z]+ [A-Z][a-z]+ \d{2}$"))
    assert page.url == live_server + "/signup"  # filled in place by the script, not the fallback link
    page.get_by_label("Password", exact=True).fill("slow tide over stones")
    page.get_by_label(re.compile("partner")).check()
    page.get_by_label(re.compile("guidelines")).check()
    page.get_by_role("button", name="Join Haven").click()
    code = page.locator("#recovery-code").inner_text()
    assert re.fullmatch(r"([A-Z2-9]{5}-){4}[A-Z2-9]{5}", code)
    page.get_by_role("link", name=re.compile("continue")).click()
    assert page.url.endswith("/rooms")
    cookies = page.context.cookies()
    assert [c["name"] for c in cookies] == ["haven_session"]
    assert cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""  # invisible to scripts
    page.get_by_role("button", name="Log out").click()
    assert page.url == live_server + "/"
    assert page.context.cookies() == []
    assert problems == []  # no CSP violation or script error on any page
