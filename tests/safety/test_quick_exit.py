"""The quick exit's background log-out, without a browser: what the beacon sends (a multipart
form with the page's CSRF token) ends the session and closes sockets; without the token it
does nothing. Every page carries the button, the neutral address and the script in <head>."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forum.db import db
from forum.extensions import socketio
from tests.conftest import Account, login, make_app, register

NEUTRAL = "http://127.0.0.1:9/neutral"


@pytest.fixture
def csrf_app(database_url: str) -> Iterator[Flask]:
    app = make_app(database_url, WTF_CSRF_ENABLED=True, QUICK_EXIT_URL=NEUTRAL)
    yield app
    with app.app_context():
        assert db.engine is not None
        db.engine.dispose()


def _logged_in(app: Flask) -> tuple[FlaskClient, Account, str]:
    account = register(app, "Quiet Harbor 11")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post("/login", data={"pseudonym": account.pseudonym, "password": account.password,
                                           "csrf_token": token.group(1)})
    assert response.status_code == 302
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get("/rooms").get_data(as_text=True))
    assert meta
    return client, account, meta.group(1)


def _beacon(client: FlaskClient, path: str, token: str | None) -> int:
    """What navigator.sendBeacon(path, FormData) sends: a multipart POST."""
    data = {"csrf_token": token} if token else {"other": "x"}
    data["pad"] = (BytesIO(b""), "")  # type: ignore[assignment]  # forces multipart/form-data
    return client.post(path, data=data, content_type="multipart/form-data").status_code


@pytest.mark.parametrize("path", ["/quick-exit", "/logout"])
def test_beacon_with_the_pages_token_logs_out(csrf_app: Flask, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client, account, token = _logged_in(csrf_app)
    closed: list[str] = []
    monkeypatch.setattr(socketio.server, "disconnect", lambda sid, namespace=None: closed.append(sid))
    from forum.chat.models import LiveSocket

    with csrf_app.app_context():
        db.session.add(LiveSocket(sid="sock-1", member_id=account.id))
        db.session.commit()
    assert _beacon(client, path, None) == 400  # no token: refused
    assert client.get("/rooms").status_code == 200
    assert _beacon(client, path, token) in (204, 302)
    assert client.get("/rooms").headers["Location"].startswith("/login")
    assert closed == ["sock-1"]


def test_quick_exit_answer_clears_cookies_and_cache_but_not_the_tab_mark(csrf_app: Flask) -> None:
    client, _account, token = _logged_in(csrf_app)
    response = client.post("/quick-exit", data={"csrf_token": token})
    assert response.status_code == 204
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies"'
    assert "haven_session=;" in response.headers.get("Set-Cookie", "")


def test_every_page_has_the_button_and_the_script_in_head(csrf_app: Flask) -> None:
    client, _account, _token = _logged_in(csrf_app)
    visitor = csrf_app.test_client()
    for who, path in ((visitor, "/"), (visitor, "/login"), (visitor, "/crisis"), (client, "/rooms"),
                      (client, "/account"), (client, "/no-such-page")):
        html = who.get(path).get_data(as_text=True)
        head = html.split("</head>")[0]
        assert '<script src="/static/js/quick-exit.js"></script>' in head, path  # not deferred
        assert f'<meta name="quick-exit" content="{NEUTRAL}">' in head
        # Without JavaScript the button is still a plain link to the neutral site.
        assert re.search(rf'<a id="quick-exit" class="quick-exit" href="{re.escape(NEUTRAL)}"[^>]*>Quick exit', html)


def test_script_uses_replace_and_no_inline_code(client: FlaskClient, partner: Account, app: Flask) -> None:
    js = client.get("/static/js/quick-exit.js").get_data(as_text=True)
    assert "location.replace" in js and "sendBeacon" in js
    html = login(app.test_client(), partner).get("/rooms").get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html and "onclick" not in html


def test_quick_exit_closes_an_open_socket_for_real(app: Flask, partner: Account) -> None:
    http = login(app.test_client(), partner)
    sock = socketio.test_client(app, flask_test_client=http)
    assert sock.is_connected()
    assert http.post("/quick-exit").status_code == 204
    assert not sock.is_connected()


def test_the_bare_error_page_has_the_quick_exit_too(csrf_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """When even the error template can't render (the database is down), the page still leaves fast."""
    from forum.main import errors

    def broken(*_args: object, **_kwargs: object) -> str:
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(errors, "render_template", broken)
    response = csrf_app.test_client().get("/no-such-page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "<title>Haven</title>" in html
    head = html.split("</head>")[0]
    assert '<script src="/static/js/quick-exit.js"></script>' in head
    assert f'<meta name="quick-exit" content="{NEUTRAL}">' in head and 'href="/static/favicon.svg"' in head
    assert re.search(rf'<a id="quick-exit" class="quick-exit" href="{re.escape(NEUTRAL)}"[^>]*>Quick exit', html)
