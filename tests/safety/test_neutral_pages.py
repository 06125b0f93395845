"""Every page is titled exactly "Haven" with a neutral icon, so a tab or a history entry never
names a room or a thread; the safe-browsing and crisis pages say what they should."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Account, make_app
from tests.safety.conftest import add_reply, start_thread

TITLE = re.compile(r"<title>(.*?)</title>", re.S)
SECRET_TITLE = "Found his second phone last night"


def _titles(html: str) -> list[str]:
    return TITLE.findall(html)


def test_every_page_title_is_haven_and_never_the_topic(app: Flask, partner: Account, partner_client: FlaskClient,
                                                      client: FlaskClient) -> None:
    made = start_thread(app, partner, SECRET_TITLE, "I can't stop shaking.")
    reply_id = add_reply(app, partner, made.post_id, "Still here.")
    member_pages = [
        "/rooms", "/rooms/just-found-out", f"/threads/{made.thread_id}", f"/posts/{made.post_id}",
        f"/posts/{reply_id}", f"/posts/{reply_id}/reply", f"/posts/{reply_id}/edit", "/rooms/just-found-out/new",
        "/account", "/account/export", "/account/delete", "/account/pseudonym", "/threads/999999",
        "/rooms/early-days",  # another path's room: a 404 page
    ]
    public_pages = ["/", "/login", "/signup", "/recover", "/guidelines", "/safe-browsing", "/crisis", "/no-such-page"]
    seen = 0
    for path, who in [(p, partner_client) for p in member_pages] + [(p, client) for p in public_pages]:
        response = who.get(path)
        html = response.get_data(as_text=True)
        assert _titles(html) == ["Haven"], (path, response.status_code, _titles(html))
        assert 'rel="icon" href="/static/favicon.svg"' in html, path
        seen += 1
    thread_html = partner_client.get(f"/threads/{made.thread_id}").get_data(as_text=True)
    assert SECRET_TITLE in thread_html  # the title is on the page, just not in <title>
    assert SECRET_TITLE not in thread_html.split("</head>")[0]
    assert seen == len(member_pages) + len(public_pages)


def test_favicon_is_a_plain_shape_without_words(client: FlaskClient) -> None:
    svg = client.get("/static/favicon.svg").get_data(as_text=True)
    assert svg.startswith("<svg") and "<text" not in svg and "<title" not in svg


def test_safe_browsing_page_covers_private_windows_history_shared_devices_and_quick_exit(client: FlaskClient) -> None:
    html = client.get("/safe-browsing").get_data(as_text=True)
    for phrase in ("private", "history", "Shared devices", "Quick exit", "Esc"):
        assert phrase in html


def test_crisis_page_shows_configured_lines_grouped_by_country(database_url: str) -> None:
    app = make_app(database_url, CRISIS_LINES=(
        "Ireland|Pieta: call 1800 247 247|tel:1800247247;"
        "Canada|Talk Suicide: call or text 988|tel:988\n"
        "Ireland|Text 50808|sms:50808;"
        "Nowhere|Not a link|javascript:alert(1);"
        "broken entry without separator"))
    html = app.test_client().get("/crisis").get_data(as_text=True)
    assert '<a href="tel:1800247247" rel="noreferrer">Pieta: call 1800 247 247</a>' in html
    assert '<a href="sms:50808" rel="noreferrer">Text 50808</a>' in html
    assert '<a href="tel:988" rel="noreferrer">Talk Suicide: call or text 988</a>' in html
    assert html.count("<strong>Ireland</strong>") == 1  # both Irish lines under one heading
    assert html.index("Ireland") < html.index("Canada")  # countries in the order configured
    assert "Not a link" in html and "javascript:" not in html
    assert "broken entry" not in html
    assert "Samaritans" not in html  # the defaults are replaced, not added to


def test_every_page_footer_links_the_crisis_page(client: FlaskClient, partner_client: FlaskClient) -> None:
    for who, path in ((client, "/"), (client, "/login"), (partner_client, "/rooms"), (partner_client, "/account")):
        assert '<a href="/crisis">Crisis resources</a>' in who.get(path).get_data(as_text=True)


def test_crisis_language_shows_help_lines_to_the_author(app: Flask, partner_client: FlaskClient) -> None:
    response = partner_client.post("/rooms/just-found-out/threads", data={
        "title": "Tonight", "body": "I want to kill myself, I can't do this any more.",
        "submit_key": "crisis-key-1", "confirmed": "yes"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="crisis-box"' in html and "Samaritans: call 116 123" in html
    assert "<p>crisis</p>" not in html  # the flash category is not shown as a message


def _page_templates() -> set[str]:
    """Every template that is a whole page (extends base.html)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "forum" / "templates"
    return {str(p.relative_to(root)) for p in root.rglob("*.html") if '{% extends "base.html" %}' in p.read_text()}


def test_every_page_template_is_neutral_and_has_the_quick_exit(app: Flask, partner: Account,
                                                               partner_client: FlaskClient,
                                                               moderator: Account, moderator_client: FlaskClient,
                                                               client: FlaskClient) -> None:
    """Renders every page template there is (the test fails when a new one is not visited here)."""
    import pyotp
    from flask import template_rendered

    from forum.accounts.models import Member
    from forum.db import db, utcnow
    from tests.conftest import login, register

    made = start_thread(app, partner, SECRET_TITLE, "I can't stop shaking.")
    reply_id = add_reply(app, partner, made.post_id, "Still here.")
    admin_client = login(app.test_client(), register(app, "Wise Willow 41", "partner", role="admin"))
    enrolled = register(app, "Bright Fern 51", "partner", role="moderator")
    with app.app_context():
        member = db.session.get_one(Member, enrolled.id)
        member.totp_secret, member.totp_confirmed_at = pyotp.random_base32(), utcnow()
        db.session.commit()
    enrolled_client = login(app.test_client(), enrolled)
    leaving = register(app, "Brief Stay 61", "partner")
    leaving_client = login(app.test_client(), leaving)

    visits: list[tuple[FlaskClient, str, str, dict[str, str] | None]] = [
        (client, "GET", p, None) for p in ("/", "/login", "/signup", "/recover", "/guidelines", "/safe-browsing",
                                           "/crisis", "/no-such-page")]
    visits += [(client, "POST", "/signup", {"pseudonym": "Fresh Dawn 71", "password": "a calm new password 7",
                                            "path": "partner", "guidelines": "yes"})]
    visits += [(partner_client, "GET", p, None) for p in (
        "/rooms", "/rooms/just-found-out", "/rooms/just-found-out/new", "/rooms/just-found-out/chat",
        f"/threads/{made.thread_id}", f"/posts/{reply_id}", f"/posts/{reply_id}/reply", f"/posts/{reply_id}/edit",
        f"/posts/{reply_id}/delete", "/account", "/account/export", "/account/delete", "/account/pseudonym",
        "/notices", f"/flags/new?item_type=post&item_id={made.post_id}", "/rooms/early-days")]
    visits += [(moderator_client, "GET", p, None) for p in (
        "/moderation", "/moderation/log", "/moderation/words", "/account/two-factor", f"/posts/{made.post_id}/warning",
        "/rooms/early-days")]
    visits += [(admin_client, "GET", "/moderation/moderators", None),
               (enrolled_client, "GET", "/account/two-factor/verify", None),
               (leaving_client, "GET", f"/posts/{reply_id}/mute-author", None),
               (leaving_client, "POST", "/account/delete", {"password": leaving.password, "posts": "keep"})]

    rendered: set[str] = set()

    def record(_sender: object, template: object, **_extra: object) -> None:
        rendered.add(str(getattr(template, "name", "")))

    template_rendered.connect(record, app)
    try:
        for who, method, path, data in visits:
            response = who.get(path) if method == "GET" else who.post(path, data=data)
            html = response.get_data(as_text=True)
            assert response.status_code in (200, 404), (path, response.status_code)
            head = html.split("</head>")[0]
            assert _titles(html) == ["Haven"], (path, _titles(html))
            assert SECRET_TITLE not in head, path
            assert 'rel="icon" href="/static/favicon.svg"' in head, path
            assert '<script src="/static/js/quick-exit.js"></script>' in head, path
            assert '<a id="quick-exit" class="quick-exit"' in html and '<a href="/crisis">Crisis resources</a>' in html, path
    finally:
        template_rendered.disconnect(record, app)
    missing = _page_templates() - rendered
    assert not missing, f"page templates not visited by this test: {sorted(missing)}"
