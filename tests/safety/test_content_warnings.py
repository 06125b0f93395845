"""Content warnings: warned posts show collapsed behind their warning; moderators can add,
change or remove a warning on any post, logged and told to the author."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum.accounts.models import Notice
from forum.db import db
from forum.moderation.models import ModerationLog
from forum.rooms.models import Post
from tests.conftest import Account
from tests.safety.conftest import add_reply, start_thread


def _details_for(html: str, text: str) -> str:
    end = html.index(text)
    start = html.rindex("<details", 0, end)
    return html[start:end]


def test_warned_post_is_collapsed_with_its_warning(app: Flask, partner: Account, other_partner: Account,
                                                  other_partner_client: FlaskClient) -> None:
    made = start_thread(app, partner, "Hard night", "The details of what I found.", warning="Discovery details")
    add_reply(app, partner, made.post_id, "No warning on this one.")
    html = other_partner_client.get(f"/threads/{made.thread_id}").get_data(as_text=True)
    opening = _details_for(html, "The details of what I found.")
    assert opening.startswith('<details class="content-warning">')  # closed: no "open" attribute
    assert "<summary>Content warning: Discovery details" in opening
    assert "No warning on this one." not in html[html.index("<details"):html.index("</details>")]


def test_moderator_adds_and_changes_a_warning(app: Flask, partner: Account, moderator: Account,
                                             moderator_client: FlaskClient, partner_client: FlaskClient,
                                             sent_events: list) -> None:
    made = start_thread(app, partner, "Hard night", "Something that needs a warning.")
    html = moderator_client.get(f"/threads/{made.thread_id}").get_data(as_text=True)
    assert f"/posts/{made.post_id}/warning" in html
    assert moderator_client.get(f"/posts/{made.post_id}/warning").status_code == 200

    response = moderator_client.post(f"/posts/{made.post_id}/warning", data={"content_warning": "Relapse"})
    assert response.status_code == 302
    html = partner_client.get(f"/threads/{made.thread_id}").get_data(as_text=True)
    assert "<summary>Content warning: Relapse" in _details_for(html, "Something that needs a warning.")

    moderator_client.post(f"/posts/{made.post_id}/warning", data={"content_warning": "Self-harm"})
    moderator_client.post(f"/posts/{made.post_id}/warning", data={"content_warning": ""})
    with app.app_context():
        post = db.session.get_one(Post, made.post_id)
        assert post.content_warning is None
        log = db.session.scalars(select(ModerationLog).order_by(ModerationLog.id)).all()
        warnings = [e for e in log if e.action == "set_warning"]
        assert [(e.before["content_warning"], e.reason) for e in warnings] == [
            (None, "Relapse"), ("Relapse", "Self-harm"), ("Self-harm", None)]
        assert all(e.moderator_id == moderator.id and e.item_id == made.post_id for e in warnings)
        notices = db.session.scalars(select(Notice).where(Notice.member_id == partner.id)).all()
        assert len(notices) == 2 and "Relapse" in notices[0].body
    updates = [e for e in sent_events if e.name == "post" and e.payload["op"] == "update"]
    assert len(updates) == 3 and all(e.to == f"thread:{made.thread_id}" for e in updates)


def test_members_cannot_set_warnings_on_others_posts(app: Flask, partner: Account, other_partner: Account,
                                                    other_partner_client: FlaskClient) -> None:
    made = start_thread(app, partner, "Mine", "My text.")
    assert f"/posts/{made.post_id}/warning" not in other_partner_client.get(
        f"/threads/{made.thread_id}").get_data(as_text=True)
    assert other_partner_client.get(f"/posts/{made.post_id}/warning").status_code == 404
    assert other_partner_client.post(f"/posts/{made.post_id}/warning",
                                     data={"content_warning": "Relapse"}).status_code == 404
    with app.app_context():
        assert db.session.get_one(Post, made.post_id).content_warning is None


PRESETS = ("Details of acting out", "Relapse", "Discovery details", "Self-harm")


def _warning_of(app: Flask, post_id: int) -> str | None:
    with app.app_context():
        return db.session.get_one(Post, post_id).content_warning


def test_authors_choose_a_preset_or_their_own_words_when_writing(app: Flask, partner: Account,
                                                                 partner_client: FlaskClient,
                                                                 other_partner_client: FlaskClient) -> None:
    made = start_thread(app, partner, "Hello", "An opening post.")
    for path in ("/rooms/just-found-out/new", f"/posts/{made.post_id}/reply", f"/posts/{made.post_id}/edit",
                 f"/threads/{made.thread_id}"):
        html = partner_client.get(path).get_data(as_text=True)
        assert '<datalist id="warning-suggestions">' in html, path
        assert all(f'<option value="{p}">' in html for p in PRESETS), path
        assert 'name="content_warning" type="text"' in html, path  # any words, not only a preset

    created = partner_client.post("/rooms/just-found-out/threads", data={
        "title": "Last night", "body": "What happened when I got home.", "submit_key": "cw-thread-1",
        "content_warning": "  anger and shouting  ", "confirmed": "yes"})
    assert created.status_code == 302
    thread_id = int(created.headers["Location"].rsplit("/", 1)[1])
    page = other_partner_client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "<summary>Content warning: anger and shouting" in _details_for(page, "What happened when I got home.")

    replied = partner_client.post(f"/posts/{made.post_id}/replies", data={
        "body": "It happened again.", "submit_key": "cw-reply-1", "content_warning": "Relapse", "confirmed": "yes"})
    assert replied.status_code == 302
    page = other_partner_client.get(f"/threads/{made.thread_id}").get_data(as_text=True)
    assert "<summary>Content warning: Relapse" in _details_for(page, "It happened again.")

    # Editing adds a warning to a post that had none, or takes it away again.
    assert partner_client.post(f"/posts/{made.post_id}/edit", data={
        "body": "An opening post.", "content_warning": "Discovery details", "confirmed": "yes"}).status_code == 302
    assert _warning_of(app, made.post_id) == "Discovery details"
    assert partner_client.post(f"/posts/{made.post_id}/edit", data={
        "body": "An opening post.", "content_warning": "", "confirmed": "yes"}).status_code == 302
    assert _warning_of(app, made.post_id) is None


def test_an_overlong_warning_is_explained_and_nothing_is_posted(app: Flask, partner: Account,
                                                                partner_client: FlaskClient) -> None:
    made = start_thread(app, partner, "Hello", "An opening post.")
    response = partner_client.post(f"/posts/{made.post_id}/replies", data={
        "body": "Kept for the second try.", "submit_key": "cw-long-1", "content_warning": "x" * 121})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="content_warning-error"' in html
    assert "Kept for the second try." in html  # what was typed is still there
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 1
