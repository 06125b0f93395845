"""In Debian's Chromium: the pseudonym suggestion with JavaScript, cookie flags, and no CSP violations."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests import services

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    services.need("Chromium", services.chromium_available())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=services.CHROMIUM, args=[
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_suggest_fills_the_field_in_place_and_sign_up_works(browser, live_url: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        page.goto(live_url + "/")
        page.get_by_role("link", name="Join Haven").first.click()
        assert page.url == live_url + "/signup"
        page.get_by_role("link", name="Suggest a pseudonym").click()
        field = page.get_by_label("Pseudonym")
        # (expect() polls from outside the page: Haven's CSP rightly forbids wait_for_function's eval.)
        expect(field).to_have_value(re.compile(r"^[A-Z][a-z]+ [A-Z][a-z]+ \d{2}$"))
        assert page.url == live_url + "/signup"  # filled in place: the script, not the fallback link
        page.get_by_label("Password", exact=True).fill("slow tide over stones")
        page.get_by_label(re.compile("partner")).check()
        page.get_by_label(re.compile("guidelines")).check()
        page.get_by_role("button", name="Join Haven").click()
        code = page.locator("#recovery-code").inner_text()
        assert re.fullmatch(r"([A-Z2-9]{5}-){4}[A-Z2-9]{5}", code)
        page.get_by_role("link", name=re.compile("continue")).click()
        assert page.url.endswith("/rooms")
        cookies = context.cookies()
        assert [c["name"] for c in cookies] == ["haven_session"]
        assert cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Lax"
        assert page.evaluate("document.cookie") == ""  # invisible to scripts
        page.get_by_role("button", name="Log out").click()
        assert page.url == live_url + "/"
        assert context.cookies() == []
    finally:
        context.close()
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert problems == []
