"""Browser-test fixtures: Haven served for real on loopback, and Debian's Chromium through Playwright.

``live_server`` yields the base URL (``http://127.0.0.1:<port>``) of a fresh app on its own
SQLite file, served by werkzeug's threaded server in a background thread; the app object
(Flask-SocketIO attached, so Socket.IO over polling and WebSocket works too) is
``live_app``. Override ``live_overrides`` in a test module to change its configuration.
``browser`` is one Chromium per test session; ``page`` a fresh context (no cookies) per test.
Both skip, or fail under HAVEN_REQUIRE_SERVICES=1, when Chromium is missing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from forum.db import db
from tests import services
from tests.conftest import make_app

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def live_database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'live.db'}"


@pytest.fixture
def live_overrides() -> dict[str, Any]:
    """Configuration for the served app: real CSRF checks, and new members' posts published
    at once (the first-posts review is tested without a browser)."""
    return {"WTF_CSRF_ENABLED": True, "NEW_MEMBER_HELD_POSTS": 0}


@pytest.fixture
def live_app(live_database_url: str, live_overrides: dict[str, Any]) -> Iterator[Flask]:
    app = make_app(live_database_url, **live_overrides)
    yield app
    with app.app_context():
        if db.engine is not None:
            db.engine.dispose()


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="haven-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    services.need("Chromium", services.chromium_available())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=services.CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
