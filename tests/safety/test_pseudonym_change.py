"""Changing a pseudonym: sign-up's rules, the old one kept nowhere, a per-member rate limit."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from forum.accounts.models import Member
from forum.db import db
from tests.conftest import Account, login
from tests.safety.conftest import rows_containing, start_thread


def test_change_shows_on_old_posts_and_forgets_the_old_name(app: Flask, partner: Account,
                                                            partner_client: FlaskClient,
                                                            other_partner_client: FlaskClient) -> None:
    made = start_thread(app, partner, "Before the change", "Written under the old name.")
    response = partner_client.post("/account/pseudonym", data={"pseudonym": "Morning Tide 5"})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    html = other_partner_client.get(f"/threads/{made.thread_id}").get_data(as_text=True)
    assert "Morning Tide 5" in html and "Quiet Harbor 11" not in html
    assert rows_containing(app, "Quiet Harbor") == []
    # Log-in works with the new pseudonym only.
    assert login(app.test_client(), Account(partner.id, "Morning Tide 5", partner.password, "partner", "member", ""))
    old = app.test_client().post("/login", data={"pseudonym": "Quiet Harbor 11", "password": partner.password})
    assert old.status_code == 401


def test_same_rules_as_sign_up(app: Flask, partner: Account, other_partner: Account,
                               partner_client: FlaskClient) -> None:
    for bad, expected in (("gentle cedar 12", "taken"), ("Moderator Sam", ""), ("me@example.com", ""),
                          ("ab", "")):
        response = partner_client.post("/account/pseudonym", data={"pseudonym": bad})
        assert response.status_code == 400, bad
        assert 'class="field-error"' in response.get_data(as_text=True)
        if expected:
            assert expected in response.get_data(as_text=True).lower()
    with app.app_context():
        assert db.session.get_one(Member, partner.id).pseudonym == "Quiet Harbor 11"


def test_changes_are_rate_limited_per_member_but_mistakes_do_not_count(app: Flask, partner: Account,
                                                                       partner_client: FlaskClient) -> None:
    assert partner_client.post("/account/pseudonym", data={"pseudonym": "gentle"[:2]}).status_code == 400
    assert partner_client.post("/account/pseudonym", data={"pseudonym": "Morning Tide 5"}).status_code == 302
    assert partner_client.post("/account/pseudonym", data={"pseudonym": "Evening Tide 6"}).status_code == 302
    third = partner_client.post("/account/pseudonym", data={"pseudonym": "Night Tide 7"})
    assert third.status_code == 429
    with app.app_context():
        assert db.session.get_one(Member, partner.id).pseudonym == "Evening Tide 6"


def test_pages_seen_before_the_change_show_only_the_new_name(app: Flask, partner: Account,
                                                             partner_client: FlaskClient,
                                                             other_partner_client: FlaskClient) -> None:
    from sqlalchemy import select

    from forum.chat.models import ChatMessage
    from forum.rooms.models import Room

    made = start_thread(app, partner, "Before the change", "Written under the old name.")
    with app.app_context():
        room = db.session.scalars(select(Room).where(Room.slug == "just-found-out")).one()
        db.session.add(ChatMessage(room_id=room.id, author_id=partner.id, body="hello", body_html="hello"))
        db.session.commit()
    pages = [f"/threads/{made.thread_id}", f"/posts/{made.post_id}", "/rooms/just-found-out",
             "/rooms/just-found-out/chat"]
    for path in pages:  # seen (and possibly cached) under the old name
        assert "Quiet Harbor 11" in other_partner_client.get(path).get_data(as_text=True), path
    assert partner_client.post("/account/pseudonym", data={"pseudonym": "Morning Tide 5"}).status_code == 302
    for path in pages:
        html = other_partner_client.get(path).get_data(as_text=True)
        assert "Quiet Harbor 11" not in html and "Morning Tide 5" in html, path


def test_moderation_log_and_notices_show_only_the_new_name(app: Flask, partner: Account, moderator: Account,
                                                           partner_client: FlaskClient,
                                                           moderator_client: FlaskClient) -> None:
    made = start_thread(app, partner, "Hard night", "Words that need a warning.")
    assert moderator_client.post(f"/posts/{made.post_id}/warning", data={"content_warning": "Relapse"}).status_code == 302
    assert "Quiet Harbor 11" in moderator_client.get("/moderation/log").get_data(as_text=True)
    assert partner_client.post("/account/pseudonym", data={"pseudonym": "Morning Tide 5"}).status_code == 302
    log = moderator_client.get("/moderation/log").get_data(as_text=True)
    assert "Morning Tide 5" in log and "Quiet Harbor" not in log
    assert moderator_client.get("/moderation/log?member=Quiet+Harbor+11").get_data(as_text=True).count(
        "Relapse") == 0  # the old name finds nothing
    notices = partner_client.get("/notices").get_data(as_text=True)
    assert "Relapse" in notices and "Quiet Harbor" not in notices
    assert rows_containing(app, "Quiet Harbor") == []
