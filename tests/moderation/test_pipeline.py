"""The screening pipeline end to end: new members, links, crisis, and the notices authors receive."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from forum.moderation.screening import PRIORITY_CRISIS
from tests.conftest import Account
from tests.moderation.conftest import client_for, item_for, make_new, notices_of, post_status, send_chat
from tests.rooms.conftest import Made

CRISIS_TEXT = "I don't want to be alive anymore. I keep thinking about ending my life."


def _reply(client: FlaskClient, made: Made, body: str):  # type: ignore[no-untyped-def]
    return client.post(f"/threads/{made.thread_id}/replies", data={"body": body})


def _newest_post_id(app: Flask) -> int:
    from sqlalchemy import func, select

    from forum.db import db
    from forum.rooms.models import Post

    with app.app_context():
        return int(db.session.scalar(select(func.max(Post.id))) or 0)


def test_the_first_posts_of_a_new_member_are_held_until_approved(
        app: Flask, other_partner: Account, partner_thread: Made, partner_client: FlaskClient,
        moderator_client: FlaskClient) -> None:
    make_new(app, other_partner)
    newcomer = client_for(app, other_partner)
    held = []
    for n in range(app.config["NEW_MEMBER_HELD_POSTS"]):
        response = _reply(newcomer, partner_thread, f"Hello, this is my reply number {n}.")
        assert response.status_code == 302
        held.append(_newest_post_id(app))
        assert post_status(app, held[-1]) == "held"
        assert "reply number" not in partner_client.get(f"/threads/{partner_thread.thread_id}").get_data(
            as_text=True)
    for post_id in held:
        moderator_client.post(f"/moderation/items/{item_for(app, post_id).id}/approve")
    _reply(newcomer, partner_thread, "Now I am settled in.")
    assert post_status(app, _newest_post_id(app)) == "published"
    assert "Now I am settled in." in partner_client.get(f"/threads/{partner_thread.thread_id}").get_data(as_text=True)
    kinds = [n.kind for n in notices_of(app, other_partner.id)]
    assert kinds == ["held", "held", "restored", "restored"]


def test_new_members_cannot_post_links(app: Flask, other_partner: Account, partner_thread: Made) -> None:
    make_new(app, other_partner)
    before = _newest_post_id(app)
    response = _reply(client_for(app, other_partner), partner_thread, "This helped me: https://example.org/help")
    assert response.status_code == 422
    assert "share links once their first posts have been approved" in response.get_data(as_text=True)
    assert _newest_post_id(app) == before


def test_crisis_language_is_published_flagged_first_and_shows_help(
        app: Flask, other_partner_client: FlaskClient, partner_thread: Made, moderator_client: FlaskClient) -> None:
    response = _reply(other_partner_client, partner_thread, CRISIS_TEXT)
    assert response.status_code == 302
    post_id = _newest_post_id(app)
    assert post_status(app, post_id) == "published"  # never blocked
    page = other_partner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="crisis-box"' in page
    assert 'href="/crisis"' in page and "tel:988" in page  # the configured lines
    item = item_for(app, post_id)
    assert item.priority == PRIORITY_CRISIS and "crisis" in item.labels
    queue_page = moderator_client.get("/moderation").get_data(as_text=True)
    assert "Someone may be at risk" in queue_page
    # Nobody else is shown the crisis box for it.
    assert 'class="crisis-box"' not in moderator_client.get(f"/threads/{partner_thread.thread_id}").get_data(
        as_text=True)


def test_crisis_in_chat_is_queued_at_the_top(app: Flask, partner: Account) -> None:
    message_id = send_chat(app, partner, CRISIS_TEXT)
    item = item_for(app, message_id, "chat")
    assert item.priority == PRIORITY_CRISIS


def test_notices_page_lists_and_counts_unread(app: Flask, other_partner: Account, partner_thread: Made) -> None:
    make_new(app, other_partner)
    newcomer = client_for(app, other_partner)
    _reply(newcomer, partner_thread, "My very first words here.")
    rooms_page = newcomer.get("/rooms").get_data(as_text=True)
    assert 'href="/notices">Notices (1)' in rooms_page
    notices_page = newcomer.get("/notices").get_data(as_text=True)
    assert "waiting for a quick look from a moderator" in notices_page
    assert "not a judgment of you" in notices_page
    assert "Notices (" not in newcomer.get("/rooms").get_data(as_text=True)
    # Notices are private: another member's page never shows them.
    assert "waiting for a quick look" not in client_for(app, other_partner).get("/rooms").get_data(as_text=True)


def test_notices_are_only_for_their_member(app: Flask, other_partner: Account, partner_thread: Made,
                                           partner_client: FlaskClient) -> None:
    make_new(app, other_partner)
    _reply(client_for(app, other_partner), partner_thread, "Something only I should hear about.")
    assert "waiting for a quick look" not in partner_client.get("/notices").get_data(as_text=True)
    assert "You have no notices." in partner_client.get("/notices").get_data(as_text=True)


def test_visitors_have_no_notices_page(client: FlaskClient) -> None:
    response = client.get("/notices")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
