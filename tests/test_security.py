"""Security headers on every kind of response, no inline code anywhere, CSRF on every POST
route, and the wall that keeps visitors to the public pages.

Routes are enumerated from ``app.url_map``, so a route added later is covered without
touching this file.
"""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import IntegerConverter, Rule
from werkzeug.test import TestResponse

from forum.db import db
from forum.main.errors import CSRF_MESSAGE
from forum.rooms.models import Room
from tests.accounts.pages import form_posting_to, inline_code, internal_links, text_of
from tests.conftest import Account

TEMPLATES = Path(__file__).resolve().parent.parent / "forum" / "templates"
# What a visitor who is not logged in may see; everything else redirects to log-in or answers 404.
PUBLIC_ENDPOINTS = {
    "main.index", "main.guidelines", "main.safe_browsing", "main.crisis", "main.healthz",
    "accounts.signup", "accounts.suggest", "accounts.login", "accounts.recover", "static",
}


def csp_directives(response: TestResponse) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_security_headers(response: TestResponse, *, cacheable: bool = False) -> None:
    csp = csp_directives(response)
    assert csp.get("script-src") == ["'self'"], csp
    assert csp.get("style-src") == ["'self'"]
    assert csp.get("object-src") == ["'none'"]
    assert csp.get("frame-ancestors") == ["'none'"]
    assert csp.get("img-src") == ["'self'"]
    assert csp.get("default-src") == ["'self'"]
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "*" not in policy
    assert response.headers.get("Referrer-Policy") == "no-referrer"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert "noindex" in response.headers.get("X-Robots-Tag", "")
    if not cacheable:
        assert "no-store" in response.headers.get("Cache-Control", ""), response.headers.get("Cache-Control")


def assert_clean_page(response: TestResponse, path: str) -> None:
    """Headers as above, and (for HTML) no inline script, style or event handler."""
    assert_security_headers(response, cacheable=path.startswith("/static/"))
    if response.mimetype == "text/html":
        html = response.get_data(as_text=True)
        assert inline_code(html) == [], (path, inline_code(html))
        assert "Traceback" not in html


def sample_url(app: Flask, rule: Rule) -> str:
    """A URL for ``rule`` with real-looking arguments (a room's slug, id 1)."""
    with app.app_context():
        slug = db.session.scalar(select(Room.slug).order_by(Room.id)) or "x"
    values: dict[str, Any] = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        values[name] = 1 if isinstance(converter, IntegerConverter) else (slug if name == "slug" else "haven.css")
    with app.test_request_context():
        return app.url_for(rule.endpoint, **values)


# --- headers on every kind of page ---------------------------------------------------------

def test_headers_on_visitor_pages_redirects_and_json(client: FlaskClient) -> None:
    for path in ("/", "/guidelines", "/safe-browsing", "/crisis", "/signup", "/signup?suggest=1", "/login",
                 "/recover", "/signup/suggest", "/healthz"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_clean_page(response, path)
    redirect = client.get("/rooms")
    assert redirect.status_code == 302
    assert_security_headers(redirect)


def test_headers_on_static_files(client: FlaskClient) -> None:
    response = client.get("/static/css/haven.css")
    assert response.status_code == 200
    assert_security_headers(response, cacheable=True)


def test_logged_in_pages_are_never_stored(partner_client: FlaskClient) -> None:
    for path in ("/rooms", "/account"):
        response = partner_client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert_clean_page(response, path)


def test_headers_on_404_for_visitors_members_and_other_audiences(app: Flask, client: FlaskClient,
                                                                 partner_client: FlaskClient) -> None:
    with app.app_context():
        recovery_room = db.session.scalar(select(Room.slug).where(Room.audience == "recovery"))
    for response in (client.get("/no-such-page"), partner_client.get("/no-such-page"),
                     partner_client.get(f"/rooms/{recovery_room}"), partner_client.get("/threads/999999")):
        assert response.status_code == 404
        assert_clean_page(response, "/404")
        assert "couldn" in text_of(response.get_data(as_text=True))


def test_headers_on_405(client: FlaskClient) -> None:
    response = client.get("/logout")
    assert response.status_code == 405
    assert_clean_page(response, "/logout")


def test_headers_on_413(client: FlaskClient) -> None:
    response = client.post("/login", data={"pseudonym": "x", "password": "y" * (300 * 1024)})
    assert response.status_code == 413
    assert_clean_page(response, "/login")
    assert "too large" in text_of(response.get_data(as_text=True))


def test_headers_on_400_csrf(app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/login", data={"pseudonym": "x", "password": "y"})
    assert response.status_code == 400
    assert_clean_page(response, "/login")
    assert CSRF_MESSAGE in text_of(response.get_data(as_text=True))


def test_headers_on_429(app: Flask, client: FlaskClient) -> None:
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    for _ in range(limit):
        client.post("/login", data={"pseudonym": "x", "password": "y"})
    response = client.post("/login", data={"pseudonym": "x", "password": "y"})
    assert response.status_code == 429
    assert_clean_page(response, "/login")


def test_headers_on_500_without_leaking_the_error(app: Flask, client: FlaskClient) -> None:
    def explode() -> str:
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/test-explode", "test_explode", explode)
    response = client.get("/test-explode")
    assert response.status_code == 500
    assert_clean_page(response, "/test-explode")
    html = response.get_data(as_text=True)
    assert "secret internal detail" not in html and "RuntimeError" not in html
    assert "Something went wrong on our side" in text_of(html)


def test_headers_on_the_socket_io_transport(client: FlaskClient, partner_client: FlaskClient) -> None:
    """python-engineio answers /socket.io/ itself, outside Flask: its answers carry the headers too."""
    for who in (client, partner_client):
        handshake = who.get("/socket.io/?EIO=4&transport=polling")
        assert handshake.status_code == 200 and b'"sid"' in handshake.data
        assert_security_headers(handshake)
        refused = who.get("/socket.io/?EIO=4&transport=carrier-pigeon")
        assert refused.status_code == 400
        assert_security_headers(refused)
    # The transport's own guard (forum/transport.py) answers inside this wrapper too.
    too_big = client.post("/socket.io/?EIO=4&transport=polling&sid=x",
                          data=b"x" * (client.application.config["SOCKETIO_MAX_FRAME_BYTES"] + 1))
    assert too_big.status_code == 413
    assert_security_headers(too_big)
    # Flask's own responses are not given the headers twice.
    page = client.get("/guidelines")
    assert len(page.headers.getlist("Content-Security-Policy")) == 1
    assert page.headers.getlist("Cache-Control") == ["no-store"]


def test_headers_on_logout(partner_client: FlaskClient) -> None:
    response = partner_client.post("/logout")
    assert response.status_code == 302
    assert_security_headers(response)
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'


# --- no inline code, on every page a visitor or member can reach ------------------------------

def crawl(client: FlaskClient, start: list[str], limit: int = 80) -> set[str]:
    """Fetch every internal page reachable from ``start`` and check each; returns the paths seen."""
    seen: set[str] = set()
    queue = deque(start)
    while queue and len(seen) < limit:
        path = queue.popleft()
        if path in seen or path.startswith("/static/"):
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code in (200, 302, 404), (path, response.status_code)
        assert_clean_page(response, path)
        if response.mimetype == "text/html":
            queue.extend(internal_links(response.get_data(as_text=True), "http://localhost" + path))
    return seen


def _write_something(app: Flask, client: FlaskClient, audience: str) -> None:
    """A thread with a reply, through the ordinary forms, so thread pages are crawled too."""
    with app.app_context():
        slug = db.session.scalar(select(Room.slug).where(Room.audience == audience).order_by(Room.id))
    html = client.get(f"/rooms/{slug}/new").get_data(as_text=True)
    form = form_posting_to(html, f"/rooms/{slug}/threads")
    response = client.post(form.action, data=form.data(title="A first evening here",
                                                       body="Thank you all for *being* here.\n\n- one\n- two"))
    assert response.status_code == 302, text_of(response.get_data(as_text=True))[:300]
    thread = client.get(response.headers["Location"]).get_data(as_text=True)
    reply_links = [link for link in internal_links(thread, "http://localhost/") if link.endswith("/reply")]
    assert reply_links
    form = form_posting_to(client.get(reply_links[0]).get_data(as_text=True),
                           reply_links[0].removesuffix("/reply") + "/replies")
    assert client.post(form.action, data=form.data(body="I hear you.")).status_code in (200, 302)


def test_no_inline_code_on_any_visitor_page(client: FlaskClient) -> None:
    seen = crawl(client, ["/", "/signup?suggest=1", "/no-such-page"])
    assert {"/", "/guidelines", "/signup", "/login", "/recover", "/crisis", "/safe-browsing"} <= seen


def test_no_inline_code_on_any_member_page(app: Flask, partner_client: FlaskClient,
                                           moderator_client: FlaskClient) -> None:
    _write_something(app, partner_client, "partner")
    seen = crawl(partner_client, ["/rooms", "/account"])
    assert any(p.startswith("/threads/") for p in seen) and any(p.startswith("/rooms/") for p in seen)
    crawl(moderator_client, ["/rooms", "/account", "/moderation"], limit=60)


def test_no_template_contains_inline_code() -> None:
    """Pages the crawl can't reach are covered by reading every template."""
    problems = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        source = template.read_text()
        for pattern, what in ((r"<script(?![^>]*\bsrc=)[^>]*>", "inline <script>"),
                              (r"<script[^>]*\bsrc=[^>]*>\s*[^<\s]", "<script src> with a body"),
                              (r"<style\b", "<style> element"), (r"\sstyle\s*=", "style= attribute"),
                              (r"\son[a-z]+\s*=", "event handler attribute"), (r"javascript:", "javascript: URL")):
            if re.search(pattern, source, flags=re.IGNORECASE):
                problems.append(f"{template.relative_to(TEMPLATES)}: {what}")
    assert problems == []


# --- CSRF on every state-changing route -----------------------------------------------------

def post_rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if "POST" in (r.methods or set())]


def test_every_post_route_refuses_without_a_csrf_token(app: Flask, partner_client: FlaskClient) -> None:
    rules = post_rules(app)
    assert {"accounts.login", "accounts.logout", "accounts.signup", "accounts.recover",
            "accounts.change_password"} <= {r.endpoint for r in rules}
    app.config["WTF_CSRF_ENABLED"] = True
    for rule in rules:
        url = sample_url(app, rule)
        for data in ({"body": "hello", "pseudonym": "x"}, {"csrf_token": "forged-token", "body": "hello"}):
            response = partner_client.post(url, data=data)
            assert response.status_code == 400, (rule.rule, response.status_code)
            assert CSRF_MESSAGE in text_of(response.get_data(as_text=True)), rule.rule
        # A JSON body with no token is refused the same way.
        response = partner_client.post(url, json={"body": "hello"})
        assert response.status_code == 400, rule.rule
    assert partner_client.get("/rooms").status_code == 200  # still logged in: logout was refused too


def test_state_changes_are_post_only(app: Flask) -> None:
    """No route takes PUT, PATCH or DELETE, and logging out (the classic image-tag CSRF) is POST only."""
    for rule in app.url_map.iter_rules():
        methods = rule.methods or set()
        assert not ({"PUT", "PATCH", "DELETE"} & methods), rule.rule
    assert "GET" not in (app.url_map._rules_by_endpoint["accounts.logout"][0].methods or set())


def test_logout_after_session_expired_just_logs_out(app: Flask, client: FlaskClient) -> None:
    """A stale logout form (its session and token gone) is not worth an error page."""
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/logout", data={"csrf_token": "from-a-session-that-ended"})
    assert response.status_code == 302 and "Clear-Site-Data" in response.headers


# --- what visitors can reach ----------------------------------------------------------------

def test_visitors_see_only_the_public_pages(app: Flask, client: FlaskClient, partner: Account) -> None:
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = sample_url(app, rule)
        response = client.get(url)
        checked += 1
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login"), (url, response.headers["Location"])
        else:
            assert response.status_code == 404, (url, response.status_code)
        assert "Quiet Harbor" not in response.get_data(as_text=True)
    assert checked >= 5
    for rule in post_rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS | {"accounts.logout"}:
            continue
        response = client.post(sample_url(app, rule), data={"body": "hello"})
        assert response.status_code in (302, 404), rule.rule
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login")


def test_safe_browsing_page_states_the_configured_idle_timeout(database_url: str) -> None:
    from datetime import timedelta

    from tests.conftest import make_app

    app = make_app(database_url, SESSION_IDLE_TIMEOUT=timedelta(minutes=15))
    assert "after 15 minutes without activity" in text_of(app.test_client().get("/safe-browsing").get_data(as_text=True))


# --- signed CSRF tokens, reused within a second -----------------------------------------------

def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF field on the page"
    return match.group(1)


def test_a_signed_csrf_token_is_reused_only_within_its_second_and_its_session(
        app: Flask, partner: Account, other_partner: Account, monkeypatch: Any) -> None:
    """forum.security.csrf_token hands back the token signed earlier in the same second for the
    same session (the string signing would give again); a new second is signed afresh, another
    session never gets it, and every one of them passes Flask-WTF's check."""
    app.config["WTF_CSRF_ENABLED"] = True
    clock = [1_900_000_000.25]
    monkeypatch.setattr("time.time", lambda: clock[0])

    def logged_in(account: Account) -> FlaskClient:
        http = app.test_client()
        token = _token(http.get("/login").get_data(as_text=True))
        assert http.post("/login", data={"pseudonym": account.pseudonym, "password": account.password,
                                         "csrf_token": token}).status_code == 302
        return http

    mine, theirs = logged_in(partner), logged_in(other_partner)
    first = _token(mine.get("/account/pseudonym").get_data(as_text=True))
    assert _token(mine.get("/account/pseudonym").get_data(as_text=True)) == first
    assert _token(theirs.get("/account/pseudonym").get_data(as_text=True)) != first
    clock[0] += 1
    later = _token(mine.get("/account/pseudonym").get_data(as_text=True))
    assert later != first

    for token in (first, later):
        response = mine.post("/account/pseudonym", data={"pseudonym": "x", "csrf_token": token})
        assert response.status_code == 400 and CSRF_MESSAGE not in text_of(response.get_data(as_text=True))
    response = theirs.post("/account/pseudonym", data={"pseudonym": "x", "csrf_token": first})
    assert CSRF_MESSAGE in text_of(response.get_data(as_text=True))  # another session's token is refused
