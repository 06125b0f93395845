"""Quick exit in Debian's Chromium: the button (and, separately, Escape pressed three times)
replaces Haven with the neutral page, Back does not bring Haven back, and the session is gone
on the server. Also before the page has finished loading, and on a phone-sized touch screen.

The neutral page is a tiny page on a second loopback server; every request that is not to
127.0.0.1 is aborted and recorded, so no traffic leaves the machine.

The live server comes from tests/browser/conftest.py. Chromium is driven from a thread of its
own per test: Playwright's sync API refuses to start while another instance (the session-wide
one of tests/browser) is running in the main thread.
"""

from __future__ import annotations

import http.server
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from forum.accounts.models import WebSession
from forum.db import db
from tests.browser.conftest import CHROMIUM_ARGS, live_app, live_database_url, live_server  # noqa: F401 - fixtures
from tests.conftest import Account, register
from tests.safety.conftest import browser_context as _context
from tests.safety.conftest import start_thread

pytestmark = pytest.mark.browser

NEUTRAL_HTML = b"<!doctype html><html><head><title>Weather</title></head><body><h1>Sunny spells</h1></body></html>"


class _Neutral(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(NEUTRAL_HTML)))
        self.end_headers()
        self.wfile.write(NEUTRAL_HTML)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def neutral_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Neutral)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/weather"
    server.shutdown()
    server.server_close()


@pytest.fixture
def live_overrides(neutral_url: str) -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True, "NEW_MEMBER_HELD_POSTS": 0, "QUICK_EXIT_URL": neutral_url}


def _member_sessions(app: Flask, account: Account) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(WebSession)
                                     .where(WebSession.member_id == account.id)) or 0)


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _status_with_cookie(url: str, cookie: str) -> tuple[int, str]:
    """A plain request carrying the old session cookie; redirects are not followed."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310 - loopback only
    try:
        with opener.open(request) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "")


def _log_in_and_open_thread(page: Any, base: str, account: Account, thread_id: int) -> str:
    page.goto(f"{base}/login")
    page.get_by_label("Pseudonym").fill(account.pseudonym)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/rooms")
    page.goto(f"{base}/rooms/just-found-out")
    page.goto(f"{base}/threads/{thread_id}")
    cookies = page.context.cookies()
    session = next(c for c in cookies if c["name"] == "haven_session")
    return f"haven_session={session['value']}"


def _check_left(page: Any, app: Flask, base: str, neutral: str, account: Account, cookie: str,
                outside: list[str]) -> None:
    page.wait_for_url(neutral)
    assert page.title() == "Weather"
    _wait_for(lambda: _member_sessions(app, account) == 0, "the background log-out")
    status, location = _status_with_cookie(f"{base}/rooms", cookie)
    assert status == 302 and location.startswith("/login"), (status, location)

    page.go_back()
    page.wait_for_url(neutral)  # Back reached a Haven page, which left again at once
    assert page.title() == "Weather"
    time.sleep(0.3)  # nothing navigates back to Haven a moment later
    assert page.url == neutral
    page.go_back()
    page.wait_for_url(neutral)
    assert outside == []


def _thread(app: Flask) -> tuple[Account, int]:
    account = register(app, "Quiet Harbor 11")
    made = start_thread(app, account, "Found his second phone", "I can't stop shaking.")
    return account, made.thread_id


def test_quick_exit_button(live_app: Flask, live_server: str, neutral_url: str,  # noqa: F811
                           in_chromium: Any, outside_requests: list[str]) -> None:
    account, thread_id = _thread(live_app)

    def steps(browser: Any) -> None:
        context = _context(browser, outside_requests)
        page = context.new_page()
        cookie = _log_in_and_open_thread(page, live_server, account, thread_id)
        page.get_by_role("link", name="Quick exit").click()
        _check_left(page, live_app, live_server, neutral_url, account, cookie, outside_requests)
        context.close()

    in_chromium(steps)


def test_escape_three_times(live_app: Flask, live_server: str, neutral_url: str,  # noqa: F811
                            in_chromium: Any, outside_requests: list[str]) -> None:
    account, thread_id = _thread(live_app)

    def steps(browser: Any) -> None:
        context = _context(browser, outside_requests)
        page = context.new_page()
        cookie = _log_in_and_open_thread(page, live_server, account, thread_id)
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
        assert page.url.endswith(f"/threads/{thread_id}")  # two presses are not enough
        page.keyboard.press("Escape")
        _check_left(page, live_app, live_server, neutral_url, account, cookie, outside_requests)
        context.close()

    in_chromium(steps)


def test_works_before_the_page_has_finished_loading(live_app: Flask, live_server: str, neutral_url: str,  # noqa: F811
                                                    in_chromium: Any, outside_requests: list[str]) -> None:
    account, thread_id = _thread(live_app)
    release = threading.Event()
    inner = live_app.wsgi_app

    def stall_scripts(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/static/js/haven.js":
            release.wait(20)  # the page's main script hangs: the page never finishes loading
        return inner(environ, start_response)

    def steps(browser: Any) -> None:
        context = _context(browser, outside_requests)
        page = context.new_page()
        cookie = _log_in_and_open_thread(page, live_server, account, thread_id)
        live_app.wsgi_app = stall_scripts  # type: ignore[method-assign]
        page.goto(f"{live_server}/threads/{thread_id}", wait_until="commit")
        page.locator("#quick-exit").wait_for()
        assert page.evaluate("document.readyState") != "complete"
        for _ in range(3):
            page.keyboard.press("Escape")
        page.wait_for_url(neutral_url)
        _wait_for(lambda: _member_sessions(live_app, account) == 0, "the background log-out")
        assert _status_with_cookie(f"{live_server}/rooms", cookie)[0] == 302
        release.set()
        context.close()

    try:
        in_chromium(steps)
    finally:
        release.set()
        live_app.wsgi_app = inner  # type: ignore[method-assign]
    assert outside_requests == []


def test_on_a_phone(live_app: Flask, live_server: str, neutral_url: str,  # noqa: F811
                    in_chromium: Any, outside_requests: list[str]) -> None:
    account, thread_id = _thread(live_app)

    def steps(browser: Any) -> None:
        context = _context(browser, outside_requests, viewport={"width": 390, "height": 844}, is_mobile=True,
                           has_touch=True, device_scale_factor=3)
        page = context.new_page()
        cookie = _log_in_and_open_thread(page, live_server, account, thread_id)
        page.mouse.wheel(0, 2000)  # scrolled down a long thread: the button stays on screen
        button = page.get_by_role("link", name="Quick exit")
        box = button.bounding_box()
        assert box is not None and box["height"] >= 44 and 0 <= box["y"] < 844
        button.tap()
        _check_left(page, live_app, live_server, neutral_url, account, cookie, outside_requests)
        context.close()

    in_chromium(steps)


def test_coming_back_on_purpose_still_works(live_app: Flask, live_server: str, neutral_url: str,  # noqa: F811
                                            in_chromium: Any, outside_requests: list[str]) -> None:
    """After a quick exit, typing Haven's address again opens Haven (only Back/Forward bounce)."""
    account, thread_id = _thread(live_app)

    def steps(browser: Any) -> None:
        context = _context(browser, outside_requests)
        page = context.new_page()
        _log_in_and_open_thread(page, live_server, account, thread_id)
        page.get_by_role("link", name="Quick exit").click()
        page.wait_for_url(neutral_url)
        page.goto(f"{live_server}/login")
        page.get_by_role("button", name="Log in").wait_for()
        time.sleep(0.3)
        assert page.url == f"{live_server}/login"
        context.close()

    in_chromium(steps)
